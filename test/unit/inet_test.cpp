#include <nflog/detail/inet_general_path.hpp>
#include <nflog/inet.hpp>

#include "fuzz/fuzz_checks.hpp"
#include "support/counting_allocator.hpp"
#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <net/if_arp.h>
#include <netinet/in.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>

#include <algorithm>
#include <string>
#include <string_view>

namespace {

using namespace nflog;
using namespace nflog::test;
using inet::decode_error;
using inet::l3_protocol;

const auto v4_src = boost::asio::ip::make_address_v4("192.0.2.1");
const auto v4_dst = boost::asio::ip::make_address_v4("198.51.100.2");
const auto v6_src = boost::asio::ip::make_address_v6("2001:db8::1");
const auto v6_dst = boost::asio::ip::make_address_v6("2001:db8:ffff::2");

void put_be16(bytes& out, std::size_t offset, std::uint16_t value)
{
    out[offset] = static_cast<std::byte>(value >> 8);
    out[offset + 1] = static_cast<std::byte>(value & 0xff);
}

void append_address(bytes& out, const boost::asio::ip::address& address)
{
    if (address.is_v4()) {
        const auto raw = address.to_v4().to_bytes();
        append(out, raw.data(), raw.size());
    } else {
        const auto raw = address.to_v6().to_bytes();
        append(out, raw.data(), raw.size());
    }
}

// IPv4 header with `option_bytes` of NOP options (a multiple of 4), total
// length covering `body`, and the flags/fragment-offset field as given.
bytes ipv4(std::uint8_t protocol, const bytes& body, std::size_t option_bytes = 0, std::uint16_t fragment_field = 0)
{
    const std::size_t header_size = 20 + option_bytes;
    bytes out;
    append_host<std::uint8_t>(out, static_cast<std::uint8_t>(0x40 | (header_size / 4)));
    append_host<std::uint8_t>(out, 0);
    append_be<std::uint16_t>(out, static_cast<std::uint16_t>(header_size + body.size()));
    append_be<std::uint16_t>(out, 0x1234);
    append_be<std::uint16_t>(out, fragment_field);
    append_host<std::uint8_t>(out, 64);
    append_host<std::uint8_t>(out, protocol);
    append_be<std::uint16_t>(out, 0);
    append_address(out, v4_src);
    append_address(out, v4_dst);
    out.resize(header_size, std::byte{1});
    out.insert(out.end(), body.begin(), body.end());
    return out;
}

// IPv6 header whose payload length covers `rest` (extension headers and all).
bytes ipv6(std::uint8_t next_header, const bytes& rest)
{
    bytes out;
    append_be<std::uint32_t>(out, 0x60000000);
    append_be<std::uint16_t>(out, static_cast<std::uint16_t>(rest.size()));
    append_host<std::uint8_t>(out, next_header);
    append_host<std::uint8_t>(out, 64);
    append_address(out, v6_src);
    append_address(out, v6_dst);
    out.insert(out.end(), rest.begin(), rest.end());
    return out;
}

// Hop-by-hop, routing, destination options or mobility: `size` is a multiple of 8.
bytes extension(std::uint8_t next_header, std::size_t size)
{
    bytes out(size, std::byte{0});
    out[0] = static_cast<std::byte>(next_header);
    out[1] = static_cast<std::byte>(size / 8 - 1);
    return out;
}

// AH: `size` is a multiple of 4, at least 12.
bytes authentication(std::uint8_t next_header, std::size_t size)
{
    bytes out(size, std::byte{0x5a});
    out[0] = static_cast<std::byte>(next_header);
    out[1] = static_cast<std::byte>(size / 4 - 2);
    return out;
}

bytes fragment_header(std::uint8_t next_header, std::uint16_t offset_units, bool more)
{
    bytes out;
    append_host<std::uint8_t>(out, next_header);
    append_host<std::uint8_t>(out, 0);
    append_be<std::uint16_t>(out, static_cast<std::uint16_t>(offset_units << 3 | (more ? 1 : 0)));
    append_be<std::uint32_t>(out, 0xdeadbeef);
    return out;
}

bytes udp(std::uint16_t src_port, std::uint16_t dst_port, std::size_t data_size = 0)
{
    bytes out;
    append_be<std::uint16_t>(out, src_port);
    append_be<std::uint16_t>(out, dst_port);
    append_be<std::uint16_t>(out, static_cast<std::uint16_t>(8 + data_size));
    append_be<std::uint16_t>(out, 0);
    out.resize(8 + data_size, std::byte{0x77});
    return out;
}

bytes tcp(std::uint16_t src_port, std::uint16_t dst_port, std::uint8_t data_offset = 5)
{
    bytes out;
    append_be<std::uint16_t>(out, src_port);
    append_be<std::uint16_t>(out, dst_port);
    append_be<std::uint32_t>(out, 1000);
    append_be<std::uint32_t>(out, 0);
    append_host<std::uint8_t>(out, static_cast<std::uint8_t>(data_offset << 4));
    append_host<std::uint8_t>(out, 0x02);
    append_be<std::uint16_t>(out, 65535);
    append_be<std::uint32_t>(out, 0);
    out.resize(data_offset < 5 ? 20u : data_offset * 4u, std::byte{1});
    return out;
}

bytes sctp(std::uint16_t src_port, std::uint16_t dst_port)
{
    bytes out;
    append_be<std::uint16_t>(out, src_port);
    append_be<std::uint16_t>(out, dst_port);
    append_be<std::uint32_t>(out, 0x01020304);
    append_be<std::uint32_t>(out, 0);
    return out;
}

bytes icmp(std::uint8_t type, std::uint8_t code)
{
    bytes out;
    append_host<std::uint8_t>(out, type);
    append_host<std::uint8_t>(out, code);
    append_be<std::uint16_t>(out, 0);
    append_be<std::uint32_t>(out, 0x00010002);
    return out;
}

bytes arp(std::uint16_t hardware_type, std::uint8_t hardware_length, std::uint16_t protocol_type,
          std::uint8_t protocol_length, std::uint16_t op)
{
    bytes out;
    append_be<std::uint16_t>(out, hardware_type);
    append_be<std::uint16_t>(out, protocol_type);
    append_host<std::uint8_t>(out, hardware_length);
    append_host<std::uint8_t>(out, protocol_length);
    append_be<std::uint16_t>(out, op);
    out.resize(out.size() + hardware_length, std::byte{0xaa});
    if (protocol_length == 4)
        append_address(out, v4_src);
    else
        out.resize(out.size() + protocol_length, std::byte{0x11});
    // IEEE 1394 leaves out the target hardware address (RFC 2734).
    if (hardware_type != ARPHRD_IEEE1394)
        out.resize(out.size() + hardware_length, std::byte{0xbb});
    if (protocol_length == 4)
        append_address(out, v4_dst);
    else
        out.resize(out.size() + protocol_length, std::byte{0x22});
    return out;
}

bytes from_hex(std::string_view text)
{
    bytes out;
    for (std::size_t i = 0; i + 1 < text.size(); i += 2)
        out.push_back(static_cast<std::byte>(std::stoi(std::string(text.substr(i, 2)), nullptr, 16)));
    return out;
}

bytes prefix(const bytes& packet, std::size_t size) { return bytes(packet.begin(), packet.begin() + static_cast<long>(size)); }

// The general walk must agree with the fast path on every case here too.
inet::flow decode(const bytes& payload, std::uint16_t hw_protocol, std::uint8_t family)
{
    const auto decoded = inet::decode(payload, hw_protocol, family);
    EXPECT_TRUE(fuzz::same_flow(decoded, detail::decode_inet_general_path(payload, hw_protocol, family)));
    return decoded;
}

inet::flow decode_ipv4(const bytes& payload) { return decode(payload, ETH_P_IP, NFPROTO_IPV4); }
inet::flow decode_ipv6(const bytes& payload) { return decode(payload, ETH_P_IPV6, NFPROTO_IPV6); }
inet::flow decode_arp(const bytes& payload) { return decode(payload, ETH_P_ARP, NFPROTO_ARP); }

// Every field, every time: a decoder that sets one field too many fails.
void expect_flow(const inet::flow& actual, const inet::flow& expected)
{
    EXPECT_EQ(inet::to_string(actual.l3), inet::to_string(expected.l3));
    EXPECT_EQ(actual.src, expected.src);
    EXPECT_EQ(actual.dst, expected.dst);
    EXPECT_EQ(actual.has_src, expected.has_src);
    EXPECT_EQ(actual.has_dst, expected.has_dst);
    EXPECT_EQ(actual.protocol, expected.protocol);
    EXPECT_EQ(actual.src_port, expected.src_port);
    EXPECT_EQ(actual.dst_port, expected.dst_port);
    EXPECT_EQ(actual.icmp_type, expected.icmp_type);
    EXPECT_EQ(actual.icmp_code, expected.icmp_code);
    EXPECT_EQ(actual.arp_op, expected.arp_op);
    EXPECT_EQ(actual.fragment, expected.fragment);
    EXPECT_EQ(actual.later_fragment, expected.later_fragment);
    EXPECT_EQ(actual.truncated, expected.truncated);
    EXPECT_EQ(actual.family_mismatch, expected.family_mismatch);
    EXPECT_EQ(inet::to_string(actual.error), inet::to_string(expected.error));
}

// An address as read from the packet.
void set_src(inet::flow& f, const inet::address& address)
{
    f.src = address;
    f.has_src = true;
}

void set_dst(inet::flow& f, const inet::address& address)
{
    f.dst = address;
    f.has_dst = true;
}

inet::flow ipv4_flow(std::optional<std::uint8_t> protocol)
{
    inet::flow f;
    f.l3 = l3_protocol::ipv4;
    set_src(f, v4_src);
    set_dst(f, v4_dst);
    f.protocol = protocol;
    return f;
}

inet::flow ipv6_flow(std::optional<std::uint8_t> protocol)
{
    inet::flow f;
    f.l3 = l3_protocol::ipv6;
    set_src(f, v6_src);
    set_dst(f, v6_dst);
    f.protocol = protocol;
    return f;
}

inet::flow with_ports(inet::flow f, std::uint16_t src_port, std::uint16_t dst_port)
{
    f.src_port = src_port;
    f.dst_port = dst_port;
    return f;
}

inet::flow with_icmp(inet::flow f, std::uint8_t type, std::uint8_t code)
{
    f.icmp_type = type;
    f.icmp_code = code;
    return f;
}

inet::flow with_error(inet::flow f, decode_error error)
{
    f.error = error;
    return f;
}

inet::flow truncated(inet::flow f)
{
    f.truncated = true;
    return f;
}

// ---------------------------------------------------------------- IPv4

TEST(inet_ipv4, transports_with_and_without_options)
{
    for (std::size_t options : {0u, 4u, 12u, 40u}) {
        SCOPED_TRACE("option bytes " + std::to_string(options));
        expect_flow(decode_ipv4(ipv4(IPPROTO_TCP, tcp(40000, 443), options)),
                    with_ports(ipv4_flow(IPPROTO_TCP), 40000, 443));
        expect_flow(decode_ipv4(ipv4(IPPROTO_UDP, udp(5353, 53, 12), options)),
                    with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53));
        expect_flow(decode_ipv4(ipv4(IPPROTO_UDPLITE, udp(1, 65535), options)),
                    with_ports(ipv4_flow(IPPROTO_UDPLITE), 1, 65535));
        expect_flow(decode_ipv4(ipv4(IPPROTO_SCTP, sctp(2905, 36412), options)),
                    with_ports(ipv4_flow(IPPROTO_SCTP), 2905, 36412));
        expect_flow(decode_ipv4(ipv4(IPPROTO_ICMP, icmp(8, 0), options)), with_icmp(ipv4_flow(IPPROTO_ICMP), 8, 0));
        expect_flow(decode_ipv4(ipv4(IPPROTO_ICMP, icmp(3, 13), options)), with_icmp(ipv4_flow(IPPROTO_ICMP), 3, 13));
        expect_flow(decode_ipv4(ipv4(IPPROTO_GRE, bytes(4, std::byte{0}), options)), ipv4_flow(IPPROTO_GRE));
    }
}

