#ifndef NFLOG_DETAIL_RECEIVE_STATE_HPP
#define NFLOG_DETAIL_RECEIVE_STATE_HPP

#include <nflog/batch.hpp>
#include <nflog/detail/batching_controller.hpp>
#include <nflog/detail/buffer_pool.hpp>
#include <nflog/detail/bytes.hpp>
#include <nflog/detail/setup.hpp>
#include <nflog/error.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/options.hpp>
#include <nflog/stats.hpp>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <new>
#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace nflog::detail {

/// How a socket batches: adaptively within `limits`, or with the fixed
/// settings it bound with.
struct batching_setup {
    bool adaptive = false;
    batching_limits limits;
    batching_target fixed;
};

/// The setup `opts` asks for.
inline batching_setup batching_setup_for(const options& opts) noexcept
{
    return {opts.adaptive_batching, batching_limits_for(opts), {opts.queue_threshold, opts.nlbufsiz}};
}

/// Everything a socket knows besides its descriptor: buffers, counters, the
/// per-group sequence expectations and batching controllers. Not
/// thread-safe, like the socket.
class receive_state {
public:
    /// See `detail::batching_sequence_base`.
    static constexpr std::uint32_t batching_sequence_base = detail::batching_sequence_base;

    receive_state(std::size_t datagram_capacity, std::vector<std::uint16_t> groups, request_state requests,
                  const batching_setup& batching = {})
        : pool_(std::make_shared<buffer_pool>(datagram_capacity)), groups_(std::move(groups)),
          next_sequence_(groups_.size(), 0), requests_(std::move(requests)), slots_(groups_.size()),
          fixed_(batching.fixed)
    {
        for (auto& slot : slots_) {
            slot.status.adaptive = batching.adaptive;
            slot.status.queue_threshold = batching.fixed.queue_threshold;
            slot.status.nlbufsiz = batching.fixed.nlbufsiz;
            if (batching.adaptive) {
                slot.controller.emplace(batching.limits);
                slot.status.queue_threshold = slot.controller->current().queue_threshold;
                slot.status.nlbufsiz = slot.controller->current().nlbufsiz;
                // The bind request carried them, and waited for its answer.
                slot.in_force = slot.controller->current();
            }
        }
        adaptive_ = batching.adaptive && !slots_.empty();
    }

    const std::vector<std::uint16_t>& groups() const noexcept { return groups_; }
    const nflog::stats& counters() const noexcept { return counters_; }
    buffer_pool& pool() noexcept { return *pool_; }

    buffer_lease acquire() { return pool_->acquire(); }

    bool has_early_datagram() const noexcept { return !requests_.early.empty(); }
    /// Where synchronous requests keep what arrives while they wait, and
    /// their numbering.
    request_state& requests() noexcept { return requests_; }

    /// What arrived first during a synchronous request: a batch, or
    /// `errc::kernel_overrun` for an overrun met at that point (counted now,
    /// as a receive would have), or `errc::receive_out_of_memory` as
    /// `accept_received` says.
    result<batch> take_early_datagram() noexcept
    {
        const auto datagram = requests_.early.take();
        if (datagram.overrun) {
            count_overrun();
            return make_error_code(errc::kernel_overrun);
        }
        try {
            auto lease = acquire();
            const auto kept = copy_early(datagram, lease);
            return accept(std::move(lease), kept, std::max(datagram.length, kept));
        }
        catch (const std::bad_alloc&) {
            return out_of_memory();
        }
    }

    /// Counts a datagram that will never be handed out, because the socket
    /// is closing: its packets in `discarded` instead of `packets`, the rest
    /// as `accept` counts it. Returns false when memory ran out and nothing
    /// was counted.
    bool discard(buffer_lease buffer, std::size_t kept, std::size_t received) noexcept
    {
        try {
            const auto out = accept(std::move(buffer), kept, received);
            counters_.packets -= out.packet_count();
            counters_.discarded += out.packet_count();
        }
        catch (const std::bad_alloc&) {
            return false;
        }
        return true;
    }

    /// Packets so far whose sequence number was behind their group's
    /// expected one: delivered after a later datagram of their group, whose
    /// gap counted them as lost (see `basic_socket::close`).
    std::uint64_t packets_behind() const noexcept { return packets_behind_; }

