#ifndef NFLOG_DETAIL_BATCHING_CONTROLLER_HPP
#define NFLOG_DETAIL_BATCHING_CONTROLLER_HPP

#include <algorithm>
#include <bit>
#include <cstdint>
#include <optional>

namespace nflog {
struct options;
}

namespace nflog::detail {

/// The two kernel settings adaptive batching chooses for one group.
struct batching_target {
    std::uint32_t queue_threshold = 1; ///< NFULA_CFG_QTHRESH
    std::uint32_t nlbufsiz = 4096;     ///< NFULA_CFG_NLBUFSIZ
    friend bool operator==(const batching_target&, const batching_target&) = default;
};

/// The bounds and pace of a `batching_controller`.
struct batching_limits {
    std::uint32_t max_queue_threshold = 2048;
    std::uint32_t min_nlbufsiz = 4096;
    std::uint32_t max_nlbufsiz = 131072;
    /// Below this many events per second every event has its own datagram;
    /// above it a batch holds (rate / batching_rate)^4 events.
    double batching_rate = 50'000;
    /// The longest a batch may take to fill at the measured rate.
    std::uint64_t delay_ns = 8'000'000;
    /// Span a rate is measured over: long enough that a burst (a sender
    /// catching up after it was descheduled) does not read as a flood.
    std::uint64_t window_ns = 20'000'000;
    /// A window that holds this many events closes early when they ask for
    /// larger batches, so a flood is met within a few milliseconds instead of
    /// a whole window (one-event datagrams are the most expensive to read).
    std::uint64_t early_events = 256;
    /// The shortest span an early window's rate is counted over, so that
    /// events the reader drains back to back do not read as infinitely fast.
    std::uint64_t early_span_ns = 2'000'000;
    /// How far the rate must pass a level's edge before the level changes
    /// (0.15: 15 %), so that a rate jittering around an edge does not make
    /// the batches flap.
    double rate_margin = 0.15;
    /// How long the rate must stay low before batches shrink. Growing is
    /// immediate; shrinking waits, because a reader that was descheduled sees
    /// a gap followed by a burst, and must not mistake the gap for quiet.
    std::uint64_t shrink_after_ns = 50'000'000;
    /// From this level on, batches shrink only when the rate asks for a
    /// quarter of the level or less: large batches are for floods, whose
    /// rate jitters, and every needless step costs full batches.
    std::uint32_t steady_level = 64;
    /// Growth takes a level L only once the busy spell (the windows in a
    /// row whose rate asked for batches of 2 or more) has brought
    /// `spell_events_per_level` times L events; an overrun still raises at
    /// once. Traffic may stop at any moment, and the last partial batch (up
    /// to L - 1 events) then waits for the kernel's flush timer: this keeps
    /// those events under one in `spell_events_per_level` of a spell (with
    /// 128, out of its p99). Bursts that follow each other too closely for
    /// a quiet window between them are one spell, and the budget is then
    /// kept by counting the events the timer sent (`flushed_by_timer`).
    /// 0: every level is earned at once.
    std::uint64_t spell_events_per_level = 128;
};

/// Chooses a group's qthresh and nlbufsiz from the event rate a reader
/// observes: one event per datagram while events are rare enough that
/// reading them one by one is affordable (none waits for the kernel's flush
/// timer, nor for the next event), hundreds per datagram in a flood (one
/// system call and one wake-up for all of them).
///
/// Pure: observations in (a clock reading and what arrived), settings out.
/// The caller sends the settings to the kernel and confirms with `commit`;
/// until it does, the controller keeps believing the previous settings.
///
/// The rate r is measured over windows of `window_ns`, each closed by the
/// first arrival after that span (or earlier, to grow, after
/// `early_events`). The level for r is (r / batching_rate)^4, at most
/// r * delay, rounded down to a power of two, between 1 and the ceiling:
/// with the defaults 1 up to 59k events/s, 16 at 100k, 256 at 200k, 2048
/// from about 340k. Growth needs r to pass a level's edge by
/// `rate_margin` and a busy spell long enough to earn the level
/// (`spell_events_per_level`), and is then immediate; shrinking needs r
/// below the edge by the same margin for `shrink_after_ns`, and from
/// `steady_level` on a drop to a quarter of the level. The steep curve
/// keeps every event on its own where latency is what a watcher wants, and
/// makes batches large as soon as reading cost is what matters: the
/// reader's datagram rate, r / level, falls with the cube of r above
/// `batching_rate`. nlbufsiz follows the level, with room for that many
/// events of the average size seen, so the batch is flushed by count, not
/// by space.
class batching_controller {
public:
    explicit batching_controller(const batching_limits& limits) noexcept : limits_(sanitized(limits))
    {
        current_ = target_for(1);
    }

