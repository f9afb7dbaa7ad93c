#include <nflog/packet.hpp>

#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;

// Fixed layout of the messages built below: netlink header, nfgenmsg, then
// the packet header attribute; the attribute under test starts after it.
constexpr std::ptrdiff_t header_attribute_offset = 16 + 4;
constexpr std::ptrdiff_t first_attribute_offset = header_attribute_offset + 8;
constexpr std::ptrdiff_t first_payload_offset = first_attribute_offset + 4;

bytes header_attribute(std::uint16_t hw_protocol = ETH_P_IP, std::uint8_t hook = NF_INET_LOCAL_IN)
{
    return attribute(NFULA_PACKET_HDR, packet_header(hw_protocol, hook));
}

/// An IPv4 packet of group 7: a valid header attribute, then `attributes`.
bytes packet_with(const bytes& attributes)
{
    return packet_message(NFPROTO_IPV4, 7, concat({header_attribute(), attributes}));
}

/// Parses the first message of `datagram`, cut to its nlmsg_len as the walk cuts it.
result<packet_view> parse(const bytes& datagram)
{
    const auto first = *netlink::message_range(datagram).begin();
    return packet_view::parse(first.value());
}

std::ptrdiff_t offset_in(const bytes& buffer, std::span<const std::byte> view) { return view.data() - buffer.data(); }

using u32_getter = std::optional<std::uint32_t> (packet_view::*)() const noexcept;
using u16_getter = std::optional<std::uint16_t> (packet_view::*)() const noexcept;
using span_getter = std::span<const std::byte> (packet_view::*)() const noexcept;

struct u32_attribute {
    std::uint16_t type;
    u32_getter get;
};
constexpr u32_attribute u32_attributes[] = {
    {NFULA_MARK, &packet_view::mark},
    {NFULA_IFINDEX_INDEV, &packet_view::indev},
    {NFULA_IFINDEX_OUTDEV, &packet_view::outdev},
    {NFULA_IFINDEX_PHYSINDEV, &packet_view::physindev},
    {NFULA_IFINDEX_PHYSOUTDEV, &packet_view::physoutdev},
    {NFULA_UID, &packet_view::uid},
    {NFULA_SEQ, &packet_view::seq},
    {NFULA_SEQ_GLOBAL, &packet_view::seq_global},
    {NFULA_GID, &packet_view::gid},
    {NFULA_CT_INFO, &packet_view::ct_info},
};

struct u16_attribute {
    std::uint16_t type;
    u16_getter get;
};
constexpr u16_attribute u16_attributes[] = {
    {NFULA_HWTYPE, &packet_view::hwtype},
    {NFULA_HWLEN, &packet_view::hwlen},
};

struct span_attribute {
    std::uint16_t type;
    span_getter get;
};
constexpr span_attribute span_attributes[] = {
    {NFULA_PAYLOAD, &packet_view::payload},
    {NFULA_HWHEADER, &packet_view::hwheader},
    {NFULA_CT, &packet_view::conntrack},
    {NFULA_L2HDR, &packet_view::l2hdr},
};

void expect_only_header(const packet_view& packet)
{
    for (const auto& [type, get] : u32_attributes)
        EXPECT_FALSE((packet.*get)().has_value()) << type;
    for (const auto& [type, get] : u16_attributes)
        EXPECT_FALSE((packet.*get)().has_value()) << type;
    for (const auto& [type, get] : span_attributes)
        EXPECT_TRUE((packet.*get)().empty()) << type;
    EXPECT_FALSE(packet.timestamp().has_value());
    EXPECT_TRUE(packet.hwaddr().empty());
    EXPECT_TRUE(packet.prefix().empty());
    EXPECT_FALSE(packet.vlan_proto().has_value());
    EXPECT_FALSE(packet.vlan_tci().has_value());
    for (std::uint16_t type = 0; type <= packet_view::max_attribute + 2; ++type) {
        EXPECT_EQ(packet.has(type), type == NFULA_PACKET_HDR) << type;
        EXPECT_EQ(packet.bytes(type).size(), type == NFULA_PACKET_HDR ? 4u : 0u) << type;
    }
}

