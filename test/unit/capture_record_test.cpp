#include "capture_record.hpp"

#include "support/counting_allocator.hpp"
#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"

#include <nflog/packet.hpp>

#include <gtest/gtest.h>

#include <linux/netfilter.h>
#include <linux/netlink.h>

#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace nflog::test::packets;
using nflog::watch::unwrap_netlink_record;
using nflog::watch::unwrap_nflog_record;
using nflog::watch::unwrapped_record;

bytes link_header(std::uint16_t arphrd, std::uint16_t family)
{
    bytes out;
    append_be<std::uint16_t>(out, 4); // PACKET_OUTGOING: which side sent it does not matter here
    append_be<std::uint16_t>(out, arphrd);
    out.resize(14);
    append_be<std::uint16_t>(out, family);
    return out;
}

TEST(unwrap_netlink_record, strips_the_link_header_of_a_netfilter_record)
{
    const auto datagram = concat({packet_message(NFPROTO_IPV4, 3, header_attribute(0x0800, 1)), done_message()});
    const auto record = concat({link_header(824, NETLINK_NETFILTER), datagram});
    const auto unwrapped = unwrap_netlink_record(record);
    ASSERT_EQ(unwrapped.state, unwrapped_record::status::datagram);
    EXPECT_EQ(unwrapped.datagram.data(), record.data() + 16);
    EXPECT_EQ(unwrapped.datagram.size(), datagram.size());
}

TEST(unwrap_netlink_record, link_header_alone_is_an_empty_datagram)
{
    const auto record = link_header(824, NETLINK_NETFILTER);
    const auto unwrapped = unwrap_netlink_record(record);
    ASSERT_EQ(unwrapped.state, unwrapped_record::status::datagram);
    EXPECT_TRUE(unwrapped.datagram.empty());
}

TEST(unwrap_netlink_record, other_netlink_families_are_skipped)
{
    for (const std::uint16_t family : {NETLINK_ROUTE, NETLINK_AUDIT, NETLINK_GENERIC, 0xffff}) {
        const auto record = concat({link_header(824, family), done_message()});
        EXPECT_EQ(unwrap_netlink_record(record).state, unwrapped_record::status::not_netfilter) << family;
    }
}

TEST(unwrap_netlink_record, short_record_is_malformed)
{
    const auto header = link_header(824, NETLINK_NETFILTER);
    for (std::size_t size = 0; size < 16; ++size) {
        const auto unwrapped = unwrap_netlink_record(std::span(header).first(size));
        EXPECT_EQ(unwrapped.state, unwrapped_record::status::malformed) << size;
        EXPECT_EQ(unwrapped.problem, "record shorter than the 16-byte netlink link-layer header") << size;
    }
}

TEST(unwrap_netlink_record, other_hardware_type_is_malformed)
{
    // 1 is ARPHRD_ETHER; 0x3803 is ARPHRD_NETLINK in the wrong byte order.
    for (const std::uint16_t arphrd : {1, 0x3803}) {
        const auto record = concat({link_header(arphrd, NETLINK_NETFILTER), done_message()});
        const auto unwrapped = unwrap_netlink_record(record);
        EXPECT_EQ(unwrapped.state, unwrapped_record::status::malformed) << arphrd;
        EXPECT_EQ(unwrapped.problem, "link-layer header does not say ARPHRD_NETLINK") << arphrd;
    }
}

// An NFLOG record is a packet message without its netlink header.
bytes nflog_record_of(const bytes& message) { return bytes(message.begin() + 16, message.end()); }

TEST(unwrap_nflog_record, rebuilds_the_message_the_kernel_sent)
{
    const auto message = packet_message(
        NFPROTO_IPV6, 0x0102,
        concat({header_attribute(0x86dd, 3), be32_attribute(NFULA_MARK, 0xa1b2c3d4), prefix_attribute("QUEUED"),
                payload_attribute(ipv6("2001:db8::1", "2001:db8::2", 17, udp(1, 2)))}));
    std::vector<std::byte> buffer;
    const auto unwrapped = unwrap_nflog_record(nflog_record_of(message), buffer);
    ASSERT_EQ(unwrapped.state, unwrapped_record::status::datagram);
    EXPECT_EQ(bytes(unwrapped.datagram.begin(), unwrapped.datagram.end()), message);

    std::vector<result<packet_view>> packets;
    for (const auto& item : packet_range(unwrapped.datagram))
        packets.push_back(item);
    ASSERT_EQ(packets.size(), 1u);
    ASSERT_TRUE(packets[0]);
    const auto& packet = packets[0].value();
    EXPECT_EQ(packet.group(), 0x0102);
    EXPECT_EQ(packet.family(), NFPROTO_IPV6);
    EXPECT_EQ(packet.hw_protocol(), 0x86dd);
    EXPECT_EQ(packet.mark(), 0xa1b2c3d4u);
    EXPECT_EQ(packet.prefix(), "QUEUED");
    EXPECT_EQ(packet.payload().size(), 48u);
}

