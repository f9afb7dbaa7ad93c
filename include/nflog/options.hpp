#ifndef NFLOG_OPTIONS_HPP
#define NFLOG_OPTIONS_HPP

#include <nflog/result.hpp>

#include <boost/system/error_code.hpp>

#include <linux/netfilter/nfnetlink_log.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nflog {

/// How much of each logged packet the kernel copies.
enum class copy_mode : std::uint8_t {
    none = NFULNL_COPY_NONE,     ///< as `meta`: the kernel treats both alike (it silences no group)
    meta = NFULNL_COPY_META,     ///< metadata only, no payload
    packet = NFULNL_COPY_PACKET, ///< metadata and up to `copy_range` payload bytes
};

/// What `basic_socket::open` binds and how it configures the kernel.
///
/// @par Batching
/// The kernel gathers a group's events into one datagram until
/// `queue_threshold` events are queued, the batch buffer (`nlbufsiz`) is
/// full, or the flush timer (`flush_timeout`, counted in jiffies) fires. A
/// reader pays mostly per datagram — a system call and, when it had caught
/// up, a wake-up — so large batches are cheap to read, but the first event
/// of a batch waits for the rest, and for the timer when the traffic pauses:
/// at least a jiffy (4 ms at HZ=250), far more than a watcher wants.
///
/// So by default (`adaptive_batching`) the socket measures each group's
/// event rate as it receives and retunes the kernel to it, from inside the
/// receive path and without waiting for an answer (receiving never blocks).
/// The answer arrives among the data, in a datagram of its own that is
/// counted in `stats::datagrams`: an acknowledgement tells from which
/// datagram on the change is in force and is never handed out; a refusal
/// stops the adaptation (see `basic_socket::batching`) and is handed out as
/// an error element (its errno), so that a reader sees it. The kernel
/// checks CAP_NET_ADMIN at each change: a process that drops it after
/// `open` gets its changes refused, and the group keeps the settings it
/// had. Up to `batching_rate` events per second every
/// event has its own datagram; above it a batch holds (rate /
/// batching_rate)^4 events, rounded down to a power of two, at most what
/// fills in `batching_delay` and at most `queue_threshold`, with `nlbufsiz`
/// (at most the option's value) sized to hold it: 1 below about 69k
/// events/s, 8 at 100k, 128 at 200k, 2048 from about 390k (a rate must
/// pass a level's edge by 15 % to change it, so jitter does not make the
/// batches flap). A batch of L events is taken only once the busy spell
/// (the time since the rate last fell below about 69k events/s, counted
/// in windows of 20 ms) has brought 128 L events: traffic can stop at any
/// moment, and the last partial batch then waits for the flush timer, so
/// at most one in 128 events of a spell waits. A burst of 1000 after a
/// quiet spell reaches 4 events per datagram, a flood 2048 after about
/// 262,000 events. Bursts with less than a window of quiet between them
/// count as one spell, and there the last partial batch of every burst
/// waits for the timer. The socket sees those batches: once the kernel
/// has acknowledged a change, the threshold in force is known, and a batch
/// short of it, with no sequence gap and room left in its buffer, was sent
/// by the timer (`batching_status::timer_flushes`). When their events pass
/// one in 256 of the spell's, the level halves and the spell starts over.
/// 3000 events every 25 ms get batches of about 22 and a p99 of about
/// 4 ms (11 ms before the socket told these batches apart), for 0.4 to
/// 0.7 us of reader CPU per event; a fixed threshold of 1 gives 0.5 to
/// 1.5 ms for about 3 us: where such traffic must be seen at once, turn
/// adaptation off.
/// Batches grow within milliseconds once earned (an
/// overrun raises them to the ceiling at once, unless `batching_delay` is
/// 0), and shrink once the rate has stayed low
/// for 50 ms; right after a flood stops, the first events wait for the
/// flush timer until the socket has seen the lower rate.
/// A rule's own threshold (nftables `log group N queue-threshold Q`,
/// iptables `--nflog-threshold Q`) takes the place of the socket's when it
/// is lower, and the socket cannot see it: once the socket's is well above
/// Q, the rule's batches of Q look timer-sent, and the halving keeps the
/// socket's threshold within a few times Q (the kernel sends that rule's
/// events Q at a time anyway). Other rules of the same group then get
/// batches that small too; leave the rule's threshold unset where a socket
/// adapts.
///
/// Measured with scripts/bench-load (2 cores, see bench/README.md, "End to end"
/// section): one event per datagram costs about 5 us of reader CPU per event
/// and keeps p99 latency in the tens of microseconds at 1k-10k events/s;
/// at a flood the adaptive default reads hundreds of events per datagram
/// at 40 to 100 ns per event (a tenth to two fifths of
/// libnetfilter_log with its defaults, depending on the machine) and loses
/// nothing with the default receive buffer, where qthresh 1 falls behind
/// the senders. A fixed
/// qthresh of 32 with a 10 ms timer costs four times as much at a flood and
/// makes rare events wait 4-16 ms.
///
/// With `adaptive_batching = false`, `queue_threshold` and `nlbufsiz` are
/// sent once at bind and kept: choose them yourself (1 for the lowest
/// latency, hundreds for the least CPU). `basic_socket::configure` that sets
/// either of them also ends the adaptation for that group (a threshold set
/// alone comes with `nlbufsiz` from these options; a buffer size set alone
/// keeps the threshold adaptation had reached: set both to choose).
struct options {
    /// Largest payload copy the kernel can make (0xFFFF minus an attribute header).
    static constexpr std::uint32_t max_copy_range = 0xFFFF - 4;
    /// Largest per-instance kernel batch buffer the kernel accepts.
    static constexpr std::uint32_t max_nlbufsiz = 131072;
    /// Longest flush timeout that sets the timer it says (about 11.9 hours).
    /// The kernel turns the hundredths into jiffies in 32 bits
    /// (hundredths * HZ / 100): beyond this, at HZ=1000, the product wraps
    /// and the timer fires after an arbitrary shorter time.
    static constexpr std::chrono::milliseconds max_flush_timeout{42'949'670};

