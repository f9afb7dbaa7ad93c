#ifndef NFLOG_TEST_SUPPORT_TRAFFIC_HPP
#define NFLOG_TEST_SUPPORT_TRAFFIC_HPP

#include <cstddef>
#include <cstdint>
#include <string>

namespace nflog::test {

/// A socket created inside a network namespace, so the test process can send
/// traffic there without a subprocess (and without changing its own namespace).
class namespace_socket {
public:
    namespace_socket(const std::string& netns_path, int domain, int type, int protocol = 0);
    ~namespace_socket();
    namespace_socket(const namespace_socket&) = delete;
    namespace_socket& operator=(const namespace_socket&) = delete;

    int fd() const noexcept { return fd_; }

    /// Sends `count` UDP datagrams of `size` bytes (at most 32 KiB) to `address`:`port`
    /// (IPv4 or IPv6 literal, matching the socket's domain). Returns the
    /// number the kernel accepted (a `drop` rule on output answers EPERM).
    std::size_t send_udp(const std::string& address, std::uint16_t port, std::size_t count, std::size_t size = 8) const;
    /// Sends one ICMP (or ICMPv6) echo request; the socket must be a raw
    /// IPPROTO_ICMP / IPPROTO_ICMPV6 socket.
    void send_echo_request(const std::string& address, std::uint16_t identifier) const;
    /// Starts a TCP connection (non-blocking connect: one SYN).
    void connect_tcp(const std::string& address, std::uint16_t port) const;

private:
    int fd_ = -1;
    int domain_ = 0;
};

} // namespace nflog::test

#endif
