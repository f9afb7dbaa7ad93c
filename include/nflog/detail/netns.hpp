#ifndef NFLOG_DETAIL_NETNS_HPP
#define NFLOG_DETAIL_NETNS_HPP

#include <nflog/result.hpp>

#include <string_view>

namespace nflog::detail {

/// Opens a netlink socket of `netlink_family` (non-blocking, close-on-exec)
/// inside the network namespace named by `netns` (a path, or a name under
/// /run/netns) or `netns_fd`; the caller's own namespace when both are unset.
///
/// A socket's namespace is fixed when it is created, so only creation needs
/// to happen inside: it runs on a short-lived thread that enters the
/// namespace, so no thread of the caller ever changes namespace.
/// Errors: `errc::namespace_not_found`, `errc::permission_denied` (entering
/// needs CAP_SYS_ADMIN), `errc::nflog_unavailable` (no netlink family), errno.
result<int> open_netlink_socket(int netlink_family, std::string_view netns, int netns_fd);

} // namespace nflog::detail

#endif
