#include "nflog/detail/netns.hpp"

#include "nflog/error.hpp"

#include <fcntl.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <new>
#include <string>
#include <system_error>
#include <thread>

namespace nflog::detail {
namespace {

boost::system::error_code from_errno(int error) { return {error, boost::system::generic_category()}; }

result<int> socket_here(int netlink_family)
{
    const int fd = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, netlink_family);
    if (fd >= 0)
        return fd;
    if (errno == EAFNOSUPPORT || errno == EPROTONOSUPPORT)
        return make_error_code(errc::nflog_unavailable);
    return from_errno(errno);
}

result<int> open_namespace(std::string_view netns)
{
    std::string path(netns);
    if (path.find('/') == std::string::npos)
        path = "/run/netns/" + path;
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0)
        return fd;
    if (errno == ENOENT || errno == ENOTDIR)
        return make_error_code(errc::namespace_not_found);
    // /proc/PID/ns/net of a process the caller may not trace, or a file it
    // may not read: the same fix as for entering, more privilege.
    if (errno == EACCES || errno == EPERM)
        return make_error_code(errc::permission_denied);
    return from_errno(errno);
}

// A thread of its own enters the namespace, so that the caller's never
// changes; when no thread can be started, that is the answer, not an
// exception: opening a socket reports every failure as a value.
result<int> socket_inside(int netlink_family, int namespace_fd) noexcept
try {
    result<int> outcome = make_error_code(errc::namespace_not_found);
    std::thread creator([&] {
        if (::setns(namespace_fd, CLONE_NEWNET) != 0) {
            // EINVAL: the descriptor is not a network namespace.
            outcome = errno == EPERM ? make_error_code(errc::permission_denied)
                                     : errno == EINVAL ? make_error_code(errc::namespace_not_found)
                                                       : from_errno(errno);
            return;
        }
        outcome = socket_here(netlink_family);
    });
    creator.join();
    return outcome;
}
catch (const std::system_error& failure) {
    return from_errno(failure.code().value());
}
catch (const std::bad_alloc&) {
    return from_errno(ENOMEM);
}

} // namespace

result<int> open_netlink_socket(int netlink_family, std::string_view netns, int netns_fd)
{
    if (netns_fd >= 0)
        return socket_inside(netlink_family, netns_fd);
    if (netns.empty())
        return socket_here(netlink_family);
    BOOST_OUTCOME_TRY(const int namespace_fd, open_namespace(netns));
    auto outcome = socket_inside(netlink_family, namespace_fd);
    ::close(namespace_fd);
    return outcome;
}

} // namespace nflog::detail
