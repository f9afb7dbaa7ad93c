#include "event_json.hpp"

#include "support/counting_allocator.hpp"
#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"

#include <gtest/gtest.h>

#include <linux/netfilter.h>
#include <netinet/in.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace nflog::test::packets;
using nflog::watch::begin_error;
using nflog::watch::event_context;
using nflog::watch::time_source;
using nflog::watch::write_event;

constexpr std::uint16_t eth_p_ip = 0x0800;
constexpr std::uint16_t eth_p_arp = 0x0806;
constexpr std::uint16_t eth_p_ipv6 = 0x86dd;

event_context capture_at_epoch()
{
    event_context context;
    context.fallback_source = time_source::capture;
    return context;
}

// What the read loop and the live mode do with one message: parse, decode, write.
std::string event_line(const bytes& message, const event_context& context)
{
    const auto parsed = packet_view::parse(netlink::message_view(message));
    EXPECT_TRUE(parsed) << parsed.error().message();
    if (!parsed)
        return {};
    const auto& packet = parsed.assume_value();
    const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
    std::string line;
    write_event(line, packet, flow, context);
    return line;
}

// An IPv4 packet on LOCAL_IN of group 0 carrying only its header and `payload`:
// every line it gives starts with `head` and ends with its payload length.
bytes ipv4_input(const bytes& payload, std::uint16_t hw_protocol = eth_p_ip)
{
    return packet_message(NFPROTO_IPV4, 0, concat({header_attribute(hw_protocol, NF_INET_LOCAL_IN), payload_attribute(payload)}));
}

constexpr std::string_view head = R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog",)"
                                  R"("action":"nflog","container":"","group":0,"family":"ipv4","hook":1,"hw_protocol":2048,)";

std::string expected_ipv4_line(std::string_view flow_members, std::size_t payload_length)
{
    return std::string(head) + std::string(flow_members) + ",\"payload_len\":" + std::to_string(payload_length) + "}";
}

TEST(write_event, every_attribute_of_an_input_packet)
{
    const auto message = packet_message(
        NFPROTO_IPV4, 5,
        concat({header_attribute(eth_p_ip, NF_INET_LOCAL_IN), be32_attribute(NFULA_MARK, 42),
                timestamp_attribute(1714566896, 789), be32_attribute(NFULA_IFINDEX_INDEV, 3),
                hwaddr_attribute(to_bytes({0x02, 0x42, 0xac, 0x11, 0x00, 0x02})),
                payload_attribute(ipv4("10.0.0.2", "192.0.2.1", IPPROTO_TCP, tcp(40000, 443))),
                prefix_attribute("DENIED: "), be32_attribute(NFULA_UID, 1000), be32_attribute(NFULA_SEQ, 7),
                be32_attribute(NFULA_SEQ_GLOBAL, 8), be32_attribute(NFULA_GID, 1001)}));
    auto context = capture_at_epoch();
    context.container = "web";
    EXPECT_EQ(event_line(message, context),
              R"({"ts":"2024-05-01T12:34:56.000789+00:00","ts_source":"kernel","source":"nflog",)"
              R"("action":"blocked_connection","container":"web","group":5,"family":"ipv4","hook":1,)"
              R"("hw_protocol":2048,"prefix":"DENIED: ","detail":"DENIED:","l3":"ipv4","src":"10.0.0.2",)"
              R"("dest":"192.0.2.1","proto":6,"sport":40000,"dport":443,"port":443,"mark":42,"indev":3,)"
              R"("uid":1000,"gid":1001,"seq":7,"seq_global":8,"hwaddr":"02:42:ac:11:00:02","payload_len":40})");
}