// ---------------------------------------------------------------------------
// Values

TEST(packet_view, header_fields)
{
    const auto datagram = packet_message(NFPROTO_IPV6, 0xbeef, header_attribute(ETH_P_IPV6, NF_INET_FORWARD));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().group(), 0xbeefu);
    EXPECT_EQ(packet.value().family(), NFPROTO_IPV6);
    EXPECT_EQ(packet.value().hw_protocol(), ETH_P_IPV6);
    EXPECT_EQ(packet.value().hook(), NF_INET_FORWARD);
    EXPECT_TRUE(packet.value().has(NFULA_PACKET_HDR));
    EXPECT_EQ(offset_in(datagram, packet.value().bytes(NFULA_PACKET_HDR)), header_attribute_offset + 4);
    EXPECT_EQ(offset_in(datagram, packet.value().message()), 0);
    EXPECT_EQ(packet.value().message().size(), datagram.size());
    expect_only_header(packet.value());
}

TEST(packet_view, every_u32_attribute_round_trips)
{
    for (const auto& [type, get] : u32_attributes) {
        const std::uint32_t value = 0x80000000u | (std::uint32_t{type} << 8) | 0x5au;
        const auto datagram = packet_with(attribute(type, be(value)));
        const auto packet = parse(datagram);
        ASSERT_TRUE(packet) << type;
        EXPECT_EQ((packet.value().*get)(), value) << type;
        EXPECT_TRUE(packet.value().has(type)) << type;
        EXPECT_EQ(offset_in(datagram, packet.value().bytes(type)), first_payload_offset) << type;
        EXPECT_EQ(packet.value().bytes(type).size(), 4u) << type;
        for (const auto& other : u32_attributes) {
            if (other.type != type) {
                EXPECT_FALSE((packet.value().*other.get)().has_value()) << type << " leaks into " << other.type;
            }
        }
    }
}

TEST(packet_view, every_u16_attribute_round_trips)
{
    for (const auto& [type, get] : u16_attributes) {
        const std::uint16_t value = 0x8000u | type;
        const auto datagram = packet_with(attribute(type, be(value)));
        const auto packet = parse(datagram);
        ASSERT_TRUE(packet) << type;
        EXPECT_EQ((packet.value().*get)(), value) << type;
        EXPECT_EQ(offset_in(datagram, packet.value().bytes(type)), first_payload_offset) << type;
        for (const auto& other : u16_attributes) {
            if (other.type != type) {
                EXPECT_FALSE((packet.value().*other.get)().has_value()) << type;
            }
        }
    }
}

TEST(packet_view, every_byte_attribute_round_trips_in_place)
{
    for (const auto& [type, get] : span_attributes) {
        const auto content = to_bytes({0x45, 0x00, 0x00, 0x54, type, 0xff, 0x00});
        const auto datagram = packet_with(attribute(type, content));
        const auto packet = parse(datagram);
        ASSERT_TRUE(packet) << type;
        const auto view = (packet.value().*get)();
        EXPECT_EQ(offset_in(datagram, view), first_payload_offset) << "zero-copy: the span points into the message";
        EXPECT_EQ(bytes(view.begin(), view.end()), content) << type;
        EXPECT_EQ(packet.value().bytes(type).data(), view.data()) << type;
    }
}

TEST(packet_view, byte_attributes_may_be_empty_yet_present)
{
    for (const auto& [type, get] : span_attributes) {
        const auto datagram = packet_with(attribute(type, bytes{}));
        const auto packet = parse(datagram);
        ASSERT_TRUE(packet) << type;
        EXPECT_TRUE(packet.value().has(type)) << type;
        EXPECT_TRUE((packet.value().*get)().empty()) << type;
    }
}

