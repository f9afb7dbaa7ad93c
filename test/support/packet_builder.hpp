#ifndef NFLOG_TEST_SUPPORT_PACKET_BUILDER_HPP
#define NFLOG_TEST_SUPPORT_PACKET_BUILDER_HPP

// Logged packets and NFLOG attributes, byte by byte, for tests that need whole
// events rather than single malformed fields.

#include "support/message_builder.hpp"

#include <boost/asio/ip/address.hpp>

#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <cstdint>
#include <string_view>

namespace nflog::test::packets {

inline void append_address(bytes& out, std::string_view text)
{
    const auto address = boost::asio::ip::make_address(text);
    if (address.is_v4()) {
        const auto raw = address.to_v4().to_bytes();
        append(out, raw.data(), raw.size());
    } else {
        const auto raw = address.to_v6().to_bytes();
        append(out, raw.data(), raw.size());
    }
}

/// IPv4 header (no options) whose total length covers `body`.
inline bytes ipv4(std::string_view src, std::string_view dst, std::uint8_t protocol, const bytes& body,
                  std::uint16_t fragment_field = 0)
{
    bytes out;
    append_host<std::uint8_t>(out, 0x45);
    append_host<std::uint8_t>(out, 0);
    append_be<std::uint16_t>(out, static_cast<std::uint16_t>(20 + body.size()));
    append_be<std::uint16_t>(out, 0x4d2);
    append_be<std::uint16_t>(out, fragment_field);
    append_host<std::uint8_t>(out, 64);
    append_host<std::uint8_t>(out, protocol);
    append_be<std::uint16_t>(out, 0);
    append_address(out, src);
    append_address(out, dst);
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

/// IPv6 header whose payload length covers `rest`.
inline bytes ipv6(std::string_view src, std::string_view dst, std::uint8_t next_header, const bytes& rest)
{
    bytes out;
    append_be<std::uint32_t>(out, 0x60000000);
    append_be<std::uint16_t>(out, static_cast<std::uint16_t>(rest.size()));
    append_host<std::uint8_t>(out, next_header);
    append_host<std::uint8_t>(out, 64);
    append_address(out, src);
    append_address(out, dst);
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

/// A 20-byte TCP header carrying a SYN.
inline bytes tcp(std::uint16_t sport, std::uint16_t dport)
{
    bytes out;
    append_be<std::uint16_t>(out, sport);
    append_be<std::uint16_t>(out, dport);
    append_be<std::uint32_t>(out, 1);
    append_be<std::uint32_t>(out, 0);
    append_host<std::uint8_t>(out, 5 << 4);
    append_host<std::uint8_t>(out, 0x02);
    append_be<std::uint16_t>(out, 64240);
    append_be<std::uint32_t>(out, 0);
    return out;
}

/// A UDP header (ports, length, checksum) and the following data bytes, for
/// headers whose first 8 bytes start with ports (UDP, UDP-Lite).
inline bytes udp(std::uint16_t sport, std::uint16_t dport, const bytes& data = {})
{
    bytes out;
    append_be<std::uint16_t>(out, sport);
    append_be<std::uint16_t>(out, dport);
    append_be<std::uint16_t>(out, static_cast<std::uint16_t>(8 + data.size()));
    append_be<std::uint16_t>(out, 0);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

/// SCTP common header (12 bytes).
inline bytes sctp(std::uint16_t sport, std::uint16_t dport)
{
    bytes out;
    append_be<std::uint16_t>(out, sport);
    append_be<std::uint16_t>(out, dport);
    append_be<std::uint32_t>(out, 0x01020304);
    append_be<std::uint32_t>(out, 0);
    return out;
}

/// An 8-byte ICMP or ICMPv6 header (echo layout).
inline bytes icmp(std::uint8_t type, std::uint8_t code)
{
    bytes out;
    append_host<std::uint8_t>(out, type);
    append_host<std::uint8_t>(out, code);
    append_be<std::uint16_t>(out, 0);
    append_be<std::uint32_t>(out, 0x00010001);
    return out;
}

/// ARP for IPv4 over Ethernet.
inline bytes arp(std::uint16_t operation, std::string_view sender_ip, std::string_view target_ip)
{
    bytes out;
    append_be<std::uint16_t>(out, 1);      // ARPHRD_ETHER
    append_be<std::uint16_t>(out, 0x0800); // ETH_P_IP
    append_host<std::uint8_t>(out, 6);
    append_host<std::uint8_t>(out, 4);
    append_be<std::uint16_t>(out, operation);
    const bytes sender_mac = to_bytes({0x02, 0, 0, 0, 0, 0x01});
    out.insert(out.end(), sender_mac.begin(), sender_mac.end());
    append_address(out, sender_ip);
    out.resize(out.size() + 6);
    append_address(out, target_ip);
    return out;
}

// NFLOG attributes, as nfnetlink_log puts them.

inline bytes header_attribute(std::uint16_t hw_protocol, std::uint8_t hook)
{
    return attribute(NFULA_PACKET_HDR, packet_header(hw_protocol, hook));
}

inline bytes be32_attribute(std::uint16_t type, std::uint32_t value) { return attribute(type, be<std::uint32_t>(value)); }

inline bytes timestamp_attribute(std::uint64_t seconds, std::uint64_t microseconds)
{
    return attribute(NFULA_TIMESTAMP, concat({be<std::uint64_t>(seconds), be<std::uint64_t>(microseconds)}));
}

/// The prefix with its NUL, as the kernel sends it.
inline bytes prefix_attribute(std::string_view prefix)
{
    auto value = to_bytes(prefix);
    value.push_back(std::byte{0});
    return attribute(NFULA_PREFIX, value);
}

/// nfulnl_msg_packet_hw: length, padding, 8 address bytes.
inline bytes hwaddr_attribute(const bytes& address)
{
    bytes value;
    append_be<std::uint16_t>(value, static_cast<std::uint16_t>(address.size()));
    append_host<std::uint16_t>(value, 0);
    value.insert(value.end(), address.begin(), address.end());
    value.resize(12);
    return attribute(NFULA_HWADDR, value);
}

inline bytes vlan_attribute(std::uint16_t protocol, std::uint16_t tci)
{
    return attribute(NFULA_VLAN | NLA_F_NESTED, concat({attribute(NFULA_VLAN_PROTO, be<std::uint16_t>(protocol)),
                                                        attribute(NFULA_VLAN_TCI, be<std::uint16_t>(tci))}));
}

inline bytes payload_attribute(const bytes& packet) { return attribute(NFULA_PAYLOAD, packet); }

} // namespace nflog::test::packets

#endif