TEST(write_event, output_packet_without_kernel_time_uses_the_fallback_and_escapes_the_prefix)
{
    const auto message = packet_message(
        NFPROTO_IPV6, 0,
        concat({header_attribute(eth_p_ipv6, NF_INET_LOCAL_OUT), be32_attribute(NFULA_IFINDEX_OUTDEV, 2),
                payload_attribute(ipv6("2001:db8::1", "2001:db8::53", IPPROTO_UDP, udp(5353, 53))),
                prefix_attribute("q\"\\\x01\xff" "caf\xc3\xa9"), be32_attribute(NFULA_UID, 0),
                be32_attribute(NFULA_GID, 0)}));
    event_context context;
    context.fallback_time = std::chrono::system_clock::time_point(std::chrono::seconds(1714566896) +
                                                                  std::chrono::microseconds(500000));
    context.fallback_source = time_source::local;
    context.netns = "blue";
    EXPECT_EQ(event_line(message, context),
              R"({"ts":"2024-05-01T12:34:56.500000+00:00","ts_source":"local","source":"nflog","action":"nflog",)"
              R"("container":"","netns":"blue","group":0,"family":"ipv6","hook":3,"hw_protocol":34525,)"
              R"("prefix":"q\"\\\u0001\ufffdcafé","detail":"q\"\\\u0001\ufffdcafé","l3":"ipv6",)"
              R"("src":"2001:db8::1","dest":"2001:db8::53","proto":17,"sport":5353,"dport":53,"port":53,)"
              R"("outdev":2,"uid":0,"gid":0,"payload_len":48})");
}

TEST(write_event, header_only_message_gives_the_fields_every_event_has)
{
    const auto message = packet_message(NFPROTO_IPV4, 1, header_attribute(0, NF_INET_POST_ROUTING));
    // No payload at all: the decoder calls that truncated, with no network layer.
    EXPECT_EQ(event_line(message, capture_at_epoch()),
              R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
              R"("container":"","group":1,"family":"ipv4","hook":4,"hw_protocol":0,"truncated":true})");
}

TEST(write_event, empty_prefix_is_written_as_empty)
{
    const auto message = packet_message(NFPROTO_IPV4, 1,
                                        concat({header_attribute(0, NF_INET_POST_ROUTING), prefix_attribute("")}));
    EXPECT_EQ(event_line(message, capture_at_epoch()),
              R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
              R"("container":"","group":1,"family":"ipv4","hook":4,"hw_protocol":0,"prefix":"","detail":"",)"
              R"("truncated":true})");
}

// `detail` is the prefix without surrounding ASCII white space, as the
// original watcher gave it; `prefix` keeps every byte.
TEST(write_event, detail_is_the_prefix_without_surrounding_white_space)
{
    const auto with_prefix = [](std::string_view prefix) {
        return event_line(packet_message(NFPROTO_IPV4, 1,
                                         concat({header_attribute(0, NF_INET_POST_ROUTING), prefix_attribute(prefix)})),
                          capture_at_epoch());
    };
    const auto expected = [](std::string_view action, std::string_view prefix, std::string_view detail) {
        return R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":")" +
               std::string(action) + R"(","container":"","group":1,"family":"ipv4","hook":4,"hw_protocol":0,)" +
               R"("prefix":")" + std::string(prefix) + R"(","detail":")" + std::string(detail) +
               R"(","truncated":true})";
    };
    EXPECT_EQ(with_prefix(" \t DENIED ssh \r\n"),
              expected("blocked_connection", R"( \t DENIED ssh \r\n)", "DENIED ssh"));
    EXPECT_EQ(with_prefix("\x1f\vALLOWED\f\x1c"),
              expected("allowed_connection", R"(\u001f\u000bALLOWED\f\u001c)", "ALLOWED"));
    EXPECT_EQ(with_prefix("  "), expected("nflog", "  ", ""));
    // Inner space stays, and so does what Python's ASCII strip keeps.
    EXPECT_EQ(with_prefix("\x01" "a b\x7f"), expected("nflog", R"(\u0001a b\u007f)", R"(\u0001a b\u007f)"));
}

TEST(write_event, arp_probe_keeps_its_unspecified_sender)
{
    const auto message = packet_message(
        NFPROTO_ARP, 2,
        concat({header_attribute(eth_p_arp, 0), prefix_attribute("ALLOWED arp"),
                payload_attribute(arp(1, "0.0.0.0", "192.0.2.7"))}));
    EXPECT_EQ(event_line(message, capture_at_epoch()),
              R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog",)"
              R"("action":"allowed_connection","container":"","group":2,"family":"arp","hook":0,"hw_protocol":2054,)"
              R"("prefix":"ALLOWED arp","detail":"ALLOWED arp","l3":"arp","src":"0.0.0.0","dest":"192.0.2.7",)"
              R"("arp_op":1,"payload_len":28})");
}