    /// Takes back up to `events` of what `lost` counted: events a gap
    /// counted that a datagram received earlier delivers after all (see
    /// `basic_socket::close`). Returns how many it took back.
    std::uint64_t take_back_lost(std::uint64_t events) noexcept
    {
        const auto taken = std::min(events, counters_.lost);
        counters_.lost -= taken;
        return taken;
    }

    /// `discard` for everything synchronous requests kept; an overrun among
    /// them is counted as a receive would have. Returns false when memory ran
    /// out, with the rest left uncounted.
    bool discard_early() noexcept
    {
        while (has_early_datagram()) {
            const auto datagram = requests_.early.take();
            if (datagram.overrun) {
                ++counters_.overruns;
                continue;
            }
            buffer_lease lease;
            try {
                lease = acquire();
            }
            catch (const std::bad_alloc&) {
                return false;
            }
            const auto kept = copy_early(datagram, lease);
            if (!discard(std::move(lease), kept, std::max(datagram.length, kept)))
                return false;
        }
        return true;
    }

    /// `accept` for a socket's receive: running out of memory (the batch's
    /// elements cannot grow) is `errc::receive_out_of_memory`, not an
    /// exception. The datagram is then gone; its events show as `lost` at the
    /// next datagram of their group.
    result<batch> accept_received(buffer_lease buffer, std::size_t received) noexcept
    {
        try {
            return accept(std::move(buffer), received);
        }
        catch (const std::bad_alloc&) {
            return out_of_memory();
        }
    }

    /// Turns `received` bytes (the datagram's real length, as MSG_TRUNC
    /// reports it) in `buffer` into a batch (which parses the datagram once),
    /// counts the batch's packets, malformed messages and sequence gaps as
    /// the parse goes, and feeds the batching controllers. Throws only when
    /// the batch's element vector cannot grow.
    batch accept(buffer_lease buffer, std::size_t received)
    {
        const auto kept = std::min(received, buffer.bytes().size());
        return accept(std::move(buffer), kept, received);
    }

    /// The same for a datagram of which the first `kept` bytes are in
    /// `buffer` (`received` is larger when it was cut). A cut datagram's
    /// batch ends at its last whole message: the kernel sent the message the
    /// cut fell in whole, so it is not malformed, and `truncated()` reports
    /// it with the rest.
    batch accept(buffer_lease buffer, std::size_t kept, std::size_t received)
    {
        const bool truncated = received > kept;
        if (truncated)
            kept = whole_messages_length(buffer.bytes().first(kept));
        std::size_t packets = 0;
        std::size_t malformed = 0;
        std::uint64_t lost = 0;
        bool replies = false;
        group_run run;
        batch out(std::move(buffer), kept, layout_, [&](const result<packet_view>& item) {
            if (item.has_value()) [[likely]] {
                ++packets;
                lost += account(item.assume_value(), run);
            }
            else if (item.assume_error() == condition::malformed)
                ++malformed;
            else
                replies = true;
        });
        end_run(run);
        ++counters_.datagrams;
        if (truncated)
            ++counters_.truncated;
        counters_.packets += packets;
        counters_.malformed += malformed;
        counters_.lost += lost;
        out.set_counts(packets, malformed, lost, truncated);
        // The kernel answers each adaptive change in a datagram of its own.
        if (replies || (adaptive_ && packets == 0 && malformed == 0))
            take_replies(out.bytes());
        if (adaptive_)
            observe(out.bytes().size());
        return out;
    }

    /// Takes the kernel's drop count of the socket (see
    /// `detail::read_drop_count`) into `dropped_datagrams`; it counts from
    /// zero when the socket is made, and the difference survives its wrap.
    void note_drop_count(std::uint32_t kernel_count) noexcept
    {
        counters_.dropped_datagrams += static_cast<std::uint32_t>(kernel_count - drop_count_seen_);
        drop_count_seen_ = kernel_count;
    }

    void count_overrun() noexcept
    {
        ++counters_.overruns;
        for (auto& slot : slots_)
            if (slot.controller && slot.status.adaptive)
                propose(slot, slot.controller->overrun());
    }

    /// Batching changes are waiting to be sent.
    bool batching_pending() const noexcept { return pending_ > 0; }