TEST(inet_ipv4, tcp_options_are_part_of_the_header)
{
    const auto packet = ipv4(IPPROTO_TCP, tcp(22, 50000, 15));
    expect_flow(decode_ipv4(packet), with_ports(ipv4_flow(IPPROTO_TCP), 22, 50000));
    // Options cut by the copy: the header did not arrive whole.
    expect_flow(decode_ipv4(prefix(packet, packet.size() - 1)),
                truncated(with_ports(ipv4_flow(IPPROTO_TCP), 22, 50000)));
}

TEST(inet_ipv4, tcp_data_offset_below_five_keeps_the_ports)
{
    for (std::uint8_t data_offset = 0; data_offset < 5; ++data_offset) {
        SCOPED_TRACE(static_cast<int>(data_offset));
        expect_flow(decode_ipv4(ipv4(IPPROTO_TCP, tcp(1234, 80, data_offset))),
                    with_error(with_ports(ipv4_flow(IPPROTO_TCP), 1234, 80), decode_error::bad_transport_header));
    }
}

TEST(inet_ipv4, tcp_data_offset_past_the_total_length_is_malformed)
{
    auto packet = ipv4(IPPROTO_TCP, tcp(1234, 80, 8));
    put_be16(packet, 2, static_cast<std::uint16_t>(20 + 24));
    expect_flow(decode_ipv4(packet),
                with_error(with_ports(ipv4_flow(IPPROTO_TCP), 1234, 80), decode_error::bad_transport_header));
}

TEST(inet_ipv4, header_length_below_five)
{
    for (int ihl = 0; ihl < 5; ++ihl) {
        SCOPED_TRACE(ihl);
        auto packet = ipv4(IPPROTO_UDP, udp(1, 2));
        packet[0] = static_cast<std::byte>(0x40 | ihl);
        inet::flow expected;
        expected.l3 = l3_protocol::ipv4;
        expected.error = decode_error::bad_ipv4_header_length;
        expect_flow(decode_ipv4(packet), expected);
    }
}

TEST(inet_ipv4, header_length_fifteen_in_twenty_bytes)
{
    // The datagram itself says it is 20 bytes long: the IHL is what lies.
    auto whole = ipv4(IPPROTO_UDP, {});
    whole[0] = std::byte{0x4f};
    ASSERT_EQ(whole.size(), 20u);
    expect_flow(decode_ipv4(whole), with_error(ipv4_flow(IPPROTO_UDP), decode_error::bad_ipv4_header_length));

    // A longer datagram copied only up to 20 bytes: the options were cut.
    auto cut = ipv4(IPPROTO_UDP, udp(7, 9), 40);
    cut.resize(20);
    expect_flow(decode_ipv4(cut), truncated(ipv4_flow(IPPROTO_UDP)));
}

TEST(inet_ipv4, total_length_below_twenty)
{
    for (std::uint16_t total_length : {1, 8, 19}) {
        SCOPED_TRACE(total_length);
        auto packet = ipv4(IPPROTO_UDP, udp(1, 2));
        put_be16(packet, 2, total_length);
        inet::flow expected;
        expected.l3 = l3_protocol::ipv4;
        expected.error = decode_error::bad_ipv4_total_length;
        expect_flow(decode_ipv4(packet), expected);
    }
}

TEST(inet_ipv4, total_length_below_the_options)
{
    auto packet = ipv4(IPPROTO_UDP, udp(1, 2), 8);
    put_be16(packet, 2, 24);
    expect_flow(decode_ipv4(packet), with_error(ipv4_flow(IPPROTO_UDP), decode_error::bad_ipv4_header_length));
}

