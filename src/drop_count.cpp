#include <nflog/detail/drop_count.hpp>

#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <array>

namespace nflog::detail {

std::optional<std::uint32_t> read_drop_count(int fd) noexcept
{
    std::array<std::uint32_t, SK_MEMINFO_VARS> meminfo{};
    socklen_t size = sizeof meminfo;
    if (::getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo.data(), &size) != 0 ||
        size < (SK_MEMINFO_DROPS + 1) * sizeof(std::uint32_t))
        return std::nullopt;
    return meminfo[SK_MEMINFO_DROPS];
}

} // namespace nflog::detail