TEST(unwrap_nflog_record, unpadded_record_length_is_kept)
{
    // libpcap records the bytes it got; the last TLV need not be padded.
    auto record = nflog_record_of(packet_message(NFPROTO_IPV4, 1, concat({header_attribute(0x0800, 1),
                                                                          prefix_attribute("ab")})));
    record.resize(record.size() - 1); // "ab\0" padded by one byte
    std::vector<std::byte> buffer;
    const auto unwrapped = unwrap_nflog_record(record, buffer);
    ASSERT_EQ(unwrapped.state, unwrapped_record::status::datagram);
    EXPECT_EQ(detail::load<std::uint32_t>(unwrapped.datagram.data()), 16 + record.size());
    const auto packet = packet_view::parse(netlink::message_view(unwrapped.datagram));
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().prefix(), "ab");
}

TEST(unwrap_nflog_record, header_only_record_is_a_message_without_attributes)
{
    const auto record = to_bytes({NFPROTO_IPV4, 0, 0, 7});
    std::vector<std::byte> buffer;
    const auto unwrapped = unwrap_nflog_record(record, buffer);
    ASSERT_EQ(unwrapped.state, unwrapped_record::status::datagram);
    const auto packet = packet_view::parse(netlink::message_view(unwrapped.datagram));
    EXPECT_EQ(packet.error(), errc::missing_packet_header);
}

TEST(unwrap_nflog_record, short_record_is_malformed)
{
    const auto record = to_bytes({NFPROTO_IPV4, 0, 0});
    std::vector<std::byte> buffer;
    for (std::size_t size = 0; size < 4; ++size) {
        const auto unwrapped = unwrap_nflog_record(std::span(record).first(std::min<std::size_t>(size, 3)), buffer);
        EXPECT_EQ(unwrapped.state, unwrapped_record::status::malformed) << size;
        EXPECT_EQ(unwrapped.problem, "record shorter than the 4-byte nflog header") << size;
    }
}

TEST(unwrap_nflog_record, other_versions_are_malformed)
{
    std::vector<std::byte> buffer;
    for (const int version : {1, 2, 255}) {
        const auto record = to_bytes({NFPROTO_IPV4, version, 0, 1, 8, 0, 1, 0, 8, 0, 1, 0});
        const auto unwrapped = unwrap_nflog_record(record, buffer);
        EXPECT_EQ(unwrapped.state, unwrapped_record::status::malformed) << version;
        EXPECT_EQ(unwrapped.problem, "unsupported nflog header version") << version;
    }
}

TEST(unwrap_nflog_record, buffer_is_reused_without_allocating)
{
    const auto large = nflog_record_of(packet_message(NFPROTO_IPV4, 1, concat({header_attribute(0x0800, 1),
                                                                               payload_attribute(bytes(1500))})));
    const auto small = nflog_record_of(packet_message(NFPROTO_IPV4, 1, header_attribute(0x0800, 1)));
    std::vector<std::byte> buffer;
    ASSERT_EQ(unwrap_nflog_record(large, buffer).state, unwrapped_record::status::datagram);
    const allocation_scope scope;
    for (int i = 0; i < 10; ++i) {
        EXPECT_EQ(unwrap_nflog_record(small, buffer).datagram.size(), 16 + small.size());
        EXPECT_EQ(unwrap_nflog_record(large, buffer).datagram.size(), 16 + large.size());
    }
    EXPECT_EQ(scope.count(), 0u);
}

TEST(nflog_record_of, is_what_unwrap_nflog_record_turns_back_into_the_message)
{
    const auto message = packet_message(
        NFPROTO_IPV4, 0x0203,
        concat({header_attribute(0x0800, 1), timestamp_attribute(1714566896, 5), prefix_attribute("DENIED \"x\""),
                vlan_attribute(0x8100, 7), payload_attribute(ipv4("192.0.2.1", "192.0.2.2", 6, tcp(1, 22)))}));
    const auto parsed = packet_view::parse(netlink::message_view(message));
    ASSERT_TRUE(parsed) << parsed.error().message();
    const auto record = nflog::watch::nflog_record_of(parsed.value());
    // A view into the message, not a copy: writing it costs no allocation.
    EXPECT_EQ(record.data(), message.data() + 16);
    EXPECT_EQ(bytes(record.begin(), record.end()), nflog_record_of(message));

    std::vector<std::byte> buffer;
    const auto unwrapped = unwrap_nflog_record(record, buffer);
    ASSERT_EQ(unwrapped.state, unwrapped_record::status::datagram);
    EXPECT_EQ(bytes(unwrapped.datagram.begin(), unwrapped.datagram.end()), message);
}

TEST(nflog_record_of, default_view_has_no_record)
{
    EXPECT_TRUE(nflog::watch::nflog_record_of(packet_view{}).empty());
}

} // namespace