TEST(inet_ipv4, total_length_zero_means_the_copy)
{
    // BIG TCP sends datagrams over 64 KiB with a total length of 0.
    auto packet = ipv4(IPPROTO_TCP, tcp(5001, 40000));
    put_be16(packet, 2, 0);
    expect_flow(decode_ipv4(packet), with_ports(ipv4_flow(IPPROTO_TCP), 5001, 40000));
    expect_flow(decode_ipv4(prefix(packet, 30)), truncated(with_ports(ipv4_flow(IPPROTO_TCP), 5001, 40000)));
}

TEST(inet_ipv4, transport_cut_by_the_total_length_is_malformed)
{
    auto packet = ipv4(IPPROTO_UDP, udp(1000, 2000));
    put_be16(packet, 2, 24);
    expect_flow(decode_ipv4(packet),
                with_error(with_ports(ipv4_flow(IPPROTO_UDP), 1000, 2000), decode_error::bad_transport_header));
    put_be16(packet, 2, 22);
    expect_flow(decode_ipv4(packet), with_error(ipv4_flow(IPPROTO_UDP), decode_error::bad_transport_header));
}

TEST(inet_ipv4, bytes_past_the_total_length_are_ignored)
{
    auto packet = ipv4(IPPROTO_UDP, udp(1000, 2000));
    packet.resize(packet.size() + 18, std::byte{0xee});
    expect_flow(decode_ipv4(packet), with_ports(ipv4_flow(IPPROTO_UDP), 1000, 2000));
}

// The UDP length field in place of what `udp` wrote.
bytes with_udp_length(bytes packet, std::size_t udp_offset, std::uint16_t length)
{
    put_be16(packet, udp_offset + 4, length);
    return packet;
}

TEST(inet_ipv4, udp_length_below_its_header_keeps_the_ports)
{
    const auto packet = ipv4(IPPROTO_UDP, udp(5353, 53, 12));
    for (std::uint16_t length = 0; length < 8; ++length) {
        SCOPED_TRACE(length);
        expect_flow(decode_ipv4(with_udp_length(packet, 20, length)),
                    with_error(with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53), decode_error::bad_transport_header));
    }
}

TEST(inet_ipv4, udp_length_past_the_total_length_is_malformed)
{
    const auto packet = ipv4(IPPROTO_UDP, udp(5353, 53, 12));
    expect_flow(decode_ipv4(with_udp_length(packet, 20, 21)),
                with_error(with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53), decode_error::bad_transport_header));
    expect_flow(decode_ipv4(with_udp_length(packet, 20, 65535)),
                with_error(with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53), decode_error::bad_transport_header));
    // A copy cut before the end the length gives changes nothing.
    expect_flow(decode_ipv4(prefix(with_udp_length(packet, 20, 21), 30)),
                with_error(with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53), decode_error::bad_transport_header));
}

TEST(inet_ipv4, udp_length_within_the_total_length_is_whole)
{
    const auto packet = ipv4(IPPROTO_UDP, udp(5353, 53, 12));
    // Bytes after the UDP datagram are padding the receiver trims.
    for (std::uint16_t length : {8, 19, 20}) {
        SCOPED_TRACE(length);
        expect_flow(decode_ipv4(with_udp_length(packet, 20, length)), with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53));
    }
    // A copy that holds the header but not the data the length gives is whole.
    expect_flow(decode_ipv4(prefix(packet, 30)), with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53));
}

TEST(inet_ipv4, udp_length_of_a_first_fragment_counts_the_whole_datagram)
{
    auto expected = with_ports(ipv4_flow(IPPROTO_UDP), 4789, 4789);
    expected.fragment = true;
    const auto first = ipv4(IPPROTO_UDP, udp(4789, 4789, 12), 0, 0x2000);
    expect_flow(decode_ipv4(with_udp_length(first, 20, 3000)), expected);
    expect_flow(decode_ipv4(with_udp_length(first, 20, 7)), with_error(expected, decode_error::bad_transport_header));
}

TEST(inet_ipv4, udp_length_zero_is_only_for_a_datagram_of_unknown_length)
{
    auto packet = with_udp_length(ipv4(IPPROTO_UDP, udp(5353, 53, 12)), 20, 0);
    expect_flow(decode_ipv4(packet),
                with_error(with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53), decode_error::bad_transport_header));
    put_be16(packet, 2, 0);
    expect_flow(decode_ipv4(packet), with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53));
}

TEST(inet_ipv4, udplite_checksum_coverage)
{
    const auto packet = ipv4(IPPROTO_UDPLITE, udp(7000, 7001, 12));
    const auto whole = with_ports(ipv4_flow(IPPROTO_UDPLITE), 7000, 7001);
    // 0 covers the whole datagram; otherwise at least the header, at most the datagram.
    for (std::uint16_t coverage : {0, 8, 13, 20}) {
        SCOPED_TRACE(coverage);
        expect_flow(decode_ipv4(with_udp_length(packet, 20, coverage)), whole);
    }
    for (std::uint16_t coverage : {1, 7, 21, 65535}) {
        SCOPED_TRACE(coverage);
        expect_flow(decode_ipv4(with_udp_length(packet, 20, coverage)),
                    with_error(whole, decode_error::bad_transport_header));
    }
}

TEST(inet_ipv4, udp_length_behind_options_is_checked_from_the_transport_header)
{
    // Options leave the fast path: the general walk counts the room after them.
    const auto packet = ipv4(IPPROTO_UDP, udp(5353, 53, 12), 4);
    const auto whole = with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53);
    expect_flow(decode_ipv4(with_udp_length(packet, 24, 20)), whole);
    expect_flow(decode_ipv4(with_udp_length(packet, 24, 21)), with_error(whole, decode_error::bad_transport_header));
}

TEST(inet_ipv4, udp_length_reaching_into_bytes_past_the_total_length_is_malformed)
{
    // The copy holds more than the datagram: what lies after it is not the datagram's.
    auto packet = ipv4(IPPROTO_UDP, udp(5353, 53, 12));
    packet.resize(packet.size() + 16, std::byte{0xee});
    const auto whole = with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53);
    expect_flow(decode_ipv4(packet), whole);
    expect_flow(decode_ipv4(with_udp_length(packet, 20, 28)), with_error(whole, decode_error::bad_transport_header));
}

TEST(inet_ipv4, a_total_length_of_zero_leaves_only_the_lower_bound)
{
    auto packet = with_udp_length(ipv4(IPPROTO_UDP, udp(5353, 53, 12)), 20, 60000);
    put_be16(packet, 2, 0);
    expect_flow(decode_ipv4(packet), with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53));
    expect_flow(decode_ipv4(with_udp_length(packet, 20, 7)),
                with_error(with_ports(ipv4_flow(IPPROTO_UDP), 5353, 53), decode_error::bad_transport_header));
}

TEST(inet_ipv4, udplite_in_a_first_fragment)
{
    auto expected = with_ports(ipv4_flow(IPPROTO_UDPLITE), 7000, 7001);
    expected.fragment = true;
    const auto first = ipv4(IPPROTO_UDPLITE, udp(7000, 7001, 12), 0, 0x2000);
    for (std::uint16_t coverage : {0, 8, 3000}) {
        SCOPED_TRACE(coverage);
        expect_flow(decode_ipv4(with_udp_length(first, 20, coverage)), expected);
    }
    expect_flow(decode_ipv4(with_udp_length(first, 20, 5)), with_error(expected, decode_error::bad_transport_header));
    // A UDP length of 0 says nothing in a fragment either.
    auto udp_first = with_ports(ipv4_flow(IPPROTO_UDP), 7000, 7001);
    udp_first.fragment = true;
    expect_flow(decode_ipv4(with_udp_length(ipv4(IPPROTO_UDP, udp(7000, 7001, 12), 0, 0x2000), 20, 0)),
                with_error(udp_first, decode_error::bad_transport_header));
}