TEST(write_event, protocols_are_numbers_as_the_original_watcher_wrote_them)
{
    EXPECT_EQ(event_line(ipv4_input(ipv4("192.0.2.1", "192.0.2.2", IPPROTO_ICMP, icmp(8, 0))), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"192.0.2.1","dest":"192.0.2.2","proto":1,)"
                                 R"("icmp_type":8,"icmp_code":0)",
                                 28));
    EXPECT_EQ(event_line(ipv4_input(ipv4("192.0.2.1", "192.0.2.2", IPPROTO_SCTP, sctp(3868, 3869))), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"192.0.2.1","dest":"192.0.2.2","proto":132,)"
                                 R"("sport":3868,"dport":3869,"port":3869)",
                                 32));
    EXPECT_EQ(event_line(ipv4_input(ipv4("192.0.2.1", "192.0.2.2", IPPROTO_UDPLITE, udp(1000, 2000))), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"192.0.2.1","dest":"192.0.2.2","proto":136,)"
                                 R"("sport":1000,"dport":2000,"port":2000)",
                                 28));
    EXPECT_EQ(event_line(ipv4_input(ipv4("192.0.2.1", "192.0.2.2", IPPROTO_GRE, to_bytes({0, 0, 0x08, 0}))),
                         capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"192.0.2.1","dest":"192.0.2.2","proto":47)", 24));

    const auto icmpv6 = packet_message(
        NFPROTO_IPV6, 0,
        concat({header_attribute(eth_p_ipv6, NF_INET_FORWARD),
                payload_attribute(ipv6("2001:db8::1", "2001:db8::2", IPPROTO_ICMPV6, icmp(128, 0)))}));
    EXPECT_EQ(event_line(icmpv6, capture_at_epoch()),
              R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
              R"("container":"","group":0,"family":"ipv6","hook":2,"hw_protocol":34525,"l3":"ipv6",)"
              R"("src":"2001:db8::1","dest":"2001:db8::2","proto":58,"icmp_type":128,"icmp_code":0,)"
              R"("payload_len":48})");
}

TEST(write_event, fragments)
{
    // The first fragment still has its ports; a later one has none to report.
    EXPECT_EQ(event_line(ipv4_input(ipv4("192.0.2.1", "192.0.2.2", IPPROTO_UDP, udp(53, 40000), 0x2000)),
                         capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"192.0.2.1","dest":"192.0.2.2","proto":17,)"
                                 R"("sport":53,"dport":40000,"port":40000,"fragment":true)",
                                 28));
    EXPECT_EQ(event_line(ipv4_input(ipv4("192.0.2.1", "192.0.2.2", IPPROTO_UDP, to_bytes({1, 2, 3, 4, 5, 6, 7, 8}),
                                         0x00b9)),
                         capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"192.0.2.1","dest":"192.0.2.2","proto":17,"fragment":true)", 28));
}

TEST(write_event, truncated_copy_reports_what_was_read)
{
    const auto whole = ipv4("10.1.2.3", "10.3.2.1", IPPROTO_TCP, tcp(1234, 80));
    EXPECT_EQ(event_line(ipv4_input(bytes(whole.begin(), whole.begin() + 12)), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","proto":6,"truncated":true)", 12));
    EXPECT_EQ(event_line(ipv4_input(bytes(whole.begin(), whole.begin() + 19)), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"10.1.2.3","proto":6,"truncated":true)", 19));
    EXPECT_EQ(event_line(ipv4_input(bytes(whole.begin(), whole.begin() + 22)), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"10.1.2.3","dest":"10.3.2.1","proto":6,"truncated":true)",
                                 22));
    EXPECT_EQ(event_line(ipv4_input(bytes(whole.begin(), whole.begin() + 30)), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"10.1.2.3","dest":"10.3.2.1","proto":6,)"
                                 R"("sport":1234,"dport":80,"port":80,"truncated":true)",
                                 30));
}

TEST(write_event, unspecified_address_is_written_whenever_it_was_read)
{
    const auto discover = ipv4("0.0.0.0", "255.255.255.255", IPPROTO_UDP, udp(68, 67));
    EXPECT_EQ(event_line(ipv4_input(discover), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"0.0.0.0","dest":"255.255.255.255","proto":17,)"
                                 R"("sport":68,"dport":67,"port":67)",
                                 28));
    // Cut inside the UDP header: both addresses were read all the same.
    EXPECT_EQ(event_line(ipv4_input(bytes(discover.begin(), discover.begin() + 24)), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"0.0.0.0","dest":"255.255.255.255","proto":17,)"
                                 R"("sport":68,"dport":67,"port":67,"truncated":true)",
                                 24));
    // Cut inside the destination: the source alone was read.
    EXPECT_EQ(event_line(ipv4_input(bytes(discover.begin(), discover.begin() + 18)), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"0.0.0.0","proto":17,"truncated":true)", 18));
    // A UDP header longer than the datagram: malformed, with both addresses read.
    auto short_total_length = discover;
    short_total_length[3] = std::byte{24};
    EXPECT_EQ(event_line(ipv4_input(short_total_length), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","src":"0.0.0.0","dest":"255.255.255.255","proto":17,)"
                                 R"("sport":68,"dport":67,"port":67,"decode_error":"bad transport header")",
                                 28));
}

