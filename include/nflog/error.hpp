#ifndef NFLOG_ERROR_HPP
#define NFLOG_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <type_traits>

namespace nflog {

/// Errors raised by nflog-asio itself. Kernel errnos stay generic
/// `boost::system` codes; these name what the library can tell apart.
enum class errc {
    // Netlink framing: the bytes of a datagram cannot be trusted.
    short_message = 1,         ///< fewer bytes left than a netlink message header
    bad_message_length,        ///< nlmsg_len smaller than the header or past the datagram
    // Attribute framing inside one message.
    short_attribute,           ///< fewer bytes left than an attribute header
    bad_attribute_length,      ///< nla_len smaller than the header or past the message
    bad_attribute_size,        ///< a fixed-size attribute has the wrong size
    // NFLOG message content.
    short_nfgenmsg,            ///< the message is too short for its nfgenmsg header
    not_a_packet,              ///< the message is not an NFULNL_MSG_PACKET
    missing_packet_header,     ///< NFULA_PACKET_HDR is absent
    bad_error_message,         ///< an NLMSG_ERROR too short, with an impossible errno, or misstating its echoed request
    // Receive path.
    datagram_truncated,        ///< the receive buffer was smaller than the datagram (MSG_TRUNC)
    kernel_overrun,            ///< the kernel dropped a batch (ENOBUFS): events were lost
    // Setup and configuration.
    /// No CAP_NET_ADMIN in the namespace's user namespace, no CAP_SYS_ADMIN to
    /// enter the namespace, or its file may not be opened (/proc/PID/ns/net
    /// of a process the caller may not trace).
    permission_denied,
    group_busy,                ///< the group is bound by another netlink socket
    /// The kernel's answer to a second bind of a group by the same socket.
    /// `open()` refuses a duplicate group before that (`invalid_option`).
    group_already_bound,
    group_not_bound,           ///< configuring a group this socket has not bound
    nflog_unavailable,         ///< nfnetlink_log is missing (no module, no netlink, not Linux)
    namespace_not_found,       ///< the network namespace path or name does not exist, or is no network namespace
    invalid_option,            ///< an option value the kernel would ignore or reject
    no_group,                  ///< open() was asked to bind no group at all
    unexpected_reply,          ///< the kernel answered a request with something other than an ACK
    conntrack_unavailable,     ///< conntrack data was asked for, but the kernel has no nf_conntrack_netlink
    // Receive path, continued (appended: the values above stay).
    /// Memory ran out while parsing a received datagram: its events were lost
    /// (equal to the condition boost::system::errc::not_enough_memory).
    receive_out_of_memory,
    /// `configure()` was called while a receive was pending on the socket:
    /// its reads for the kernel's answer would take the receive's datagrams.
    receive_pending,
};

/// Groups of errors a caller branches on.
enum class condition {
    malformed = 1, ///< input bytes that cannot be parsed
    overrun,       ///< events were lost between the kernel and the reader
    unavailable,   ///< NFLOG cannot be used here: degrade gracefully
    permission,    ///< not allowed: missing capability, or a group owned by someone else
};

const boost::system::error_category& error_category() noexcept;
const boost::system::error_category& condition_category() noexcept;

inline boost::system::error_code make_error_code(errc e) noexcept
{
    return {static_cast<int>(e), error_category()};
}

inline boost::system::error_condition make_error_condition(condition c) noexcept
{
    return {static_cast<int>(c), condition_category()};
}

} // namespace nflog

template <>
struct boost::system::is_error_code_enum<nflog::errc> : std::true_type {};
template <>
struct boost::system::is_error_condition_enum<nflog::condition> : std::true_type {};

#endif