TEST(inet_ipv4, udp_cut_at_every_byte)
{
    const auto packet = ipv4(IPPROTO_UDP, udp(33434, 53, 4), 4);
    ASSERT_EQ(packet.size(), 24u + 12u);
    for (std::size_t size = 0; size <= packet.size(); ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        inet::flow expected;
        expected.l3 = l3_protocol::ipv4;
        if (size >= 10)
            expected.protocol = IPPROTO_UDP;
        if (size >= 16)
            set_src(expected, v4_src);
        if (size >= 20)
            set_dst(expected, v4_dst);
        if (size >= 24 + 4) {
            expected.src_port = 33434;
            expected.dst_port = 53;
        }
        expected.truncated = size < 24 + 8;
        expect_flow(decode_ipv4(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv4, fixed_header_cut_at_every_byte)
{
    // A middle fragment: the flags and the offset are both set.
    const auto packet = ipv4(IPPROTO_TCP, tcp(1, 2), 0, 0x20b9);
    for (std::size_t size = 0; size < 20; ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        inet::flow expected;
        expected.l3 = l3_protocol::ipv4;
        if (size >= 8) {
            expected.fragment = true;
            expected.later_fragment = true;
        }
        if (size >= 10)
            expected.protocol = IPPROTO_TCP;
        if (size >= 16)
            set_src(expected, v4_src);
        expected.truncated = true;
        expect_flow(decode_ipv4(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv4, fixed_header_cut_inside_the_destination)
{
    inet::flow expected;
    expected.l3 = l3_protocol::ipv4;
    expected.protocol = IPPROTO_TCP;
    set_src(expected, v4_src);
    expected.truncated = true;
    expect_flow(decode_ipv4(from_hex("450000280001000040060000c0000201c63364")), expected);
}

TEST(inet_ipv4, total_length_below_twenty_in_a_cut_copy)
{
    const auto packet = from_hex("45000010000000004006");
    for (std::size_t size = 1; size <= packet.size(); ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        inet::flow expected;
        expected.l3 = l3_protocol::ipv4;
        // Once bytes 2-3 are there the datagram contradicts itself, wherever the copy ends.
        if (size >= 4)
            expected.error = decode_error::bad_ipv4_total_length;
        else
            expected.truncated = true;
        expect_flow(decode_ipv4(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv4, header_length_past_the_total_length_in_a_cut_copy)
{
    // IHL 15 (60 bytes) in a datagram of 40: known from bytes 0-3, however short the copy.
    auto packet = ipv4(IPPROTO_UDP, udp(1, 2, 12));
    packet[0] = std::byte{0x4f};
    inet::flow expected;
    expected.l3 = l3_protocol::ipv4;
    expected.protocol = IPPROTO_UDP;
    set_src(expected, v4_src);
    expected.truncated = true;
    expected.error = decode_error::bad_ipv4_header_length;
    expect_flow(decode_ipv4(prefix(packet, 19)), expected);
}

TEST(inet_ipv4, tcp_cut_at_every_byte)
{
    const auto packet = ipv4(IPPROTO_TCP, tcp(443, 51000, 6));
    for (std::size_t size = 20; size <= packet.size(); ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        auto expected = ipv4_flow(IPPROTO_TCP);
        if (size >= 24) {
            expected.src_port = 443;
            expected.dst_port = 51000;
        }
        expected.truncated = size < 20 + 24;
        expect_flow(decode_ipv4(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv4, icmp_cut_at_every_byte)
{
    const auto packet = ipv4(IPPROTO_ICMP, icmp(0, 0));
    for (std::size_t size = 20; size <= packet.size(); ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        auto expected = ipv4_flow(IPPROTO_ICMP);
        if (size >= 22)
            expected = with_icmp(expected, 0, 0);
        expected.truncated = size < 28;
        expect_flow(decode_ipv4(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv4, first_fragment_has_ports)
{
    auto expected = with_ports(ipv4_flow(IPPROTO_UDP), 4500, 4500);
    expected.fragment = true;
    expect_flow(decode_ipv4(ipv4(IPPROTO_UDP, udp(4500, 4500, 1472), 0, 0x2000)), expected);
    // Don't-fragment alone is not a fragment.
    expect_flow(decode_ipv4(ipv4(IPPROTO_UDP, udp(4500, 4500), 0, 0x4000)),
                with_ports(ipv4_flow(IPPROTO_UDP), 4500, 4500));
}

TEST(inet_ipv4, first_fragment_that_splits_its_transport_header_is_malformed)
{
    // 8 bytes of TCP in the first fragment, the rest in the next: the tiny-fragment attack of RFC 1858.
    auto tiny = ipv4(IPPROTO_TCP, tcp(40000, 22), 0, 0x2000);
    put_be16(tiny, 2, 20 + 8);
    auto expected = with_error(with_ports(ipv4_flow(IPPROTO_TCP), 40000, 22), decode_error::bad_transport_header);
    expected.fragment = true;
    expect_flow(decode_ipv4(tiny), expected);

    // Too short even for the ports.
    put_be16(tiny, 2, 20 + 2);
    expected.src_port.reset();
    expected.dst_port.reset();
    expect_flow(decode_ipv4(tiny), expected);
}

TEST(inet_ipv4, later_fragment_has_no_ports_even_when_it_looks_like_udp)
{
    auto expected = ipv4_flow(IPPROTO_UDP);
    expected.fragment = true;
    expected.later_fragment = true;
    // Middle fragment (more to come) and last fragment.
    for (std::uint16_t field : {0x20b9, 0x00b9, 0x1fff}) {
        SCOPED_TRACE(field);
        expect_flow(decode_ipv4(ipv4(IPPROTO_UDP, udp(53, 53), 0, field)), expected);
    }
    auto icmp_expected = ipv4_flow(IPPROTO_ICMP);
    icmp_expected.fragment = true;
    icmp_expected.later_fragment = true;
    expect_flow(decode_ipv4(ipv4(IPPROTO_ICMP, icmp(8, 0), 0, 0x0001)), icmp_expected);
}

TEST(inet_ipv4, icmp_protocol_number_is_only_icmp_over_ipv4)
{
    expect_flow(decode_ipv4(ipv4(IPPROTO_ICMPV6, icmp(128, 0))), ipv4_flow(IPPROTO_ICMPV6));
}

// ---------------------------------------------------------------- IPv6

TEST(inet_ipv6, transports)
{
    expect_flow(decode_ipv6(ipv6(IPPROTO_TCP, tcp(40000, 22))), with_ports(ipv6_flow(IPPROTO_TCP), 40000, 22));
    expect_flow(decode_ipv6(ipv6(IPPROTO_UDP, udp(546, 547, 30))), with_ports(ipv6_flow(IPPROTO_UDP), 546, 547));
    expect_flow(decode_ipv6(ipv6(IPPROTO_UDPLITE, udp(9, 10))), with_ports(ipv6_flow(IPPROTO_UDPLITE), 9, 10));
    expect_flow(decode_ipv6(ipv6(IPPROTO_SCTP, sctp(38412, 38412))),
                with_ports(ipv6_flow(IPPROTO_SCTP), 38412, 38412));
    expect_flow(decode_ipv6(ipv6(IPPROTO_ICMPV6, icmp(128, 0))), with_icmp(ipv6_flow(IPPROTO_ICMPV6), 128, 0));
    expect_flow(decode_ipv6(ipv6(IPPROTO_ICMPV6, icmp(1, 4))), with_icmp(ipv6_flow(IPPROTO_ICMPV6), 1, 4));
    expect_flow(decode_ipv6(ipv6(IPPROTO_ICMP, icmp(8, 0))), ipv6_flow(IPPROTO_ICMP));
}

TEST(inet_ipv6, each_extension_header_is_skipped)
{
    for (std::uint8_t kind : {IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS}) {
        for (std::size_t size : {8u, 24u, 2048u}) {
            SCOPED_TRACE("header " + std::to_string(kind) + " of " + std::to_string(size));
            expect_flow(decode_ipv6(ipv6(kind, concat({extension(IPPROTO_UDP, size), udp(123, 123)}))),
                        with_ports(ipv6_flow(IPPROTO_UDP), 123, 123));
        }
    }
    for (std::size_t size : {12u, 24u, 1028u}) {
        SCOPED_TRACE("AH of " + std::to_string(size));
        expect_flow(decode_ipv6(ipv6(IPPROTO_AH, concat({authentication(IPPROTO_TCP, size), tcp(500, 501)}))),
                    with_ports(ipv6_flow(IPPROTO_TCP), 500, 501));
    }
}

TEST(inet_ipv6, chain_of_every_kind)
{
    const auto packet = ipv6(IPPROTO_HOPOPTS, concat({extension(IPPROTO_DSTOPTS, 8), extension(IPPROTO_ROUTING, 8),
                                                      extension(IPPROTO_FRAGMENT, 24), fragment_header(IPPROTO_AH, 0, true),
                                                      authentication(IPPROTO_DSTOPTS, 16),
                                                      extension(IPPROTO_SCTP, 16), sctp(7, 8)}));
    auto expected = with_ports(ipv6_flow(IPPROTO_SCTP), 7, 8);
    expected.fragment = true;
    expect_flow(decode_ipv6(packet), expected);
}

TEST(inet_ipv6, first_and_atomic_fragments)
{
    auto first = with_ports(ipv6_flow(IPPROTO_UDP), 4789, 4789);
    first.fragment = true;
    expect_flow(decode_ipv6(ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_UDP, 0, true), udp(4789, 4789)}))),
                first);
    // Offset 0 without more fragments is a whole datagram (RFC 6946).
    expect_flow(decode_ipv6(ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_UDP, 0, false), udp(4789, 4789)}))),
                with_ports(ipv6_flow(IPPROTO_UDP), 4789, 4789));
}

TEST(inet_ipv6, first_fragment_that_splits_its_transport_header_is_malformed)
{
    auto packet = ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_TCP, 0, true), tcp(40000, 22)}));
    put_be16(packet, 4, 8 + 8);
    auto expected = with_error(with_ports(ipv6_flow(IPPROTO_TCP), 40000, 22), decode_error::bad_transport_header);
    expected.fragment = true;
    expect_flow(decode_ipv6(packet), expected);
}

TEST(inet_ipv6, later_fragment_has_no_transport_header)
{
    auto expected = ipv6_flow(IPPROTO_UDP);
    expected.fragment = true;
    expected.later_fragment = true;
    for (bool more : {true, false}) {
        SCOPED_TRACE(more);
        expect_flow(decode_ipv6(ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_UDP, 181, more), udp(53, 53)}))),
                    expected);
    }
    // The fragment's next header is reported as sent, extension header or not.
    auto after_hop = ipv6_flow(IPPROTO_DSTOPTS);
    after_hop.fragment = true;
    after_hop.later_fragment = true;
    expect_flow(decode_ipv6(ipv6(IPPROTO_HOPOPTS, concat({extension(IPPROTO_FRAGMENT, 8),
                                                          fragment_header(IPPROTO_DSTOPTS, 1, false),
                                                          extension(IPPROTO_UDP, 8), udp(1, 2)}))),
                after_hop);
}