TEST(packet_view, timestamp)
{
    const auto datagram = packet_with(attribute(NFULA_TIMESTAMP, timestamp_payload(1'700'000'000, 123'456)));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    ASSERT_TRUE(packet.value().timestamp().has_value());
    EXPECT_EQ(packet.value().timestamp().value().time_since_epoch(), 1'700'000'000s + 123'456us);
}

TEST(packet_view, timestamp_at_the_epoch)
{
    const auto datagram = packet_with(attribute(NFULA_TIMESTAMP, timestamp_payload(0, 0)));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().timestamp(), std::chrono::system_clock::time_point{});
}

TEST(packet_view, hostile_timestamps_saturate_instead_of_overflowing)
{
    // 9e9 s (year 2255) is the documented limit: it still fits system_clock in
    // nanoseconds together with a full second of microseconds.
    constexpr std::uint64_t limit = 9'000'000'000ull;
    constexpr auto all_ones = std::numeric_limits<std::uint64_t>::max();
    struct sample {
        std::uint64_t seconds, micros;
        std::chrono::microseconds expected;
    };
    const sample samples[] = {
        {limit, 0, std::chrono::seconds(limit)},
        {limit - 1, 999'999, std::chrono::seconds(limit - 1) + 999'999us},
        {limit + 1, 0, std::chrono::seconds(limit)},
        {limit, 999'999, std::chrono::seconds(limit) + 999'999us},
        {all_ones, all_ones, std::chrono::seconds(limit) + 999'999us},
        {std::uint64_t{1} << 63, 0, std::chrono::seconds(limit)},
        {0, 1'000'000, 999'999us},
        {0, all_ones, 999'999us},
    };
    for (const auto& [seconds, micros, expected] : samples) {
        const auto datagram = packet_with(attribute(NFULA_TIMESTAMP, timestamp_payload(seconds, micros)));
        const auto packet = parse(datagram);
        ASSERT_TRUE(packet) << seconds;
        const auto at = packet.value().timestamp();
        ASSERT_TRUE(at.has_value()) << seconds;
        EXPECT_EQ(at.value().time_since_epoch(), expected) << seconds << " s " << micros << " us";
        EXPECT_GE(at.value().time_since_epoch().count(), 0) << seconds;
    }
}

TEST(packet_view, hwaddr_is_cut_to_its_declared_length)
{
    const auto datagram = packet_with(attribute(NFULA_HWADDR, hwaddr_payload(6, {0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0xee, 0xee})));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    const auto address = packet.value().hwaddr();
    EXPECT_EQ(bytes(address.begin(), address.end()), to_bytes({0x02, 0x42, 0xac, 0x11, 0x00, 0x02}));
    EXPECT_EQ(offset_in(datagram, address), first_payload_offset + 4);
}

TEST(packet_view, hwaddr_length_beyond_its_field_is_clamped_to_eight)
{
    for (std::uint16_t declared : {9, 16, 0x100, 0xffff}) {
        const auto datagram = packet_with(attribute(NFULA_HWADDR, hwaddr_payload(declared, {1, 2, 3, 4, 5, 6, 7, 8})));
        const auto packet = parse(datagram);
        ASSERT_TRUE(packet) << declared;
        const auto address = packet.value().hwaddr();
        EXPECT_EQ(bytes(address.begin(), address.end()), to_bytes({1, 2, 3, 4, 5, 6, 7, 8})) << declared;
    }
}

TEST(packet_view, hwaddr_of_length_zero_is_empty_but_present)
{
    const auto datagram = packet_with(attribute(NFULA_HWADDR, hwaddr_payload(0, {1, 2})));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_TRUE(packet.value().has(NFULA_HWADDR));
    EXPECT_TRUE(packet.value().hwaddr().empty());
}

TEST(packet_view, prefix)
{
    const auto datagram = packet_with(attribute(NFULA_PREFIX, nul_terminated("nflog-drop: ")));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().prefix(), "nflog-drop: ");
    EXPECT_EQ(packet.value().bytes(NFULA_PREFIX).size(), 13u) << "the raw attribute keeps its NUL";
    EXPECT_EQ(offset_in(datagram, as_bytes(std::span(packet.value().prefix()))), first_payload_offset);
}

TEST(packet_view, prefix_of_the_kernel_maximum)
{
    const std::string longest(127, 'p');
    const auto datagram = packet_with(attribute(NFULA_PREFIX, nul_terminated(longest)));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().prefix(), longest);
}

TEST(packet_view, empty_prefix)
{
    const auto datagram = packet_with(attribute(NFULA_PREFIX, nul_terminated("")));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_TRUE(packet.value().has(NFULA_PREFIX));
    EXPECT_EQ(packet.value().prefix(), "");
}

TEST(packet_view, prefix_with_embedded_nul_ends_at_it)
{
    const auto datagram = packet_with(attribute(NFULA_PREFIX, to_bytes(std::string_view("head\0tail\0", 10))));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().prefix(), "head");
}

