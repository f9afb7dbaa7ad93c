#include "support/traffic.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <thread>
#include <algorithm>
#include <array>

namespace nflog::test {
namespace {

socklen_t fill_address(int domain, const std::string& address, std::uint16_t port, sockaddr_storage& out)
{
    std::memset(&out, 0, sizeof out);
    if (domain == AF_INET6) {
        auto& v6 = reinterpret_cast<sockaddr_in6&>(out);
        v6.sin6_family = AF_INET6;
        v6.sin6_port = htons(port);
        EXPECT_EQ(::inet_pton(AF_INET6, address.c_str(), &v6.sin6_addr), 1) << address;
        return sizeof v6;
    }
    auto& v4 = reinterpret_cast<sockaddr_in&>(out);
    v4.sin_family = AF_INET;
    v4.sin_port = htons(port);
    EXPECT_EQ(::inet_pton(AF_INET, address.c_str(), &v4.sin_addr), 1) << address;
    return sizeof v4;
}

} // namespace

namespace_socket::namespace_socket(const std::string& netns_path, int domain, int type, int protocol) : domain_(domain)
{
    const int ns = ::open(netns_path.c_str(), O_RDONLY | O_CLOEXEC);
    EXPECT_GE(ns, 0) << netns_path << ": " << std::strerror(errno);
    if (ns < 0)
        return;
    std::thread creator([&] {
        if (::setns(ns, CLONE_NEWNET) == 0)
            fd_ = ::socket(domain, type | SOCK_CLOEXEC, protocol);
    });
    creator.join();
    ::close(ns);
    EXPECT_GE(fd_, 0) << "cannot create a socket in " << netns_path;
}

namespace_socket::~namespace_socket()
{
    if (fd_ >= 0)
        ::close(fd_);
}

std::size_t namespace_socket::send_udp(const std::string& address, std::uint16_t port, std::size_t count,
                                       std::size_t size) const
{
    sockaddr_storage target{};
    const auto length = fill_address(domain_, address, port, target);
    // On the stack: tests count the allocations of the code under test, and
    // sending must not add any.
    std::array<char, 32 * 1024> payload;
    payload.fill('x');
    EXPECT_LE(size, payload.size());
    size = std::min(size, payload.size());
    std::size_t accepted = 0;
    for (std::size_t i = 0; i < count; ++i)
        if (::sendto(fd_, payload.data(), size, 0, reinterpret_cast<sockaddr*>(&target), length) >= 0)
            ++accepted;
    return accepted;
}

void namespace_socket::send_echo_request(const std::string& address, std::uint16_t identifier) const
{
    sockaddr_storage target{};
    const auto length = fill_address(domain_, address, 0, target);
    // type, code, checksum, identifier, sequence; ICMPv6 checksums are filled in by the kernel.
    std::uint8_t message[8] = {static_cast<std::uint8_t>(domain_ == AF_INET6 ? 128 : 8), 0, 0, 0,
                               static_cast<std::uint8_t>(identifier >> 8), static_cast<std::uint8_t>(identifier), 0, 1};
    if (domain_ == AF_INET) {
        std::uint32_t sum = 0;
        for (std::size_t i = 0; i < sizeof message; i += 2)
            sum += static_cast<std::uint32_t>(message[i] << 8 | message[i + 1]);
        while (sum >> 16)
            sum = (sum & 0xffff) + (sum >> 16);
        const auto checksum = static_cast<std::uint16_t>(~sum);
        message[2] = static_cast<std::uint8_t>(checksum >> 8);
        message[3] = static_cast<std::uint8_t>(checksum);
    }
    (void)::sendto(fd_, message, sizeof message, 0, reinterpret_cast<sockaddr*>(&target), length);
}

void namespace_socket::connect_tcp(const std::string& address, std::uint16_t port) const
{
    sockaddr_storage target{};
    const auto length = fill_address(domain_, address, port, target);
    const int flags = ::fcntl(fd_, F_GETFL);
    ::fcntl(fd_, F_SETFL, flags | O_NONBLOCK);
    // EINPROGRESS or EPERM (dropped on output) are both expected here.
    (void)::connect(fd_, reinterpret_cast<sockaddr*>(&target), length);
}

} // namespace nflog::test