    /// Hands every waiting change to `send(group, sequence, target)`, which
    /// returns whether it reached the kernel; a change that did not is
    /// proposed again by a later window.
    template <class Send>
    void send_batching(Send&& send)
    {
        for (std::size_t i = 0; i < slots_.size() && pending_ > 0; ++i) {
            auto& slot = slots_[i];
            if (!slot.pending)
                continue;
            const auto target = *slot.pending;
            slot.pending.reset();
            --pending_;
            if (!slot.status.adaptive)
                continue;
            const auto change = static_cast<std::uint32_t>(slot.status.changes % change_numbers);
            if (!send(groups_[i], batching_sequence_base + (change << 16 | static_cast<std::uint32_t>(i)), target))
                continue;
            slot.before_change[change % slot.before_change.size()] = {slot.status.queue_threshold,
                                                                       slot.status.nlbufsiz};
            slot.controller->commit(target);
            // Datagrams queued before the kernel's answer obey older settings.
            slot.in_force.reset();
            slot.status.queue_threshold = target.queue_threshold;
            slot.status.nlbufsiz = target.nlbufsiz;
            ++slot.status.changes;
        }
    }

    /// `settings` as a request to the kernel must carry them: when a
    /// threshold alone ends the adaptation of `group`, the buffer size goes
    /// back to the options' value, not the one adaptation had reached (a
    /// quiet time's page would make the kernel flush long before the
    /// threshold set). A buffer size alone keeps the threshold adaptation
    /// had reached: the options' one is its ceiling, with which every quiet
    /// event would wait for the flush timer.
    group_settings completed(std::uint16_t group, group_settings settings) const noexcept
    {
        if (batching(group).adaptive && settings.queue_threshold && !settings.nlbufsiz)
            settings.nlbufsiz = fixed_.nlbufsiz;
        return settings;
    }

    /// The application configures `group` itself from now on: adaptation
    /// stops for it, and the status shows the values it set.
    void take_over_batching(std::uint16_t group, std::optional<std::uint32_t> queue_threshold,
                            std::optional<std::uint32_t> nlbufsiz) noexcept
    {
        const auto i = slot_of(group);
        if (i >= slots_.size())
            return;
        auto& slot = slots_[i];
        if (!queue_threshold && !nlbufsiz)
            return;
        slot.status.adaptive = false;
        if (slot.pending) {
            slot.pending.reset();
            --pending_;
        }
        if (queue_threshold)
            slot.status.queue_threshold = *queue_threshold;
        if (nlbufsiz)
            slot.status.nlbufsiz = *nlbufsiz;
    }

    /// What batching told the kernel for `group` (default for an unknown group).
    batching_status batching(std::uint16_t group) const noexcept
    {
        const auto i = slot_of(group);
        return i < slots_.size() ? slots_[i].status : batching_status{};
    }

private:
    static boost::system::error_code out_of_memory() noexcept { return make_error_code(errc::receive_out_of_memory); }

    // Into a receive buffer, cut where a receive would have cut it.
    static std::size_t copy_early(const early_datagram& datagram, buffer_lease& lease) noexcept
    {
        const auto kept = std::min(datagram.bytes.size(), lease.bytes().size());
        std::memcpy(lease.bytes().data(), datagram.bytes.data(), kept);
        return kept;
    }

    // Of the first bytes of a cut datagram, the length of the whole messages
    // before the cut: the cut lies in the message whose length runs past the
    // end, or in a header of which only a part arrived. A length shorter
    // than a header is no cut but bad framing, left for the walk to report.
    static std::size_t whole_messages_length(std::span<const std::byte> bytes) noexcept
    {
        constexpr std::size_t header_size = netlink::message_view::header_size;
        std::size_t at = 0;
        while (at < bytes.size()) {
            if (bytes.size() - at < header_size)
                return at;
            const auto length = load<std::uint32_t>(bytes.data() + at);
            if (length < header_size)
                return bytes.size();
            if (length > bytes.size() - at)
                return at;
            at += align4(length);
        }
        return bytes.size();
    }

    // A change's sequence number is the base plus its group's slot in the
    // low 16 bits (groups are 16-bit and distinct) and its number among the
    // group's changes, modulo this, above them: a refusal names the change.
    static constexpr std::uint32_t change_numbers = 1u << 15;
    static_assert(batching_sequence_base + (std::uint64_t{change_numbers} << 16) <= 0x100000000ull);