TEST(inet_ipv6, esp_and_no_next_header_end_the_walk)
{
    const auto looks_like_udp = udp(53, 53);
    expect_flow(decode_ipv6(ipv6(IPPROTO_ESP, looks_like_udp)), ipv6_flow(IPPROTO_ESP));
    expect_flow(decode_ipv6(ipv6(IPPROTO_NONE, looks_like_udp)), ipv6_flow(IPPROTO_NONE));
    expect_flow(decode_ipv6(ipv6(IPPROTO_NONE, {})), ipv6_flow(IPPROTO_NONE));
    expect_flow(decode_ipv6(ipv6(IPPROTO_DSTOPTS, concat({extension(IPPROTO_ESP, 8), looks_like_udp}))),
                ipv6_flow(IPPROTO_ESP));
    expect_flow(decode_ipv6(ipv6(IPPROTO_AH, concat({authentication(IPPROTO_NONE, 24), looks_like_udp}))),
                ipv6_flow(IPPROTO_NONE));
}

TEST(inet_ipv6, mobility_header_is_final)
{
    // Its payload proto is always 59; the kernel's walk, and so `meta l4proto`, stop at 135.
    expect_flow(decode_ipv6(ipv6(IPPROTO_MH, extension(IPPROTO_NONE, 16))), ipv6_flow(IPPROTO_MH));
    expect_flow(decode_ipv6(ipv6(IPPROTO_HOPOPTS, concat({extension(IPPROTO_MH, 8), extension(IPPROTO_NONE, 16)}))),
                ipv6_flow(IPPROTO_MH));
}

TEST(inet_ipv6, extension_past_the_payload_length_is_malformed)
{
    // The length field of the last header reaches past the payload length.
    auto packet = ipv6(IPPROTO_DSTOPTS, concat({extension(IPPROTO_UDP, 16), udp(1, 2)}));
    packet[40 + 1] = std::byte{3};
    expect_flow(decode_ipv6(packet), with_error(ipv6_flow(std::nullopt), decode_error::bad_ipv6_extension));

    // The payload length ends inside an extension's first two bytes.
    auto short_length = ipv6(IPPROTO_HOPOPTS, concat({extension(IPPROTO_UDP, 8), udp(1, 2)}));
    put_be16(short_length, 4, 1);
    expect_flow(decode_ipv6(short_length), with_error(ipv6_flow(std::nullopt), decode_error::bad_ipv6_extension));

    // A fragment header needs all 8 bytes.
    auto short_fragment = ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_UDP, 0, true), udp(1, 2)}));
    put_be16(short_fragment, 4, 6);
    expect_flow(decode_ipv6(short_fragment), with_error(ipv6_flow(std::nullopt), decode_error::bad_ipv6_extension));

    // AH counts in 4-octet units: 255 means 1028 bytes.
    auto long_ah = ipv6(IPPROTO_AH, concat({authentication(IPPROTO_UDP, 12), udp(1, 2)}));
    long_ah[40 + 1] = std::byte{255};
    expect_flow(decode_ipv6(long_ah), with_error(ipv6_flow(std::nullopt), decode_error::bad_ipv6_extension));
}

