#include "parts.hpp"

#include "packet_reads.hpp"

#include <nflog/inet.hpp>
#include <nflog/packet.hpp>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <cstring>

namespace nflog::bench::parts {

tally library_walk(const corpus& input) noexcept
{
    tally out;
    for (const auto datagram : input.datagrams()) {
        for (const auto& item : packet_range(datagram)) {
            if (!item) {
                ++out.failures;
                continue;
            }
            ++out.packets;
            out.sink += item.assume_value().payload().size();
        }
    }
    return out;
}

tally library_walk_and_getters(const corpus& input) noexcept
{
    tally out;
    for (const auto datagram : input.datagrams()) {
        for (const auto& item : packet_range(datagram)) {
            if (!item) {
                ++out.failures;
                continue;
            }
            const auto& packet = item.assume_value();
            ++out.packets;
            add_prefix(out, packet.prefix());
            out.details += read_details(packet);
            out.sink += read_the_rest(packet) + packet.payload().size();
        }
    }
    return out;
}

std::vector<payload> payloads_of(const corpus& input)
{
    std::vector<payload> out;
    out.reserve(input.messages());
    for (const auto datagram : input.datagrams())
        for (const auto& item : packet_range(datagram))
            if (item)
                out.push_back({item.assume_value().payload(), item.assume_value().hw_protocol(), item.assume_value().family()});
    return out;
}

tally inet_decode(std::span<const payload> payloads) noexcept
{
    tally out;
    for (const auto& packet : payloads) {
        ++out.packets;
        const auto flow = inet::decode(packet.bytes, packet.hw_protocol, packet.family);
        add_destination(out, flow);
        add_flow_rest(out, flow);
    }
    return out;
}

tally hand_walk(const corpus& input) noexcept
{
    constexpr std::uint16_t nflog_packet = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
    const auto u16 = [](const unsigned char* at) {
        std::uint16_t value;
        std::memcpy(&value, at, sizeof value);
        return value;
    };
    tally out;
    for (const auto datagram : input.datagrams()) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(datagram.data());
        const auto size = static_cast<std::uint32_t>(datagram.size());
        for (std::uint32_t at = 0; size - at >= NLMSG_HDRLEN;) {
            std::uint32_t length;
            std::memcpy(&length, bytes + at, sizeof length);
            const auto type = u16(bytes + at + 4);
            if (length < NLMSG_HDRLEN || length > size - at || type == NLMSG_DONE)
                break;
            if (type == nflog_packet && length >= NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg))) {
                ++out.packets;
                const auto* message = bytes + at;
                for (std::uint32_t offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg)); length - offset >= NLA_HDRLEN;) {
                    const std::uint32_t attribute_length = u16(message + offset);
                    if (attribute_length < NLA_HDRLEN || attribute_length > length - offset)
                        break;
                    out.sink += u16(message + offset + 2);
                    offset += NLA_ALIGN(attribute_length);
                    if (offset > length)
                        break;
                }
            }
            at += NLMSG_ALIGN(length);
            if (at > size)
                break;
        }
    }
    return out;
}

} // namespace nflog::bench::parts