    struct group_slot {
        std::optional<batching_controller> controller;
        std::optional<batching_target> pending;
        // Events and lost events of the group in the datagram being read.
        std::uint64_t window_events = 0;
        std::uint64_t window_lost = 0;
        // What the kernel acknowledged as the group's settings, while no
        // later change is on its way: only then does a datagram tell how it
        // was flushed.
        std::optional<batching_target> in_force;
        // The group's next datagram may be the buffer the kernel was filling
        // when the change came: allocated with the old size, and filled
        // under both thresholds. It is judged by the smaller of each.
        std::optional<batching_target> replaced;
        batching_status status;
        // The settings each of the last changes replaced, by change number:
        // a refused change leaves them in force. The kernel answers a change
        // while it is sent, so a refusal arrives before a handful more go out.
        std::array<batching_target, 8> before_change{};
    };

    std::size_t slot_of(std::uint16_t group) const noexcept
    {
        return static_cast<std::size_t>(std::find(groups_.begin(), groups_.end(), group) - groups_.begin());
    }

    // The packets of one group in a row, as the kernel batches them: their
    // group's expectations are kept in this local record while the run
    // lasts, and go back to the per-group tables when it ends.
    struct group_run {
        // Above every 16-bit group, so that the first packet starts a run.
        static constexpr std::uint32_t none = 0x10000;
        std::uint32_t group = none;
        // The group is one of the socket's (`slot` is valid): decided once
        // per run, not per packet.
        bool bound = false;
        std::size_t slot = 0;
        std::uint32_t expected_sequence = 0;
        std::uint64_t events = 0;
        std::uint64_t lost = 0;
    };

    // Counts one parsed packet and returns the events lost right before it.
    std::uint64_t account(const packet_view& packet, group_run& run) noexcept
    {
        if (packet.group() != run.group) [[unlikely]] {
            end_run(run);
            run.group = packet.group();
            run.slot = slot_of(packet.group());
            run.bound = run.slot < groups_.size();
            run.expected_sequence = run.bound ? next_sequence_[run.slot] : 0;
        }
        if (!run.bound) [[unlikely]]
            return 0;
        const auto gap = sequence_gap(packet.seq(), run.expected_sequence, packets_behind_);
        run.events += 1 + gap;
        run.lost += gap;
        return gap;
    }

    void end_run(group_run& run) noexcept
    {
        if (run.bound) {
            next_sequence_[run.slot] = run.expected_sequence;
            if (adaptive_) {
                slots_[run.slot].window_events += run.events;
                slots_[run.slot].window_lost += run.lost;
            }
        }
        run.events = 0;
        run.lost = 0;
    }

    // Instance sequence numbers start at 0 when the group is bound and
    // advance by one per logged packet, so every skipped value is one event
    // the kernel logged and could not deliver.
    static std::uint64_t sequence_gap(std::optional<std::uint32_t> sequence, std::uint32_t& expected,
                                      std::uint64_t& behind) noexcept
    {
        if (!sequence)
            return 0;
        const std::uint32_t gap = *sequence - expected;
        expected = *sequence + 1;
        if (gap < 0x80000000u) [[likely]]
            return gap;
        // A "negative" gap is a reordering or a rebind, never a loss.
        ++behind;
        return 0;
    }

    // One clock reading per datagram; the kernel batches per group, so a
    // datagram's bytes are shared out by event count only when it mixes groups.
    void observe(std::size_t bytes) noexcept
    {
        std::uint64_t events = 0;
        for (const auto& slot : slots_)
            events += slot.window_events;
        if (events == 0)
            return;
        const auto now = static_cast<std::uint64_t>(
            std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
                .count());
        for (auto& slot : slots_) {
            if (slot.window_events == 0)
                continue;
            const auto share = bytes * slot.window_events / events;
            if (slot.controller && slot.status.adaptive) {
                const bool waited = flushed_by_timer(slot, share);
                auto next = slot.controller->observe(now, slot.window_events, share);
                if (waited) {
                    ++slot.status.timer_flushes;
                    // Both may ask for less (a quiet window ended with this
                    // batch): the lesser wins.
                    const auto lower = slot.controller->flushed_by_timer(now, slot.window_events);
                    if (lower && (!next || lower->queue_threshold < next->queue_threshold))
                        next = lower;
                }
                propose(slot, next);
            }
            slot.replaced.reset();
            slot.window_events = 0;
            slot.window_lost = 0;
        }
    }