TEST(inet_ipv6, extension_past_the_copy_is_truncated)
{
    const auto packet = ipv6(IPPROTO_HOPOPTS, concat({extension(IPPROTO_ROUTING, 8), extension(IPPROTO_TCP, 32),
                                                      tcp(8080, 39000)}));
    for (std::size_t size = 40; size <= packet.size(); ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        auto expected = ipv6_flow(std::nullopt);
        if (size >= 40 + 8 + 32) {
            expected.protocol = IPPROTO_TCP;
        }
        if (size >= 40 + 8 + 32 + 4) {
            expected.src_port = 8080;
            expected.dst_port = 39000;
        }
        expected.truncated = size < packet.size();
        expect_flow(decode_ipv6(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv6, fixed_header_cut_at_every_byte)
{
    const auto packet = ipv6(IPPROTO_UDP, udp(1, 2));
    for (std::size_t size = 0; size < 40; ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        inet::flow expected;
        expected.l3 = l3_protocol::ipv6;
        if (size >= 7)
            expected.protocol = IPPROTO_UDP;
        if (size >= 24)
            set_src(expected, v6_src);
        expected.truncated = true;
        expect_flow(decode_ipv6(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv6, fixed_header_cut_before_an_extension_header_has_no_protocol)
{
    // Which protocol is final lies in the extension header, which was not copied.
    const auto packet = ipv6(IPPROTO_HOPOPTS, concat({extension(IPPROTO_UDP, 8), udp(1, 2)}));
    for (std::size_t size = 0; size < 40; ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        inet::flow expected;
        expected.l3 = l3_protocol::ipv6;
        if (size >= 24)
            set_src(expected, v6_src);
        expected.truncated = true;
        expect_flow(decode_ipv6(prefix(packet, size)), expected);
    }
}

TEST(inet_ipv6, fixed_header_cut_after_the_source)
{
    inet::flow expected;
    expected.l3 = l3_protocol::ipv6;
    expected.protocol = IPPROTO_UDP;
    set_src(expected, v6_src);
    expected.truncated = true;
    expect_flow(decode_ipv6(from_hex("600000000008114020010db8000000000000000000000001")), expected);
}

TEST(inet_ipv6, chain_too_long)
{
    bytes eight;
    for (int i = 0; i < 7; ++i)
        eight = concat({eight, extension(IPPROTO_DSTOPTS, 8)});
    eight = concat({eight, extension(IPPROTO_UDP, 8), udp(5, 6)});
    expect_flow(decode_ipv6(ipv6(IPPROTO_DSTOPTS, eight)), with_ports(ipv6_flow(IPPROTO_UDP), 5, 6));

    const auto nine = ipv6(IPPROTO_DSTOPTS, concat({extension(IPPROTO_DSTOPTS, 8), eight}));
    expect_flow(decode_ipv6(nine), with_error(ipv6_flow(std::nullopt), decode_error::extension_chain_too_long));
}

TEST(inet_ipv6, jumbogram_payload_length_zero_means_the_copy)
{
    // Hop-by-hop with a jumbo payload option (type 0xC2), as RFC 2675 sends it.
    auto hop = extension(IPPROTO_UDP, 8);
    hop[2] = std::byte{0xc2};
    hop[3] = std::byte{4};
    auto packet = ipv6(IPPROTO_HOPOPTS, concat({hop, udp(7000, 7001, 100)}));
    put_be16(packet, 4, 0);
    expect_flow(decode_ipv6(packet), with_ports(ipv6_flow(IPPROTO_UDP), 7000, 7001));
    // Without a length to trust, a cut is only ever the copy's.
    expect_flow(decode_ipv6(prefix(packet, 40 + 4)), truncated(ipv6_flow(std::nullopt)));
    expect_flow(decode_ipv6(prefix(packet, 40 + 8 + 6)), truncated(with_ports(ipv6_flow(IPPROTO_UDP), 7000, 7001)));
}

TEST(inet_ipv6, transport_cut_by_the_payload_length_is_malformed)
{
    auto packet = ipv6(IPPROTO_TCP, tcp(1, 2));
    put_be16(packet, 4, 10);
    expect_flow(decode_ipv6(packet), with_error(with_ports(ipv6_flow(IPPROTO_TCP), 1, 2), decode_error::bad_transport_header));
    put_be16(packet, 4, 3);
    expect_flow(decode_ipv6(packet), with_error(ipv6_flow(IPPROTO_TCP), decode_error::bad_transport_header));
}

TEST(inet_ipv6, udp_length_is_checked_against_the_payload_length)
{
    const auto packet = ipv6(IPPROTO_UDP, udp(546, 547, 30));
    const auto whole = with_ports(ipv6_flow(IPPROTO_UDP), 546, 547);
    expect_flow(decode_ipv6(with_udp_length(packet, 40, 38)), whole);
    for (std::uint16_t length : {0, 1, 7, 39, 1000}) {
        SCOPED_TRACE(length);
        expect_flow(decode_ipv6(with_udp_length(packet, 40, length)),
                    with_error(whole, decode_error::bad_transport_header));
    }
}

TEST(inet_ipv6, udp_length_behind_extension_headers_is_checked_from_the_transport_header)
{
    for (std::uint8_t kind : {IPPROTO_HOPOPTS, IPPROTO_DSTOPTS}) {
        SCOPED_TRACE(static_cast<int>(kind));
        const auto packet = ipv6(kind, concat({extension(IPPROTO_UDP, 16), udp(546, 547, 30)}));
        const auto whole = with_ports(ipv6_flow(IPPROTO_UDP), 546, 547);
        expect_flow(decode_ipv6(with_udp_length(packet, 56, 38)), whole);
        expect_flow(decode_ipv6(with_udp_length(packet, 56, 39)),
                    with_error(whole, decode_error::bad_transport_header));
    }
}

TEST(inet_ipv6, udplite_checksum_coverage)
{
    const auto packet = ipv6(IPPROTO_UDPLITE, udp(7000, 7001, 12));
    const auto whole = with_ports(ipv6_flow(IPPROTO_UDPLITE), 7000, 7001);
    for (std::uint16_t coverage : {0, 8, 20}) {
        SCOPED_TRACE(coverage);
        expect_flow(decode_ipv6(with_udp_length(packet, 40, coverage)), whole);
    }
    for (std::uint16_t coverage : {1, 7, 21}) {
        SCOPED_TRACE(coverage);
        expect_flow(decode_ipv6(with_udp_length(packet, 40, coverage)),
                    with_error(whole, decode_error::bad_transport_header));
    }
}

TEST(inet_ipv6, a_jumbogram_may_carry_udp_length_zero)
{
    // Payload length 0: a jumbogram (RFC 2675), whose UDP length is 0 too.
    auto packet = with_udp_length(ipv6(IPPROTO_UDP, udp(546, 547, 30)), 40, 0);
    put_be16(packet, 4, 0);
    expect_flow(decode_ipv6(packet), with_ports(ipv6_flow(IPPROTO_UDP), 546, 547));
}

TEST(inet_ipv6, udp_length_of_a_first_fragment_counts_the_whole_datagram)
{
    auto expected = with_ports(ipv6_flow(IPPROTO_UDP), 4789, 4789);
    expected.fragment = true;
    const auto first = ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_UDP, 0, true), udp(4789, 4789, 12)}));
    expect_flow(decode_ipv6(with_udp_length(first, 48, 3000)), expected);
    expect_flow(decode_ipv6(with_udp_length(first, 48, 2)), with_error(expected, decode_error::bad_transport_header));
    // An atomic fragment is a whole datagram, bounded by its own length.
    const auto atomic = ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_UDP, 0, false), udp(4789, 4789, 12)}));
    expect_flow(decode_ipv6(with_udp_length(atomic, 48, 3000)),
                with_error(with_ports(ipv6_flow(IPPROTO_UDP), 4789, 4789), decode_error::bad_transport_header));
}

// ---------------------------------------------------------------- ARP

inet::flow arp_flow(std::uint16_t op)
{
    inet::flow f;
    f.l3 = l3_protocol::arp;
    set_src(f, v4_src);
    set_dst(f, v4_dst);
    f.arp_op = op;
    return f;
}

TEST(inet_arp, request_and_reply_over_ethernet)
{
    expect_flow(decode_arp(arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REQUEST)), arp_flow(ARPOP_REQUEST));
    expect_flow(decode_arp(arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REPLY)), arp_flow(ARPOP_REPLY));
    expect_flow(decode_arp(arp(ARPHRD_IEEE802, 6, ETH_P_IP, 4, ARPOP_REPLY)), arp_flow(ARPOP_REPLY));
}

TEST(inet_arp, other_hardware_types_carry_ipv4_at_their_own_offsets)
{
    // IEEE 1394 uses 16-byte hardware addresses (RFC 2734).
    expect_flow(decode_arp(arp(ARPHRD_IEEE1394, 16, ETH_P_IP, 4, ARPOP_REQUEST)), arp_flow(ARPOP_REQUEST));
    expect_flow(decode_arp(arp(ARPHRD_INFINIBAND, 20, ETH_P_IP, 4, ARPOP_REPLY)), arp_flow(ARPOP_REPLY));
}

TEST(inet_arp, ieee1394_has_no_target_hardware_address)
{
    // Sender hardware address (16 bytes), sender and target protocol addresses: nothing more.
    const auto request = from_hex("00180800100400010011223344556677"
                                  "0a0a000000000000c0000201c0000202");
    ASSERT_EQ(request.size(), 32u);
    auto expected = arp_flow(ARPOP_REQUEST);
    set_dst(expected, boost::asio::ip::make_address_v4("192.0.2.2"));
    expect_flow(decode_arp(request), expected);

    for (std::size_t size = 8 + 16 + 4; size < request.size(); ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        auto cut = arp_flow(ARPOP_REQUEST);
        cut.dst = {};
        cut.has_dst = false;
        cut.truncated = true;
        expect_flow(decode_arp(prefix(request, size)), cut);
    }
}

