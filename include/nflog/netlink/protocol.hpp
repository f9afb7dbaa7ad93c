#ifndef NFLOG_NETLINK_PROTOCOL_HPP
#define NFLOG_NETLINK_PROTOCOL_HPP

#include <nflog/detail/config.hpp>

#include <boost/asio/basic_raw_socket.hpp>
#include <boost/asio/detail/socket_types.hpp>

#include <linux/netlink.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace nflog::netlink {

class endpoint;

/// An Asio Protocol for netlink sockets of one netlink family
/// (`NETLINK_NETFILTER`, `NETLINK_ROUTE`, ...), used with
/// `net::basic_raw_socket`. Named like Asio's `generic::raw_protocol`: the
/// Protocol requirements need a `protocol()` member, which a class named
/// `protocol` could not have.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: safe.
class raw_protocol {
public:
    using endpoint = netlink::endpoint;
    using socket = net::basic_raw_socket<raw_protocol>;

    constexpr explicit raw_protocol(int netlink_family) noexcept : netlink_family_(netlink_family) {}

    static constexpr raw_protocol netfilter() noexcept { return raw_protocol(NETLINK_NETFILTER); }
    static constexpr raw_protocol route() noexcept { return raw_protocol(NETLINK_ROUTE); }

    constexpr int family() const noexcept { return AF_NETLINK; }
    constexpr int type() const noexcept { return SOCK_RAW; }
    /// Asio's name for the third argument of socket(2): the netlink family.
    constexpr int protocol() const noexcept { return netlink_family_; }

    friend constexpr bool operator==(const raw_protocol& a, const raw_protocol& b) noexcept
    {
        return a.netlink_family_ == b.netlink_family_;
    }

private:
    int netlink_family_;
};

/// A netlink address (`sockaddr_nl`): a port id and a multicast group mask.
/// It remembers its protocol, so that `socket.open(endpoint.protocol())` and
/// the socket constructors taking an endpoint open the right netlink family.
/// An endpoint the kernel fills in (`local_endpoint`, `receive_from`) keeps
/// the protocol it was constructed with: `sockaddr_nl` has no field for it.
class endpoint {
public:
    using protocol_type = raw_protocol;
    using data_type = boost::asio::detail::socket_addr_type;

    /// Port id 0 lets the kernel assign a unique one when binding. Never use
    /// getpid(): a second netlink socket in the process would collide with it.
    explicit endpoint(protocol_type protocol = protocol_type::netfilter(), std::uint32_t port_id = 0,
                      std::uint32_t groups = 0) noexcept
        : protocol_(protocol)
    {
        std::memset(&address_, 0, sizeof address_);
        address_.nl_family = AF_NETLINK;
        address_.nl_pid = port_id;
        address_.nl_groups = groups;
    }

    protocol_type protocol() const noexcept { return protocol_; }
    std::uint32_t port_id() const noexcept { return address_.nl_pid; }
    std::uint32_t groups() const noexcept { return address_.nl_groups; }

    data_type* data() noexcept { return reinterpret_cast<data_type*>(&address_); }
    const data_type* data() const noexcept { return reinterpret_cast<const data_type*>(&address_); }
    std::size_t size() const noexcept { return sizeof address_; }
    std::size_t capacity() const noexcept { return sizeof address_; }

    /// Called by Asio with the length the kernel filled in: more than a
    /// `sockaddr_nl` is an error, as for Asio's own endpoints; the kernel
    /// always fills in a whole one.
    void resize(std::size_t new_size)
    {
        if (new_size > sizeof address_) {
            boost::system::error_code ec(EINVAL, boost::system::generic_category());
            boost::asio::detail::throw_error(ec);
        }
    }

    friend bool operator==(const endpoint& a, const endpoint& b) noexcept
    {
        return a.protocol_ == b.protocol_ && a.address_.nl_pid == b.address_.nl_pid &&
               a.address_.nl_groups == b.address_.nl_groups;
    }

private:
    protocol_type protocol_;
    sockaddr_nl address_;
};

} // namespace nflog::netlink

#endif
