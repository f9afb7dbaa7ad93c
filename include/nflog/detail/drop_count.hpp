#ifndef NFLOG_DETAIL_DROP_COUNT_HPP
#define NFLOG_DETAIL_DROP_COUNT_HPP

#include <cstdint>
#include <optional>

namespace nflog::detail {

/// The kernel's count of datagrams it dropped for the socket `fd` because
/// its receive buffer was full (`SK_MEMINFO_DROPS` of `SO_MEMINFO`).
/// Unlike ENOBUFS, which the kernel reports once per congestion, it counts
/// every dropped datagram at once. A 32-bit counter that wraps; nothing
/// when the kernel does not tell.
std::optional<std::uint32_t> read_drop_count(int fd) noexcept;

} // namespace nflog::detail

#endif