TEST(write_event, duplicate_address_detection_from_the_unspecified_ipv6_address)
{
    // A neighbour solicitation from :: cut inside the ICMPv6 header.
    const auto solicitation = ipv6("::", "ff02::1:ff00:1", IPPROTO_ICMPV6, icmp(135, 0));
    const auto message = packet_message(
        NFPROTO_IPV6, 0,
        concat({header_attribute(eth_p_ipv6, NF_INET_LOCAL_OUT), payload_attribute(bytes(solicitation.begin(),
                                                                                         solicitation.begin() + 40))}));
    EXPECT_EQ(event_line(message, capture_at_epoch()),
              R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
              R"("container":"","group":0,"family":"ipv6","hook":3,"hw_protocol":34525,"l3":"ipv6","src":"::",)"
              R"("dest":"ff02::1:ff00:1","proto":58,"truncated":true,"payload_len":40})");
}

TEST(write_event, malformed_payload_is_still_an_event_with_its_reason)
{
    auto bad_header_length = ipv4("192.0.2.1", "192.0.2.2", IPPROTO_TCP, tcp(1, 2));
    bad_header_length[0] = std::byte{0x44};
    EXPECT_EQ(event_line(ipv4_input(bad_header_length), capture_at_epoch()),
              expected_ipv4_line(R"("l3":"ipv4","decode_error":"bad ipv4 header length")", 40));
    EXPECT_EQ(event_line(ipv4_input(to_bytes({0x10, 0, 0, 0}), 0x1234), capture_at_epoch()),
              std::string(R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog",)"
                          R"("action":"nflog","container":"","group":0,"family":"ipv4","hook":1,"hw_protocol":4660,)"
                          R"("decode_error":"unknown network protocol","payload_len":4})"));
}

TEST(write_event, families_by_name_and_by_number)
{
    const auto line_for = [](std::uint8_t family) {
        return event_line(packet_message(family, 0, header_attribute(0, 0)), capture_at_epoch());
    };
    const auto expected = [](std::string_view family) {
        return R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
               R"("container":"","group":0,"family":)" +
               std::string(family) + R"(,"hook":0,"hw_protocol":0,"truncated":true})";
    };
    EXPECT_EQ(line_for(NFPROTO_IPV4), expected(R"("ipv4")"));
    EXPECT_EQ(line_for(NFPROTO_IPV6), expected(R"("ipv6")"));
    EXPECT_EQ(line_for(NFPROTO_BRIDGE), expected(R"("bridge")"));
    EXPECT_EQ(line_for(NFPROTO_ARP), expected(R"("arp")"));
    EXPECT_EQ(line_for(NFPROTO_NETDEV), expected(R"("netdev")"));
    EXPECT_EQ(line_for(NFPROTO_INET), expected("1"));
    EXPECT_EQ(line_for(0), expected("0"));
    EXPECT_EQ(line_for(255), expected("255"));
}