    /// NFLOG groups to bind (the `group` of an nftables `log` statement). One
    /// socket receives all of them. At least one, none twice (a duplicate is
    /// `errc::invalid_option`).
    std::vector<std::uint16_t> groups;

    copy_mode mode = copy_mode::packet;
    /// Payload bytes to copy, 1..max_copy_range. Headers up to L4 fit in 128.
    std::uint32_t copy_range = max_copy_range;

    /// Kernel batch buffer (`NFULA_CFG_NLBUFSIZ`): a page .. max_nlbufsiz.
    /// With `adaptive_batching`, the largest the socket will choose.
    std::uint32_t nlbufsiz = max_nlbufsiz;
    /// Longest time the kernel holds a partial batch (`NFULA_CFG_TIMEOUT`,
    /// in units of 10 ms; rounded up; 0 = at the next jiffy), at most
    /// `max_flush_timeout`.
    std::chrono::milliseconds flush_timeout{10};
    /// Messages per batch before the kernel flushes (`NFULA_CFG_QTHRESH`), >= 1.
    /// With `adaptive_batching`, the largest the socket will choose.
    std::uint32_t queue_threshold = 2048;

    /// Retune each group's batching to its event rate (see "Batching" above).
    bool adaptive_batching = true;
    /// With `adaptive_batching`: events per second below which every event
    /// has its own datagram; above it a batch holds (rate / batching_rate)^4
    /// events. At least 1.
    std::uint32_t batching_rate = 50000;
    /// With `adaptive_batching`: the longest a batch may take to fill at the
    /// measured rate, 0 .. 1 s (0: one event per datagram).
    std::chrono::microseconds batching_delay{8000};