TEST(packet_view, unterminated_prefix_ends_at_the_attribute)
{
    // Bytes after the attribute (another attribute) must not leak into it.
    const auto datagram = packet_with(concat({attribute(NFULA_PREFIX, to_bytes("abcde")), attribute(NFULA_MARK, be<std::uint32_t>(0x41414141))}));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().prefix(), "abcde");
}

TEST(packet_view, vlan)
{
    const auto vlan = concat({attribute(NFULA_VLAN_PROTO, be<std::uint16_t>(ETH_P_8021Q)), attribute(NFULA_VLAN_TCI, be<std::uint16_t>(0xa064))});
    const auto datagram = packet_with(nested_attribute(NFULA_VLAN, vlan));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().vlan_proto(), ETH_P_8021Q);
    EXPECT_EQ(packet.value().vlan_tci(), 0xa064u);
    EXPECT_EQ(bytes(packet.value().bytes(NFULA_VLAN).begin(), packet.value().bytes(NFULA_VLAN).end()), vlan);
}

TEST(packet_view, vlan_with_one_member)
{
    const auto datagram = packet_with(nested_attribute(NFULA_VLAN, attribute(NFULA_VLAN_TCI, be<std::uint16_t>(5))));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_FALSE(packet.value().vlan_proto().has_value());
    EXPECT_EQ(packet.value().vlan_tci(), 5u);
}

TEST(packet_view, vlan_without_nested_flag_is_read_the_same)
{
    const auto vlan = attribute(NFULA_VLAN_PROTO, be<std::uint16_t>(0x88a8));
    const auto datagram = packet_with(attribute(NFULA_VLAN, vlan));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().vlan_proto(), 0x88a8u);
}

TEST(packet_view, vlan_ignores_unknown_members)
{
    const auto vlan = concat({attribute(0, to_bytes({1})), attribute(3, to_bytes({1, 2, 3})), attribute(NFULA_VLAN_TCI, be<std::uint16_t>(7)),
                              attribute(0x3fff, bytes{})});
    const auto datagram = packet_with(nested_attribute(NFULA_VLAN, vlan));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().vlan_tci(), 7u);
    EXPECT_FALSE(packet.value().vlan_proto().has_value());
}

TEST(packet_view, empty_vlan_is_present_without_members)
{
    const auto datagram = packet_with(nested_attribute(NFULA_VLAN, {}));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_TRUE(packet.value().has(NFULA_VLAN));
    EXPECT_FALSE(packet.value().vlan_proto().has_value());
    EXPECT_FALSE(packet.value().vlan_tci().has_value());
}