TEST(inet_arp, lengths_that_do_not_describe_ipv4)
{
    inet::flow expected;
    expected.l3 = l3_protocol::arp;
    expected.error = decode_error::bad_arp_header;
    expected.arp_op = ARPOP_REQUEST;
    expect_flow(decode_arp(arp(ARPHRD_ETHER, 8, ETH_P_IP, 4, ARPOP_REQUEST)), expected);
    expect_flow(decode_arp(arp(ARPHRD_ETHER, 6, ETH_P_IP, 16, ARPOP_REQUEST)), expected);
    expect_flow(decode_arp(arp(ARPHRD_ETHER, 6, ETH_P_IPV6, 4, ARPOP_REQUEST)), expected);
    expected.arp_op = ARPOP_RREQUEST;
    expect_flow(decode_arp(arp(ARPHRD_ETHER, 6, ETH_P_IPV6, 16, ARPOP_RREQUEST)), expected);
}

TEST(inet_arp, cut_at_every_byte)
{
    const auto packet = arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REPLY);
    ASSERT_EQ(packet.size(), 28u);
    for (std::size_t size = 0; size <= packet.size(); ++size) {
        SCOPED_TRACE("copy of " + std::to_string(size) + " bytes");
        inet::flow expected;
        expected.l3 = l3_protocol::arp;
        if (size >= 8)
            expected.arp_op = ARPOP_REPLY;
        if (size >= 8 + 6 + 4)
            set_src(expected, v4_src);
        if (size >= 28)
            set_dst(expected, v4_dst);
        expected.truncated = size < 28;
        expect_flow(decode_arp(prefix(packet, size)), expected);
    }
}

// ---------------------------------------------------------------- choosing the decoder

TEST(inet_choice, version_nibble_contradicting_hw_protocol)
{
    // The bytes are what was filtered: they are decoded as what they say.
    expect_flow(decode(ipv6(IPPROTO_UDP, udp(1, 2)), ETH_P_IP, NFPROTO_INET),
                with_error(with_ports(ipv6_flow(IPPROTO_UDP), 1, 2), decode_error::bad_ip_version));
    expect_flow(decode(ipv4(IPPROTO_TCP, tcp(3, 4)), ETH_P_IPV6, NFPROTO_INET),
                with_error(with_ports(ipv4_flow(IPPROTO_TCP), 3, 4), decode_error::bad_ip_version));

    // A nibble that is no IP version at all: nothing is decoded.
    for (int version : {0, 5, 15}) {
        SCOPED_TRACE(version);
        auto packet = ipv4(IPPROTO_UDP, udp(1, 2));
        packet[0] = static_cast<std::byte>(version << 4 | 5);
        inet::flow expected;
        expected.error = decode_error::bad_ip_version;
        expect_flow(decode(packet, ETH_P_IP, NFPROTO_IPV4), expected);
        expect_flow(decode(packet, ETH_P_IPV6, NFPROTO_IPV6), expected);
    }
}

TEST(inet_choice, first_problem_wins)
{
    expect_flow(decode(ipv4(IPPROTO_TCP, tcp(3, 4, 2)), ETH_P_IPV6, NFPROTO_INET),
                with_error(with_ports(ipv4_flow(IPPROTO_TCP), 3, 4), decode_error::bad_ip_version));
}

TEST(inet_choice, unknown_or_zero_hw_protocol_falls_back_to_the_nibble)
{
    for (std::uint16_t hw_protocol : {0x0000, 0x88cc, 0x8100, 0xffff}) {
        SCOPED_TRACE(hw_protocol);
        expect_flow(decode(ipv4(IPPROTO_UDP, udp(1, 2)), hw_protocol, NFPROTO_IPV4),
                    with_ports(ipv4_flow(IPPROTO_UDP), 1, 2));
        expect_flow(decode(ipv6(IPPROTO_UDP, udp(1, 2)), hw_protocol, NFPROTO_IPV6),
                    with_ports(ipv6_flow(IPPROTO_UDP), 1, 2));
        // ARP has no version nibble: without hw_protocol it is not recognised.
        const auto request = arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REQUEST);
        inet::flow unknown;
        unknown.error = decode_error::unknown_l3;
        expect_flow(decode(request, hw_protocol, NFPROTO_ARP), unknown);
    }
}

TEST(inet_choice, empty_payload_is_only_truncated)
{
    const std::pair<std::uint16_t, l3_protocol> cases[] = {
        {ETH_P_IP, l3_protocol::ipv4},
        {ETH_P_IPV6, l3_protocol::ipv6},
        {ETH_P_ARP, l3_protocol::arp},
        {0, l3_protocol::none},
        {0x88cc, l3_protocol::none},
    };
    for (const auto& [hw_protocol, l3] : cases) {
        SCOPED_TRACE(hw_protocol);
        inet::flow expected;
        expected.l3 = l3;
        expected.truncated = true;
        expect_flow(decode({}, hw_protocol, NFPROTO_INET), expected);
    }
}

TEST(inet_choice, family_mismatch)
{
    const auto v4_packet = ipv4(IPPROTO_UDP, udp(1, 2));
    const auto v6_packet = ipv6(IPPROTO_UDP, udp(1, 2));
    const auto arp_packet = arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REQUEST);

    EXPECT_FALSE(decode(v4_packet, ETH_P_IP, NFPROTO_IPV4).family_mismatch);
    EXPECT_TRUE(decode(v4_packet, ETH_P_IP, NFPROTO_IPV6).family_mismatch);
    EXPECT_TRUE(decode(v4_packet, ETH_P_IP, NFPROTO_ARP).family_mismatch);
    EXPECT_FALSE(decode(v6_packet, ETH_P_IPV6, NFPROTO_IPV6).family_mismatch);
    EXPECT_TRUE(decode(v6_packet, ETH_P_IPV6, NFPROTO_IPV4).family_mismatch);
    EXPECT_TRUE(decode(v6_packet, 0, NFPROTO_IPV4).family_mismatch);
    EXPECT_FALSE(decode(arp_packet, ETH_P_ARP, NFPROTO_ARP).family_mismatch);
    EXPECT_TRUE(decode(arp_packet, ETH_P_ARP, NFPROTO_IPV4).family_mismatch);
    EXPECT_TRUE(decode(v6_packet, ETH_P_IP, NFPROTO_IPV4).family_mismatch);

    // Families that carry any L3 never disagree.
    for (std::uint8_t family : {NFPROTO_INET, NFPROTO_BRIDGE, NFPROTO_NETDEV}) {
        SCOPED_TRACE(static_cast<int>(family));
        EXPECT_FALSE(decode(v4_packet, ETH_P_IP, family).family_mismatch);
        EXPECT_FALSE(decode(v6_packet, ETH_P_IPV6, family).family_mismatch);
        EXPECT_FALSE(decode(arp_packet, ETH_P_ARP, family).family_mismatch);
    }

    // Nothing decoded, nothing to disagree with.
    EXPECT_FALSE(decode({}, 0, NFPROTO_IPV4).family_mismatch);
    EXPECT_FALSE(decode(arp_packet, 0, NFPROTO_IPV6).family_mismatch);

    // The whole flow for one mismatch: only the flag differs.
    auto expected = with_ports(ipv4_flow(IPPROTO_UDP), 1, 2);
    expected.family_mismatch = true;
    expect_flow(decode(v4_packet, ETH_P_IP, NFPROTO_IPV6), expected);
}

// Every event carries a flow and channels copy events whole: saying which
// addresses were read takes a byte that was padding, not a bigger event.
static_assert(sizeof(inet::flow) <= 60);