TEST(write_event, bridge_packet_with_vlan_and_physical_devices)
{
    const auto message = packet_message(
        NFPROTO_BRIDGE, 9,
        concat({header_attribute(eth_p_ip, NF_INET_FORWARD), be32_attribute(NFULA_IFINDEX_INDEV, 10),
                be32_attribute(NFULA_IFINDEX_OUTDEV, 10), be32_attribute(NFULA_IFINDEX_PHYSINDEV, 11),
                be32_attribute(NFULA_IFINDEX_PHYSOUTDEV, 12),
                hwaddr_attribute(to_bytes({0xde, 0xad, 0xbe, 0xef, 0x00, 0x01, 0xfe, 0xff})),
                vlan_attribute(0x8100, 0x2064), prefix_attribute("BYPASS br"),
                payload_attribute(ipv4("198.51.100.1", "198.51.100.2", IPPROTO_TCP, tcp(22, 50000)))}));
    EXPECT_EQ(event_line(message, capture_at_epoch()),
              R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog",)"
              R"("action":"bypass_connection","container":"","group":9,"family":"bridge","hook":2,)"
              R"("hw_protocol":2048,"prefix":"BYPASS br","detail":"BYPASS br","l3":"ipv4","src":"198.51.100.1",)"
              R"("dest":"198.51.100.2","proto":6,"sport":22,"dport":50000,"port":50000,"indev":10,)"
              R"("outdev":10,"physindev":11,"physoutdev":12,"hwaddr":"de:ad:be:ef:00:01:fe:ff",)"
              R"("vlan_proto":33024,"vlan_tci":8292,"payload_len":40})");
}

TEST(write_event, hwaddr_of_length_zero_is_left_out)
{
    const auto message = packet_message(NFPROTO_IPV4, 0,
                                        concat({header_attribute(0, NF_INET_PRE_ROUTING), hwaddr_attribute({})}));
    EXPECT_EQ(event_line(message, capture_at_epoch()),
              R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
              R"("container":"","group":0,"family":"ipv4","hook":0,"hw_protocol":0,"truncated":true})");
}

TEST(write_event, replaces_what_the_line_held)
{
    std::string line = "stale";
    const auto message = packet_message(NFPROTO_IPV4, 1, header_attribute(0, NF_INET_POST_ROUTING));
    const auto packet = packet_view::parse(netlink::message_view(message)).value();
    write_event(line, packet, inet::flow{}, capture_at_epoch());
    EXPECT_EQ(line, R"({"ts":"1970-01-01T00:00:00.000000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
                    R"("container":"","group":1,"family":"ipv4","hook":4,"hw_protocol":0})");
}

TEST(begin_error, carries_the_context_and_takes_more_members)
{
    event_context context;
    context.fallback_time = std::chrono::system_clock::time_point(std::chrono::seconds(1714566896));
    context.fallback_source = time_source::capture;
    context.container = "db";
    context.netns = "ns\x01";
    std::string line;
    auto json = begin_error(line, "netlink attribute length out of bounds", context);
    json.number("record", 3);
    json.close();
    EXPECT_EQ(line, R"({"error":"netlink attribute length out of bounds","ts":"2024-05-01T12:34:56.000000+00:00",)"
                    R"("ts_source":"capture","source":"nflog","container":"db","netns":"ns\u0001","record":3})");
}

TEST(write_event, warm_line_allocates_nothing_per_event)
{
    const std::vector<bytes> messages = {
        packet_message(NFPROTO_IPV4, 5,
                       concat({header_attribute(eth_p_ip, NF_INET_LOCAL_IN), timestamp_attribute(1714566896, 1),
                               hwaddr_attribute(to_bytes({1, 2, 3, 4, 5, 6})), prefix_attribute("DENIED \xff\x01"),
                               payload_attribute(ipv4("10.0.0.2", "192.0.2.1", IPPROTO_TCP, tcp(40000, 443)))})),
        packet_message(NFPROTO_IPV6, 0,
                       concat({header_attribute(eth_p_ipv6, NF_INET_LOCAL_OUT), prefix_attribute("ALLOWED"),
                               payload_attribute(ipv6("2001:db8::1", "2001:db8::53", IPPROTO_UDP, udp(5353, 53)))})),
        packet_message(NFPROTO_ARP, 2,
                       concat({header_attribute(eth_p_arp, 0), payload_attribute(arp(2, "192.0.2.1", "192.0.2.7"))})),
    };
    std::vector<packet_view> packets;
    for (const auto& message : messages)
        packets.push_back(packet_view::parse(netlink::message_view(message)).value());
    event_context context;
    context.container = "container-with-a-long-name";
    context.netns = "namespace";

    std::string line;
    std::size_t total_length = 0;
    const auto write_all = [&] {
        for (const auto& packet : packets) {
            const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
            write_event(line, packet, flow, context);
            total_length += line.size();
        }
    };
    write_all();
    const auto first_round = total_length;
    const allocation_scope scope;
    for (int round = 0; round < 50; ++round)
        write_all();
    EXPECT_EQ(scope.count(), 0u);
    EXPECT_EQ(total_length, first_round * 51);
}

} // namespace