TEST(packet_view, every_attribute_at_once)
{
    const auto attributes = concat({
        attribute(NFULA_MARK, be<std::uint32_t>(0x00c0ffee)),
        attribute(NFULA_TIMESTAMP, timestamp_payload(1'712'345'678, 999'999)),
        attribute(NFULA_IFINDEX_INDEV, be<std::uint32_t>(2)),
        attribute(NFULA_IFINDEX_OUTDEV, be<std::uint32_t>(3)),
        attribute(NFULA_IFINDEX_PHYSINDEV, be<std::uint32_t>(4)),
        attribute(NFULA_IFINDEX_PHYSOUTDEV, be<std::uint32_t>(5)),
        attribute(NFULA_HWADDR, hwaddr_payload(6, {0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff})),
        attribute(NFULA_PAYLOAD, to_bytes({0x45, 0x00, 0x00, 0x1c, 0x00, 0x01})),
        attribute(NFULA_PREFIX, nul_terminated("blocked")),
        attribute(NFULA_UID, be<std::uint32_t>(1000)),
        attribute(NFULA_SEQ, be<std::uint32_t>(17)),
        attribute(NFULA_SEQ_GLOBAL, be<std::uint32_t>(4711)),
        attribute(NFULA_GID, be<std::uint32_t>(100)),
        attribute(NFULA_HWTYPE, be<std::uint16_t>(1)),
        attribute(NFULA_HWHEADER, to_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00})),
        attribute(NFULA_HWLEN, be<std::uint16_t>(14)),
        nested_attribute(NFULA_CT, attribute(1, to_bytes({9, 8, 7, 6}))),
        attribute(NFULA_CT_INFO, be<std::uint32_t>(2)),
        nested_attribute(NFULA_VLAN, concat({attribute(NFULA_VLAN_PROTO, be<std::uint16_t>(0x8100)), attribute(NFULA_VLAN_TCI, be<std::uint16_t>(42))})),
        attribute(NFULA_L2HDR, to_bytes({0x81, 0x00, 0x00, 0x2a})),
    });
    const auto datagram = packet_message(NFPROTO_BRIDGE, 3, concat({header_attribute(ETH_P_IP, NF_INET_PRE_ROUTING), attributes}));
    const auto parsed = parse(datagram);
    ASSERT_TRUE(parsed);
    const auto& packet = parsed.value();

    EXPECT_EQ(packet.group(), 3u);
    EXPECT_EQ(packet.family(), NFPROTO_BRIDGE);
    EXPECT_EQ(packet.hw_protocol(), ETH_P_IP);
    EXPECT_EQ(packet.hook(), NF_INET_PRE_ROUTING);
    EXPECT_EQ(packet.mark(), 0x00c0ffeeu);
    EXPECT_EQ(packet.timestamp().value().time_since_epoch(), 1'712'345'678s + 999'999us);
    EXPECT_EQ(packet.indev(), 2u);
    EXPECT_EQ(packet.outdev(), 3u);
    EXPECT_EQ(packet.physindev(), 4u);
    EXPECT_EQ(packet.physoutdev(), 5u);
    EXPECT_EQ(bytes(packet.hwaddr().begin(), packet.hwaddr().end()), to_bytes({0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff}));
    EXPECT_EQ(bytes(packet.payload().begin(), packet.payload().end()), to_bytes({0x45, 0x00, 0x00, 0x1c, 0x00, 0x01}));
    EXPECT_EQ(packet.prefix(), "blocked");
    EXPECT_EQ(packet.uid(), 1000u);
    EXPECT_EQ(packet.seq(), 17u);
    EXPECT_EQ(packet.seq_global(), 4711u);
    EXPECT_EQ(packet.gid(), 100u);
    EXPECT_EQ(packet.hwtype(), 1u);
    EXPECT_EQ(bytes(packet.hwheader().begin(), packet.hwheader().end()), to_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x08, 0x00}));
    EXPECT_EQ(packet.hwlen(), 14u);
    EXPECT_EQ(bytes(packet.conntrack().begin(), packet.conntrack().end()), attribute(1, to_bytes({9, 8, 7, 6})));
    EXPECT_EQ(packet.ct_info(), 2u);
    EXPECT_EQ(packet.vlan_proto(), 0x8100u);
    EXPECT_EQ(packet.vlan_tci(), 42u);
    EXPECT_EQ(bytes(packet.l2hdr().begin(), packet.l2hdr().end()), to_bytes({0x81, 0x00, 0x00, 0x2a}));
    for (std::uint16_t type = 1; type <= packet_view::max_attribute; ++type)
        EXPECT_TRUE(packet.has(type)) << type;
    EXPECT_FALSE(packet.has(0));
    EXPECT_FALSE(packet.has(packet_view::max_attribute + 1));
}

