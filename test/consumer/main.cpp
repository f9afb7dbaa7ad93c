// Built against an installed nflog-asio: proves the package config, the
// headers and the library work outside the source tree, down to the link
// of everything a socket needs.
#include <nflog/nflog.hpp>

#include <boost/asio/io_context.hpp>

#include <cstdio>

int main()
{
    // The smallest NFLOG packet: netlink header, nfgenmsg, packet header.
    const unsigned char bytes[] = {28, 0, 0, 0, 0x00, 0x04, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                   2,  0, 0, 7, 8, 0, 1, 0, 0x08, 0x00, 3, 0};
    const auto datagram = std::as_bytes(std::span(bytes));
    int packets = 0;
    for (const auto& item : nflog::packet_range(datagram)) {
        if (!item || item.value().group() != 7 || item.value().hw_protocol() != 0x0800)
            return 1;
        ++packets;
    }
    std::printf("consumer parsed %d packet\n", packets);
    // For the install check, which compares it with the packages' versions.
    std::printf("consumer built against %d.%d.%d\n", NFLOG_VERSION_MAJOR, NFLOG_VERSION_MINOR, NFLOG_VERSION_PATCH);

    // Links everything opening a socket uses; options without a group are
    // refused before the kernel is asked, so the machine is left alone.
    boost::asio::io_context io;
    const auto opened = nflog::socket::open(io, nflog::options{});
    if (opened || opened.error() != nflog::errc::no_group)
        return 1;
    std::printf("consumer: open without a group: %s\n", opened.error().message().c_str());
    return packets == 1 ? 0 : 1;
}
