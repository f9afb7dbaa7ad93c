#ifndef NFLOG_OPTIONS_HPP
#define NFLOG_OPTIONS_HPP

#include <nflog/result.hpp>

#include <linux/netfilter/nfnetlink_log.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace nflog {

/// How much of each logged packet the kernel copies.
enum class copy_mode : std::uint8_t {
    none = NFULNL_COPY_NONE,     ///< nothing is sent at all (the group is silenced)
    meta = NFULNL_COPY_META,     ///< metadata only, no payload
    packet = NFULNL_COPY_PACKET, ///< metadata and up to `copy_range` payload bytes
};

/// What `basic_socket::open` binds and how it configures the kernel.
///
/// The defaults serve a quiet watcher and a flood alike; see the README's
/// "Defaults" section for the measurements behind them.
struct options {
    /// Largest payload copy the kernel can make (0xFFFF minus an attribute header).
    static constexpr std::uint32_t max_copy_range = 0xFFFF - 4;
    /// Largest per-instance kernel batch buffer the kernel accepts.
    static constexpr std::uint32_t max_nlbufsiz = 131072;

    /// NFLOG groups to bind (the `group` of an nftables `log` statement). One
    /// socket receives all of them. At least one.
    std::vector<std::uint16_t> groups;

    copy_mode mode = copy_mode::packet;
    /// Payload bytes to copy, 1..max_copy_range. Headers up to L4 fit in 128.
    std::uint32_t copy_range = max_copy_range;

    /// Kernel batch buffer (`NFULA_CFG_NLBUFSIZ`): a page .. max_nlbufsiz.
    std::uint32_t nlbufsiz = 65536;
    /// Longest time the kernel holds a partial batch (`NFULA_CFG_TIMEOUT`,
    /// in units of 10 ms; rounded up).
    std::chrono::milliseconds flush_timeout{10};
    /// Messages per batch before the kernel flushes (`NFULA_CFG_QTHRESH`), >= 1.
    std::uint32_t queue_threshold = 32;

    /// Per-group sequence numbers: exact counts of lost events. Keep it on.
    bool sequence_numbers = true;
    /// Per-namespace sequence numbers (`NFULNL_CFG_F_SEQ_GLOBAL`).
    bool global_sequence_numbers = false;
    /// Conntrack information (`NFULNL_CFG_F_CONNTRACK`; needs nf_conntrack_netlink).
    bool conntrack = false;

    /// Socket receive buffer in bytes (SO_RCVBUFFORCE when permitted, else
    /// SO_RCVBUF, capped by net.core.rmem_max). 0 keeps the system default.
    std::size_t receive_buffer_size = 8u << 20;

    /// Network namespace to open the socket in: a path (/run/netns/NAME,
    /// /proc/PID/ns/net) or a bare name looked up in /run/netns. Empty: the
    /// caller's namespace. The calling thread's namespace is never changed.
    std::string netns;
    /// Alternatively, an open namespace file descriptor (not taken over); -1: unused.
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

/// Checks `opts` the way the kernel would, including the values it would ACK
/// and silently ignore. `errc::no_group` or `errc::invalid_option`.
result<void> validate(const options& opts) noexcept;

/// The same checks for run-time settings.
result<void> validate(const group_settings& settings) noexcept;

/// Bytes of one receive buffer: the largest datagram the kernel can send
/// with these options (it may exceed nlbufsiz: the kernel rounds allocations up).
std::size_t datagram_capacity(const options& opts) noexcept;

} // namespace nflog

#endif