TEST(packet_view, attribute_flags_are_masked)
{
    const auto datagram = packet_with(concat({attribute(NFULA_MARK | NLA_F_NESTED, be<std::uint32_t>(11)),
                                              attribute(NFULA_UID | NLA_F_NET_BYTEORDER, be<std::uint32_t>(12)),
                                              attribute(NFULA_GID | NLA_F_NESTED | NLA_F_NET_BYTEORDER, be<std::uint32_t>(13))}));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    // NFLOG integers are big-endian whatever the flag says.
    EXPECT_EQ(packet.value().mark(), 11u);
    EXPECT_EQ(packet.value().uid(), 12u);
    EXPECT_EQ(packet.value().gid(), 13u);
}

TEST(packet_view, unknown_and_zero_types_are_ignored_whatever_their_size)
{
    const auto datagram = packet_with(concat({attribute(0, to_bytes({1, 2, 3})), attribute(packet_view::max_attribute + 1, to_bytes({1})),
                                              attribute(0x3fff, bytes(33, std::byte{7})), attribute(NFULA_MARK, be<std::uint32_t>(1))}));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().mark(), 1u);
    EXPECT_FALSE(packet.value().has(0));
    EXPECT_FALSE(packet.value().has(packet_view::max_attribute + 1));
    EXPECT_FALSE(packet.value().has(0x3fff));
    EXPECT_TRUE(packet.value().bytes(0).empty());
    EXPECT_TRUE(packet.value().bytes(packet_view::max_attribute + 1).empty());
    EXPECT_TRUE(packet.value().bytes(0xffff).empty());
}

// Duplicates: the last occurrence wins, exactly as a libmnl table filled by
// mnl_attr_parse() keeps the last pointer per type.
TEST(packet_view, duplicated_attribute_last_wins)
{
    const auto datagram = packet_with(concat({attribute(NFULA_MARK, be<std::uint32_t>(1)), attribute(NFULA_PREFIX, nul_terminated("first")),
                                              attribute(NFULA_MARK, be<std::uint32_t>(2)), attribute(NFULA_PREFIX, nul_terminated("second"))}));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().mark(), 2u);
    EXPECT_EQ(packet.value().prefix(), "second");
}

TEST(packet_view, duplicated_packet_header_last_wins)
{
    const auto datagram = packet_with(header_attribute(ETH_P_IPV6, NF_INET_POST_ROUTING));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().hw_protocol(), ETH_P_IPV6);
    EXPECT_EQ(packet.value().hook(), NF_INET_POST_ROUTING);
}

TEST(packet_view, duplicated_vlan_replaces_every_member)
{
    const auto first = nested_attribute(NFULA_VLAN, concat({attribute(NFULA_VLAN_PROTO, be<std::uint16_t>(0x8100)), attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1))}));
    const auto second = nested_attribute(NFULA_VLAN, attribute(NFULA_VLAN_PROTO, be<std::uint16_t>(0x88a8)));
    const auto datagram = packet_with(concat({first, second}));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().vlan_proto(), 0x88a8u);
    EXPECT_FALSE(packet.value().vlan_tci().has_value()) << "the first nest's TCI must not survive";
}

TEST(packet_view, duplicated_vlan_member_last_wins)
{
    const auto vlan = concat({attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1)), attribute(NFULA_VLAN_TCI, be<std::uint16_t>(2))});
    const auto datagram = packet_with(nested_attribute(NFULA_VLAN, vlan));
    const auto packet = parse(datagram);
    ASSERT_TRUE(packet);
    EXPECT_EQ(packet.value().vlan_tci(), 2u);
}