    // The kernel flushes a group's batch when it holds the threshold's
    // events, when the next message would not fit, or when the flush timer
    // fires. A batch short of the threshold, with no gap (dropped events
    // were sent too) and with room left for a large message (at most half
    // the buffer) was sent by the timer. Judged only with the settings in
    // force known.
    static bool flushed_by_timer(const group_slot& slot, std::uint64_t bytes) noexcept
    {
        if (!slot.in_force || slot.window_lost != 0)
            return false;
        auto threshold = slot.in_force->queue_threshold;
        auto buffer = slot.in_force->nlbufsiz;
        if (slot.replaced) {
            threshold = std::min(threshold, slot.replaced->queue_threshold);
            buffer = std::min(buffer, slot.replaced->nlbufsiz);
        }
        return threshold > 1 && slot.window_events < threshold && bytes <= buffer / 2;
    }

    void propose(group_slot& slot, std::optional<batching_target> target) noexcept
    {
        if (!target)
            return;
        if (!slot.pending)
            ++pending_;
        slot.pending = target;
    }

    // An answer among the data can only be the kernel's to an adaptive
    // change (requests that wait for an ACK collect their own answers).
    //
    // An acknowledgement of a group's latest change says that its settings
    // are in force: the kernel queued it behind every datagram flushed
    // before it took them.
    //
    // A refusal ends that group's adaptation, and the status goes back to
    // the settings the refused change would have replaced, which stay in
    // force. Changes after it were refused too, or came from before the
    // cause (a dropped CAP_NET_ADMIN, say) and were taken: either way the
    // kernel holds no later one that adaptation chose.
    void take_replies(std::span<const std::byte> datagram) noexcept
    {
        for (const auto& item : netlink::message_range(datagram)) {
            if (!item || !item.value().is_error())
                continue;
            const auto reply = netlink::parse_error(item.value());
            if (!reply || reply.value().request_sequence < batching_sequence_base)
                continue;
            const auto offset = reply.value().request_sequence - batching_sequence_base;
            const auto index = offset & 0xffffu;
            if (index >= slots_.size())
                continue;
            auto& slot = slots_[index];
            if (reply.value().error == 0) {
                if (slot.status.adaptive && slot.status.changes > 0 &&
                    offset >> 16 == static_cast<std::uint32_t>((slot.status.changes - 1) % change_numbers)) {
                    slot.in_force = batching_target{slot.status.queue_threshold, slot.status.nlbufsiz};
                    slot.replaced = slot.before_change[(offset >> 16) % slot.before_change.size()];
                }
                continue;
            }
            slot.in_force.reset();
            if (slot.status.adaptive)
                restore_before(slot, offset >> 16);
            slot.status.adaptive = false;
            slot.status.error = boost::system::error_code(reply.value().error, boost::system::generic_category());
        }
    }

    static void restore_before(group_slot& slot, std::uint32_t change) noexcept
    {
        // How many changes back the refused one was, among the numbers in use.
        const auto back = (static_cast<std::uint32_t>(slot.status.changes) - 1 - change) % change_numbers;
        if (slot.status.changes == 0 || back >= slot.before_change.size())
            return;
        const auto& kept = slot.before_change[change % slot.before_change.size()];
        slot.status.queue_threshold = kept.queue_threshold;
        slot.status.nlbufsiz = kept.nlbufsiz;
    }

    std::shared_ptr<buffer_pool> pool_;
    std::vector<std::uint16_t> groups_;
    std::vector<std::uint32_t> next_sequence_;
    request_state requests_;
    nflog::stats counters_;
    std::vector<group_slot> slots_;
    std::size_t pending_ = 0;
    bool adaptive_ = false;
    // The options' threshold and buffer size (see `completed`).
    batching_target fixed_;
    std::uint64_t packets_behind_ = 0;
    std::uint32_t drop_count_seen_ = 0;
    // Lives with the socket, so that a rule's messages reuse it also when
    // each has a datagram of its own.
    packet_layout layout_;
};

} // namespace nflog::detail

#endif