TEST(inet_addresses, an_unspecified_address_that_was_read_says_so)
{
    const auto unspecified_v4 = boost::asio::ip::address_v4::any();
    auto discover = ipv4(IPPROTO_UDP, udp(68, 67));
    std::fill_n(discover.begin() + 12, 8, std::byte{0});
    inet::flow expected;
    expected.l3 = l3_protocol::ipv4;
    expected.protocol = IPPROTO_UDP;
    set_src(expected, unspecified_v4);
    expected.truncated = true;
    expect_flow(decode_ipv4(prefix(discover, 16)), expected);
    set_dst(expected, unspecified_v4);
    expect_flow(decode_ipv4(prefix(discover, 20)), expected);

    auto solicitation = ipv6(IPPROTO_ICMPV6, icmp(135, 0));
    std::fill_n(solicitation.begin() + 8, 16, std::byte{0});
    auto from_unspecified = with_icmp(ipv6_flow(IPPROTO_ICMPV6), 135, 0);
    set_src(from_unspecified, boost::asio::ip::address_v6::any());
    expect_flow(decode_ipv6(solicitation), from_unspecified);

    auto probe = arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REQUEST);
    std::fill_n(probe.begin() + 14, 4, std::byte{0});
    auto cut_probe = arp_flow(ARPOP_REQUEST);
    set_src(cut_probe, unspecified_v4);
    cut_probe.dst = {};
    cut_probe.has_dst = false;
    cut_probe.truncated = true;
    expect_flow(decode_arp(prefix(probe, 27)), cut_probe);
}

TEST(inet_strings, every_error_has_a_distinct_stable_name)
{
    EXPECT_EQ(inet::to_string(decode_error::none), "");
    EXPECT_EQ(inet::to_string(decode_error::unknown_l3), "unknown network protocol");
    EXPECT_EQ(inet::to_string(decode_error::bad_ip_version), "bad ip version");
    EXPECT_EQ(inet::to_string(decode_error::bad_ipv4_header_length), "bad ipv4 header length");
    EXPECT_EQ(inet::to_string(decode_error::bad_ipv4_total_length), "bad ipv4 total length");
    EXPECT_EQ(inet::to_string(decode_error::bad_ipv6_extension), "bad ipv6 extension header");
    EXPECT_EQ(inet::to_string(decode_error::extension_chain_too_long), "ipv6 extension chain too long");
    EXPECT_EQ(inet::to_string(decode_error::bad_arp_header), "bad arp header");
    EXPECT_EQ(inet::to_string(decode_error::bad_transport_header), "bad transport header");
    EXPECT_EQ(inet::to_string(static_cast<decode_error>(200)), "unknown decode error");

    EXPECT_EQ(inet::to_string(l3_protocol::none), "");
    EXPECT_EQ(inet::to_string(l3_protocol::ipv4), "ipv4");
    EXPECT_EQ(inet::to_string(l3_protocol::ipv6), "ipv6");
    EXPECT_EQ(inet::to_string(l3_protocol::arp), "arp");
}

void expect_same_flow(const inet::flow& actual, const inet::flow& expected, const std::string& context)
{
    EXPECT_EQ(actual.l3, expected.l3) << context;
    EXPECT_EQ(actual.src, expected.src) << context;
    EXPECT_EQ(actual.dst, expected.dst) << context;
    EXPECT_EQ(actual.has_src, expected.has_src) << context;
    EXPECT_EQ(actual.has_dst, expected.has_dst) << context;
    EXPECT_EQ(actual.protocol, expected.protocol) << context;
    EXPECT_EQ(actual.src_port, expected.src_port) << context;
    EXPECT_EQ(actual.dst_port, expected.dst_port) << context;
    EXPECT_EQ(actual.icmp_type, expected.icmp_type) << context;
    EXPECT_EQ(actual.icmp_code, expected.icmp_code) << context;
    EXPECT_EQ(actual.arp_op, expected.arp_op) << context;
    EXPECT_EQ(actual.fragment, expected.fragment) << context;
    EXPECT_EQ(actual.later_fragment, expected.later_fragment) << context;
    EXPECT_EQ(actual.truncated, expected.truncated) << context;
    EXPECT_EQ(actual.family_mismatch, expected.family_mismatch) << context;
    EXPECT_EQ(actual.error, expected.error) << context;
}

TEST(inet_in_place, decoding_into_a_used_flow_replaces_every_member)
{
    // Each sets members the others leave alone: ports, ICMP fields, an ARP
    // opcode, fragment flags, truncation, an error, a family mismatch.
    const bytes tcp_packet = ipv4(IPPROTO_TCP, tcp(1000, 22));
    const bytes packets[] = {
        tcp_packet,
        ipv4(IPPROTO_UDP, udp(53, 5353), 0, 0x2000),
        ipv4(IPPROTO_UDP, udp(53, 5353), 0, 0x00b9),
        ipv4(IPPROTO_ICMP, icmp(8, 0)),
        ipv6(IPPROTO_ICMPV6, icmp(135, 0)),
        ipv6(IPPROTO_FRAGMENT, concat({fragment_header(IPPROTO_UDP, 0, true), udp(7, 9)})),
        arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REPLY),
        bytes(tcp_packet.begin(), tcp_packet.begin() + 30),
        bytes{std::byte{0x75}},
        bytes{},
    };
    const std::uint16_t hw_protocols[] = {ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, 0};
    const std::uint8_t families[] = {NFPROTO_IPV4, NFPROTO_IPV6, NFPROTO_ARP, NFPROTO_BRIDGE};
    for (std::size_t before = 0; before < std::size(packets); ++before) {
        for (std::size_t after = 0; after < std::size(packets); ++after) {
            for (std::size_t variant = 0; variant < std::size(families); ++variant) {
                // The flow left behind comes from another family and hardware protocol.
                const std::size_t other = (variant + 1) % std::size(families);
                inet::flow reused = inet::decode(packets[before], hw_protocols[other], families[other]);
                inet::decode(packets[after], hw_protocols[variant], families[variant], reused);
                expect_same_flow(reused, inet::decode(packets[after], hw_protocols[variant], families[variant]),
                                 "packet " + std::to_string(after) + " after packet " + std::to_string(before) +
                                     ", variant " + std::to_string(variant));
            }
        }
    }
}

TEST(inet_allocation, decode_allocates_nothing)
{
    const bytes packets[] = {
        ipv4(IPPROTO_TCP, tcp(1, 2), 8),
        ipv4(IPPROTO_UDP, udp(1, 2), 0, 0x00b9),
        ipv6(IPPROTO_HOPOPTS, concat({extension(IPPROTO_FRAGMENT, 8), fragment_header(IPPROTO_AH, 0, true),
                                      authentication(IPPROTO_ICMPV6, 12), icmp(135, 0)})),
        ipv6(IPPROTO_DSTOPTS, concat({extension(IPPROTO_DSTOPTS, 8), extension(IPPROTO_DSTOPTS, 8),
                                      extension(IPPROTO_DSTOPTS, 8), extension(IPPROTO_DSTOPTS, 8),
                                      extension(IPPROTO_DSTOPTS, 8), extension(IPPROTO_DSTOPTS, 8),
                                      extension(IPPROTO_DSTOPTS, 8), extension(IPPROTO_DSTOPTS, 8),
                                      extension(IPPROTO_UDP, 8)})),
        arp(ARPHRD_ETHER, 6, ETH_P_IP, 4, ARPOP_REQUEST),
    };
    std::size_t ports_seen = 0;
    std::size_t errors_seen = 0;
    const allocation_scope scope;
    for (const auto& packet : packets) {
        for (std::uint16_t hw_protocol : {std::uint16_t{0}, std::uint16_t{ETH_P_IP}, std::uint16_t{ETH_P_ARP}}) {
            const auto flow = inet::decode(packet, hw_protocol, NFPROTO_INET);
            ports_seen += flow.src_port.has_value() ? 1 : 0;
            errors_seen += flow.error != decode_error::none ? 1 : 0;
            inet::flow in_place;
            inet::decode(packet, hw_protocol, NFPROTO_INET, in_place);
            ports_seen += in_place.src_port.has_value() ? 1 : 0;
        }
    }
    EXPECT_EQ(scope.count(), 0u);
    // The loop really decoded: the TCP packet twice with ports in each form, and failures were met.
    EXPECT_EQ(ports_seen, 4u);
    EXPECT_GT(errors_seen, 0u);
}

} // namespace