TEST(packet_view, default_constructed_is_empty)
{
    const packet_view packet;
    EXPECT_EQ(packet.group(), 0u);
    EXPECT_EQ(packet.family(), 0u);
    EXPECT_EQ(packet.hw_protocol(), 0u);
    EXPECT_EQ(packet.hook(), 0u);
    EXPECT_TRUE(packet.message().empty());
    for (std::uint16_t type = 0; type <= packet_view::max_attribute; ++type)
        EXPECT_FALSE(packet.has(type)) << type;
    EXPECT_FALSE(packet.timestamp().has_value());
    EXPECT_TRUE(packet.hwaddr().empty());
    EXPECT_TRUE(packet.prefix().empty());
    EXPECT_FALSE(packet.vlan_tci().has_value());
}

// ---------------------------------------------------------------------------
// Malformed messages

TEST(packet_view, other_message_types_are_not_packets)
{
    for (std::uint16_t type : {std::uint16_t{NLMSG_ERROR}, std::uint16_t{NLMSG_NOOP},
                               std::uint16_t{(NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG}, std::uint16_t{(NFNL_SUBSYS_QUEUE << 8)}}) {
        const auto datagram = message(type, concat({nfgen(NFPROTO_IPV4, 1), header_attribute()}));
        EXPECT_EQ(parse(datagram).error(), errc::not_a_packet) << type;
    }
}

TEST(packet_view, short_nfgenmsg)
{
    for (std::size_t size = 0; size < 4; ++size) {
        const auto datagram = message(packet_message_type, bytes(size, std::byte{2}));
        EXPECT_EQ(parse(datagram).error(), errc::short_nfgenmsg) << size;
    }
}

TEST(packet_view, missing_packet_header)
{
    const auto bare = packet_message(NFPROTO_IPV4, 1, {});
    EXPECT_EQ(parse(bare).error(), errc::missing_packet_header);
    const auto without = packet_message(NFPROTO_IPV4, 1, concat({attribute(NFULA_PREFIX, nul_terminated("x")), attribute(NFULA_MARK, be<std::uint32_t>(1))}));
    EXPECT_EQ(parse(without).error(), errc::missing_packet_header);
    EXPECT_EQ(parse(without).error(), condition::malformed);
}

TEST(packet_view, truncated_attribute_header)
{
    for (std::size_t tail = 1; tail < 4; ++tail) {
        auto attributes = concat({header_attribute(), attribute(NFULA_MARK, be<std::uint32_t>(1))});
        attributes.resize(attributes.size() + tail, std::byte{0x08});
        const auto datagram = packet_message(NFPROTO_IPV4, 1, attributes);
        EXPECT_EQ(parse(datagram).error(), errc::short_attribute) << tail;
    }
}

TEST(packet_view, attribute_length_below_its_header)
{
    for (int forged = 0; forged < 4; ++forged) {
        const auto datagram = packet_with(attribute(NFULA_MARK, be<std::uint32_t>(1), forged));
        EXPECT_EQ(parse(datagram).error(), errc::bad_attribute_length) << forged;
    }
}

TEST(packet_view, attribute_running_past_its_message)
{
    // The next message's bytes are in the buffer; the attribute must still end
    // inside its own message.
    auto packet = packet_with(attribute(NFULA_PAYLOAD, to_bytes({1, 2, 3, 4}), 8 + 16));
    const auto datagram = concat({packet, message(packet_message_type, bytes(16, std::byte{0}))});
    EXPECT_EQ(parse(datagram).error(), errc::bad_attribute_length);
}

TEST(packet_view, attribute_ending_in_the_padding_of_its_message)
{
    // nlmsg_len = 37 cuts the payload attribute (nla_len 9) by one byte:
    // the padding up to 40 does not belong to the message.
    auto datagram = packet_with(attribute(NFULA_PAYLOAD, to_bytes({1, 2, 3, 4, 5})));
    ASSERT_EQ(datagram.size(), 40u);
    datagram[0] = std::byte{36};
    EXPECT_EQ(parse(datagram).error(), errc::bad_attribute_length);
    datagram[0] = std::byte{37};
    ASSERT_TRUE(parse(datagram));
    EXPECT_EQ(parse(datagram).value().payload().size(), 5u);
}

TEST(packet_view, fixed_size_attribute_of_the_wrong_size)
{
    struct fixed {
        std::uint16_t type;
        std::size_t size;
    };
    const fixed fixed_attributes[] = {
        {NFULA_MARK, 4}, {NFULA_TIMESTAMP, 16}, {NFULA_IFINDEX_INDEV, 4}, {NFULA_IFINDEX_OUTDEV, 4}, {NFULA_IFINDEX_PHYSINDEV, 4},
        {NFULA_IFINDEX_PHYSOUTDEV, 4}, {NFULA_HWADDR, 12}, {NFULA_UID, 4}, {NFULA_SEQ, 4}, {NFULA_SEQ_GLOBAL, 4}, {NFULA_GID, 4},
        {NFULA_HWTYPE, 2}, {NFULA_HWLEN, 2}, {NFULA_CT_INFO, 4},
    };
    for (const auto& [type, size] : fixed_attributes) {
        for (const std::size_t wrong : {std::size_t{0}, size - 1, size + 1, size + 4}) {
            const auto datagram = packet_with(attribute(type, bytes(wrong, std::byte{0x42})));
            EXPECT_EQ(parse(datagram).error(), errc::bad_attribute_size) << type << " of " << wrong << " bytes";
        }
        const auto right = packet_with(attribute(type, bytes(size, std::byte{0x42})));
        EXPECT_TRUE(parse(right)) << type;
    }
    for (const std::size_t wrong : {0u, 3u, 5u, 8u}) {
        const auto datagram = packet_message(NFPROTO_IPV4, 1, attribute(NFULA_PACKET_HDR, bytes(wrong, std::byte{1})));
        EXPECT_EQ(parse(datagram).error(), errc::bad_attribute_size) << "packet header of " << wrong << " bytes";
    }
}

TEST(packet_view, an_error_after_good_attributes_fails_the_whole_packet)
{
    const auto datagram = packet_with(concat({attribute(NFULA_MARK, be<std::uint32_t>(1)), attribute(NFULA_UID, be<std::uint16_t>(1))}));
    EXPECT_EQ(parse(datagram).error(), errc::bad_attribute_size);
}

TEST(packet_view, malformed_vlan_members)
{
    struct sample {
        const char* what;
        bytes members;
        errc expected;
    };
    auto short_tail = attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1));
    short_tail.resize(short_tail.size() + 2, std::byte{6});
    const sample samples[] = {
        {"length 0", attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1), 0), errc::bad_attribute_length},
        {"length 3", attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1), 3), errc::bad_attribute_length},
        {"past the nest", attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1), 12), errc::bad_attribute_length},
        {"short tail", short_tail, errc::short_attribute},
        {"proto of 1 byte", attribute(NFULA_VLAN_PROTO, to_bytes({0x81})), errc::bad_attribute_size},
        {"proto of 4 bytes", attribute(NFULA_VLAN_PROTO, be<std::uint32_t>(0x8100)), errc::bad_attribute_size},
        {"tci of 0 bytes", attribute(NFULA_VLAN_TCI, bytes{}), errc::bad_attribute_size},
        {"tci of 3 bytes", attribute(NFULA_VLAN_TCI, to_bytes({0, 1, 2})), errc::bad_attribute_size},
    };
    for (const auto& [what, members, expected] : samples) {
        // A mark after the nest proves the outer walk does not excuse the nest.
        const auto datagram = packet_with(concat({nested_attribute(NFULA_VLAN, members), attribute(NFULA_MARK, be<std::uint32_t>(1))}));
        EXPECT_EQ(parse(datagram).error(), expected) << what;
    }
}

} // namespace
