#ifndef NFLOG_NETLINK_SOCKET_OPTIONS_HPP
#define NFLOG_NETLINK_SOCKET_OPTIONS_HPP

#include <boost/asio/detail/socket_option.hpp>

#include <linux/netlink.h>
#include <sys/socket.h>

namespace nflog::netlink {

/// `NETLINK_NO_ENOBUFS`: do not report receive-buffer overruns. Off by
/// default, and nflog::socket keeps it off: an overrun is lost data and must
/// be seen.
using no_enobufs = boost::asio::detail::socket_option::boolean<SOL_NETLINK, NETLINK_NO_ENOBUFS>;

/// `NETLINK_EXT_ACK`: error replies carry a text message and the offending attribute.
using ext_ack = boost::asio::detail::socket_option::boolean<SOL_NETLINK, NETLINK_EXT_ACK>;

/// `NETLINK_CAP_ACK`: error replies do not echo the whole request.
using cap_ack = boost::asio::detail::socket_option::boolean<SOL_NETLINK, NETLINK_CAP_ACK>;

/// `NETLINK_GET_STRICT_CHK`: strict checking of dump requests.
using get_strict_chk = boost::asio::detail::socket_option::boolean<SOL_NETLINK, NETLINK_GET_STRICT_CHK>;

/// `NETLINK_LISTEN_ALL_NSID`: receive multicast from every peer namespace.
using listen_all_nsid = boost::asio::detail::socket_option::boolean<SOL_NETLINK, NETLINK_LISTEN_ALL_NSID>;

/// `NETLINK_ADD_MEMBERSHIP` / `NETLINK_DROP_MEMBERSHIP`: join or leave a multicast group.
using add_membership = boost::asio::detail::socket_option::integer<SOL_NETLINK, NETLINK_ADD_MEMBERSHIP>;
using drop_membership = boost::asio::detail::socket_option::integer<SOL_NETLINK, NETLINK_DROP_MEMBERSHIP>;

/// `SO_RCVBUFFORCE`: a receive buffer size above `net.core.rmem_max`
/// (needs CAP_NET_ADMIN). The kernel doubles the value for bookkeeping.
using receive_buffer_size_force = boost::asio::detail::socket_option::integer<SOL_SOCKET, SO_RCVBUFFORCE>;

} // namespace nflog::netlink

#endif