    /// Per-group sequence numbers: exact counts of lost events. Keep it on.
    bool sequence_numbers = true;
    /// Per-namespace sequence numbers (`NFULNL_CFG_F_SEQ_GLOBAL`), shown in
    /// `packet_view::seq_global()`. Their gaps are not counted as losses:
    /// every NFLOG group of the namespace draws from that sequence, also
    /// groups of other sockets.
    bool global_sequence_numbers = false;
    /// Conntrack information (`NFULNL_CFG_F_CONNTRACK`; needs nf_conntrack_netlink).
    bool conntrack = false;

    /// Socket receive buffer in bytes (SO_RCVBUFFORCE when permitted, else
    /// SO_RCVBUF, capped by net.core.rmem_max). 0 keeps the system default.
    std::size_t receive_buffer_size = 8u << 20;

    /// Network namespace to open the socket in: a path (/run/netns/NAME,
    /// /proc/PID/ns/net) or a bare name looked up in /run/netns. Empty: the
    /// caller's namespace. The calling thread's namespace is never changed.
    /// The socket keeps its namespace alive: `ip netns delete`, or the exit
    /// of the namespace's last process, ends no receive and reports nothing
    /// (a process still inside keeps logging). Watch the namespace itself to
    /// notice it is gone.
    std::string netns;
    /// Alternatively, an open namespace file descriptor (not taken over); -1:
    /// unused; any other negative value is `errc::invalid_option`.
    int netns_fd = -1;
};

/// Settings of one bound group that may change at run time; unset fields keep
/// their current value.
struct group_settings {
    std::optional<copy_mode> mode;
    std::uint32_t copy_range = options::max_copy_range; ///< with `mode`
    std::optional<std::uint32_t> nlbufsiz;
    std::optional<std::chrono::milliseconds> flush_timeout;
    std::optional<std::uint32_t> queue_threshold;
};

/// What a socket has told the kernel about one group's batching.
struct batching_status {
    /// Still adapting: false with `adaptive_batching = false`, after
    /// `configure` set the threshold or buffer, or after the kernel refused a change.
    bool adaptive = false;
    /// As last sent; after a refused change, what that change would have
    /// replaced, which stays in force.
    std::uint32_t queue_threshold = 0;
    std::uint32_t nlbufsiz = 0;        ///< as `queue_threshold`
    std::uint64_t changes = 0;         ///< adaptive changes sent since open, a refused one included
    /// Datagrams the kernel's flush timer sent before they held
    /// `queue_threshold` events, while adapting: their events waited up to
    /// the flush timeout. Counted only once the kernel acknowledged the
    /// latest change, when the threshold in force is known.
    std::uint64_t timer_flushes = 0;
    /// The kernel's answer to a refused change (it arrives among the data).
    boost::system::error_code error;
};

/// Checks `opts` the way the kernel would, including the values it would ACK
/// and silently ignore. `errc::no_group` or `errc::invalid_option`.
result<void> validate(const options& opts) noexcept;

/// The same checks for run-time settings.
result<void> validate(const group_settings& settings) noexcept;

/// Why `validate` says `errc::invalid_option`: the first field that is out
/// of range and what it takes (`open` and `configure` put it in their
/// `diagnostic`); empty when the values are valid.
std::string_view invalid_option_reason(const options& opts) noexcept;
std::string_view invalid_option_reason(const group_settings& settings) noexcept;

/// Bytes of one receive buffer: the largest datagram the kernel can send
/// with these options (it may exceed nlbufsiz: the kernel rounds allocations up).
std::size_t datagram_capacity(const options& opts) noexcept;

/// The same for datagrams the kernel sends once `settings` are in force:
/// `socket::configure` grows the socket's buffers to it. Fields left unset
/// ask for nothing beyond what the socket already had.
std::size_t datagram_capacity(const group_settings& settings) noexcept;

} // namespace nflog

#endif