    const batching_limits& limits() const noexcept { return limits_; }

    /// What the kernel was told last (initially the settings for one event per batch).
    const batching_target& current() const noexcept { return current_; }

    /// The settings to bind with: quiet until the first window says otherwise.
    batching_target initial() const noexcept { return target_for(1); }

    /// The level a steady rate of `events_per_second` asks for, margins aside.
    std::uint32_t level(double events_per_second) const noexcept
    {
        const double relative = events_per_second / limits_.batching_rate;
        const double squared = relative * relative;
        const double wanted =
            std::min(squared * squared, events_per_second * static_cast<double>(limits_.delay_ns) / 1e9);
        const double capped = std::clamp(wanted, 1.0, static_cast<double>(limits_.max_queue_threshold));
        return static_cast<std::uint32_t>(std::bit_floor(static_cast<std::uint64_t>(capped)));
    }

    /// One datagram arrived at `now_ns` holding `events` events of this group
    /// (delivered plus those sequence numbers show were lost) in `bytes`
    /// bytes. Returns new settings when they should change.
    std::optional<batching_target> observe(std::uint64_t now_ns, std::uint64_t events, std::uint64_t bytes) noexcept
    {
        if (!started_) {
            started_ = true;
            window_start_ns_ = now_ns;
        }
        window_events_ += events;
        window_bytes_ += bytes;
        const auto begun = window_start_ns_;
        const auto elapsed = now_ns > begun ? now_ns - begun : 0;
        const bool early = elapsed < limits_.window_ns;
        const auto span = early ? std::max(elapsed, limits_.early_span_ns) : elapsed;
        const double rate = static_cast<double>(window_events_) * 1e9 / static_cast<double>(span);
        // Early only to grow.
        if (early && (window_events_ < limits_.early_events ||
                      std::min(grown(rate), earned(spell_events_ + window_events_)) <= current_.queue_threshold))
            return std::nullopt;
        if (window_events_ > 0)
            bytes_per_event_ = std::max<std::uint64_t>(1, window_bytes_ / window_events_);
        const auto closed_events = window_events_;
        window_start_ns_ = now_ns;
        window_events_ = 0;
        window_bytes_ = 0;
        return decide(rate, closed_events, begun, now_ns);
    }

    /// The kernel dropped batches because the receive buffer was full: the
    /// reader is behind, and the largest batches are the cheapest to read.
    /// A delay of 0 asked for one event per datagram whatever it costs, and
    /// keeps it.
    std::optional<batching_target> overrun() noexcept
    {
        shrinking_since_.reset();
        const auto top = target_for(limits_.delay_ns == 0 ? 1 : limits_.max_queue_threshold);
        if (top == current_)
            return std::nullopt;
        return top;
    }

    /// The kernel's flush timer sent a batch of `events` events of this group
    /// before it filled: they waited. The spell's budget for waiting events
    /// is one in `spell_events_per_level` of its events (see there). Bursts
    /// that follow each other too closely for a quiet window between them
    /// overdraw it: the last partial batch of each waits, and the spell goes
    /// on earning larger batches. The events the timer sent are held to half
    /// the earning rule's share, one in `2 * spell_events_per_level`, so that
    /// together with the delays any batch brings they stay out of the p99.
    /// When the spell overdraws that, the level halves and the spell starts
    /// over: the level stays, and growing beyond it needs a spell that earns
    /// twice as much (`spell_events_per_level`). A flood whose sender paused
    /// a moment stays within the budget. Returns the settings for the lower
    /// level when the budget is overdrawn.
    std::optional<batching_target> flushed_by_timer(std::uint64_t now_ns, std::uint64_t events) noexcept
    {
        waited_events_ += events;
        const auto per_level = limits_.spell_events_per_level;
        if (per_level == 0 || 2 * waited_events_ * per_level <= spell_events_ + window_events_)
            return std::nullopt;
        const auto lower = std::max<std::uint32_t>(1, current_.queue_threshold / 2);
        spell_events_ = 0;
        waited_events_ = 0;
        // The window's events are in the spell that overdrew: they must not
        // earn the level back when it closes.
        started_ = true;
        window_start_ns_ = now_ns;
        window_events_ = 0;
        window_bytes_ = 0;
        shrinking_since_.reset();
        const auto target = target_for(lower);
        if (target == current_)
            return std::nullopt;
        return target;
    }

