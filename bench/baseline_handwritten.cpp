#include "cases.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>
#include <netinet/in.h>

#include <cstring>

namespace nflog::bench {
namespace {

constexpr std::uint16_t nflog_packet = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
constexpr std::uint32_t attributes_offset = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));

inline std::uint16_t u16(const unsigned char* at) noexcept
{
    std::uint16_t value;
    std::memcpy(&value, at, sizeof value);
    return value;
}

inline std::uint32_t u32(const unsigned char* at) noexcept
{
    std::uint32_t value;
    std::memcpy(&value, at, sizeof value);
    return value;
}

inline std::uint16_t be16(const unsigned char* at) noexcept { return static_cast<std::uint16_t>(at[0] << 8 | at[1]); }

inline bool has_ports(unsigned protocol) noexcept
{
    return protocol == IPPROTO_TCP || protocol == IPPROTO_UDP || protocol == IPPROTO_UDPLITE ||
           protocol == IPPROTO_SCTP;
}

// Only what a firewall log line needs: no extension headers, no options
// beyond skipping them, no error reporting. Ports only from first fragments.
inline void read_destination(tally& out, const unsigned char* ip, std::uint32_t length) noexcept
{
    if (length == 0)
        return;
    const unsigned version = ip[0] >> 4;
    if (version == 4) {
        const std::uint32_t header = (ip[0] & 0x0fu) * 4;
        if (length < 20 || header < 20)
            return;
        const unsigned protocol = ip[9];
        out.protocol_sum += protocol;
        out.address_digest += address_digest(ip + 16, 4);
        if ((be16(ip + 6) & 0x1fff) == 0 && has_ports(protocol) && length >= header + 4) {
            ++out.ports;
            out.port_sum += be16(ip + header + 2);
        }
    } else if (version == 6) {
        if (length < 40)
            return;
        const unsigned protocol = ip[6];
        out.protocol_sum += protocol;
        out.address_digest += address_digest(ip + 24, 16);
        if (has_ports(protocol) && length >= 44) {
            ++out.ports;
            out.port_sum += be16(ip + 42);
        }
    }
}

inline void read_packet(tally& out, const unsigned char* message, std::uint32_t length) noexcept
{
    const unsigned char* prefix = nullptr;
    std::uint32_t prefix_length = 0;
    const unsigned char* payload = nullptr;
    std::uint32_t payload_length = 0;
    for (std::uint32_t at = attributes_offset; length - at >= NLA_HDRLEN;) {
        const std::uint32_t attribute_length = u16(message + at);
        if (attribute_length < NLA_HDRLEN || attribute_length > length - at)
            break;
        const unsigned type = u16(message + at + 2) & NLA_TYPE_MASK;
        if (type == NFULA_PREFIX) {
            prefix = message + at + NLA_HDRLEN;
            prefix_length = attribute_length - NLA_HDRLEN;
        } else if (type == NFULA_PAYLOAD) {
            payload = message + at + NLA_HDRLEN;
            payload_length = attribute_length - NLA_HDRLEN;
        }
        at += NLA_ALIGN(attribute_length);
        if (at > length)
            break;
    }
    ++out.packets;
    if (prefix) {
        const void* nul = std::memchr(prefix, 0, prefix_length);
        out.prefix_bytes += nul ? static_cast<std::uint32_t>(static_cast<const unsigned char*>(nul) - prefix) : prefix_length;
    }
    if (payload)
        read_destination(out, payload, payload_length);
}

} // namespace

tally decode_by_hand(const corpus& input) noexcept
{
    tally out;
    for (const auto datagram : input.datagrams()) {
        const auto* bytes = reinterpret_cast<const unsigned char*>(datagram.data());
        const auto size = static_cast<std::uint32_t>(datagram.size());
        for (std::uint32_t at = 0; size - at >= NLMSG_HDRLEN;) {
            const std::uint32_t length = u32(bytes + at);
            const std::uint16_t type = u16(bytes + at + 4);
            if (length < NLMSG_HDRLEN || length > size - at || type == NLMSG_DONE)
                break;
            if (type == nflog_packet && length >= attributes_offset)
                read_packet(out, bytes + at, length);
            at += NLMSG_ALIGN(length);
            if (at > size)
                break;
        }
    }
    return out;
}

} // namespace nflog::bench