    /// `target` reached the kernel.
    void commit(const batching_target& target) noexcept { current_ = target; }

private:
    static batching_limits sanitized(batching_limits limits) noexcept
    {
        limits.max_queue_threshold = std::max<std::uint32_t>(1, limits.max_queue_threshold);
        limits.max_nlbufsiz = std::max(limits.min_nlbufsiz, limits.max_nlbufsiz);
        limits.window_ns = std::max<std::uint64_t>(1, limits.window_ns);
        limits.early_events = std::max<std::uint64_t>(1, limits.early_events);
        limits.early_span_ns = std::max<std::uint64_t>(1, limits.early_span_ns);
        // A rate of zero would ask for infinite batches; a NaN, for none.
        if (!(limits.batching_rate > 0))
            limits.batching_rate = 1;
        if (!(limits.rate_margin >= 0))
            limits.rate_margin = 0;
        return limits;
    }

    // The level to grow to: the rate must clear the edge by the margin.
    std::uint32_t grown(double rate) const noexcept { return level(rate / (1 + limits_.rate_margin)); }
    // The level to shrink to: the rate must stay under the edge by the margin.
    std::uint32_t shrunk(double rate) const noexcept { return level(rate * (1 + limits_.rate_margin)); }

    // The largest level a busy spell of `events` events has earned.
    std::uint32_t earned(std::uint64_t events) const noexcept
    {
        if (limits_.spell_events_per_level == 0)
            return limits_.max_queue_threshold;
        const auto levels = std::clamp<std::uint64_t>(events / limits_.spell_events_per_level, 1,
                                                      limits_.max_queue_threshold);
        return static_cast<std::uint32_t>(std::bit_floor(levels));
    }

    std::optional<batching_target> decide(double rate, std::uint64_t window_events, std::uint64_t window_begun,
                                          std::uint64_t now_ns) noexcept
    {
        const auto wanted = grown(rate);
        spell_events_ = wanted > 1 ? spell_events_ + window_events : 0;
        if (spell_events_ == 0)
            waited_events_ = 0;
        const auto have = current_.queue_threshold;
        if (const auto up = std::min(wanted, earned(spell_events_)); up > have) {
            shrinking_since_.reset();
            return target_for(up);
        }
        const auto down = shrunk(rate);
        const bool worth_it = have < limits_.steady_level ? down < have : down <= have / 4;
        if (!worth_it) {
            shrinking_since_.reset();
            // Packets grew: make room, or the kernel flushes on space early.
            const auto roomier = target_for(have);
            if (roomier.nlbufsiz > current_.nlbufsiz)
                return roomier;
            return std::nullopt;
        }
        if (!shrinking_since_)
            shrinking_since_ = window_begun;
        if (now_ns - *shrinking_since_ < limits_.shrink_after_ns)
            return std::nullopt;
        // To what the latest window asks: should that undershoot, the next
        // window grows again at once.
        shrinking_since_.reset();
        return target_for(down);
    }

    batching_target target_for(std::uint32_t queue_threshold) const noexcept
    {
        // Room for the batch at the average size seen, plus a quarter for
        // larger packets: the kernel then flushes on count, not on space.
        const auto room = std::uint64_t{queue_threshold} * bytes_per_event_ * 5 / 4;
        const auto size = std::clamp<std::uint64_t>(std::bit_ceil(std::max<std::uint64_t>(room, 1)),
                                                    limits_.min_nlbufsiz, limits_.max_nlbufsiz);
        return {queue_threshold, static_cast<std::uint32_t>(size)};
    }

    batching_limits limits_;
    batching_target current_;
    bool started_ = false;
    std::uint64_t window_start_ns_ = 0;
    std::uint64_t window_events_ = 0;
    std::uint64_t window_bytes_ = 0;
    // A guess until the first window: a small packet with its metadata.
    std::uint64_t bytes_per_event_ = 256;
    std::optional<std::uint64_t> shrinking_since_;
    // Events of the windows in a row whose rate asked for batches.
    std::uint64_t spell_events_ = 0;
    // Of those, the events the flush timer sent (see `flushed_by_timer`).
    std::uint64_t waited_events_ = 0;
};

/// The limits `opts` asks for (defined with the options).
batching_limits batching_limits_for(const options& opts) noexcept;

} // namespace nflog::detail

#endif
