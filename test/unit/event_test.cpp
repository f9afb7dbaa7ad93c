#include <nflog/event.hpp>

#include "support/counting_allocator.hpp"
#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"

#include <gtest/gtest.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <netinet/in.h>

#include <chrono>
#include <string>
#include <type_traits>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace nflog::test::packets;
using namespace std::chrono_literals;

const auto received_at = std::chrono::system_clock::time_point(1'650'000'000s + 250ms);

packet_view parse_first(const bytes& datagram)
{
    const auto first = *netlink::message_range(datagram).begin();
    EXPECT_TRUE(first);
    auto parsed = packet_view::parse(first.value());
    EXPECT_TRUE(parsed) << parsed.error().message();
    return parsed.value();
}

bytes tcp_syn() { return ipv4("192.0.2.1", "198.51.100.7", IPPROTO_TCP, tcp(40000, 443)); }

/// Every attribute nfnetlink_log can send, with distinct values.
bytes every_attribute()
{
    return packet_message(NFPROTO_IPV4, 41,
                          concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_IN), be32_attribute(NFULA_MARK, 0xfeed),
                                  timestamp_attribute(1'700'000'000, 123'456),
                                  be32_attribute(NFULA_IFINDEX_INDEV, 2), be32_attribute(NFULA_IFINDEX_OUTDEV, 3),
                                  be32_attribute(NFULA_IFINDEX_PHYSINDEV, 4),
                                  be32_attribute(NFULA_IFINDEX_PHYSOUTDEV, 5),
                                  hwaddr_attribute(to_bytes({0x02, 0x42, 0xac, 0x11, 0x00, 0x02})),
                                  prefix_attribute("DENIED tcp"), payload_attribute(tcp_syn()),
                                  be32_attribute(NFULA_UID, 1000), be32_attribute(NFULA_GID, 100),
                                  be32_attribute(NFULA_SEQ, 7), be32_attribute(NFULA_SEQ_GLOBAL, 99),
                                  vlan_attribute(ETH_P_8021Q, 0x0123)}));
}

/// What the output hook sends: no timestamp, no input interface, no hwaddr.
bytes output_hook_packet(std::string_view prefix)
{
    return packet_message(NFPROTO_IPV4, 42,
                          concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT),
                                  be32_attribute(NFULA_IFINDEX_OUTDEV, 1), prefix_attribute(prefix),
                                  payload_attribute(tcp_syn())}));
}

TEST(event, is_a_fixed_size_value)
{
    static_assert(std::is_nothrow_copy_constructible_v<event>);
    static_assert(std::is_nothrow_move_constructible_v<event>);
    static_assert(std::is_nothrow_destructible_v<event>);
    // Owned storage: the prefix and the address are inside the object.
    static_assert(sizeof(event) > event::max_prefix_length + event::max_hwaddr_length);
    const event empty;
    EXPECT_EQ(empty.prefix(), "");
    EXPECT_TRUE(empty.hwaddr().empty());
    EXPECT_EQ(empty.action, "nflog");
}

TEST(event, carries_every_field_of_the_packet)
{
    const auto datagram = every_attribute();
    const auto packet = parse_first(datagram);
    const auto made = make_event(packet, received_at, 5);

    EXPECT_EQ(made.source, 5u);
    EXPECT_EQ(made.group, 41);
    EXPECT_EQ(made.family, NFPROTO_IPV4);
    EXPECT_EQ(made.hook, NF_INET_LOCAL_IN);
    EXPECT_EQ(made.hw_protocol, ETH_P_IP);
    EXPECT_EQ(made.time_source, timestamp_source::kernel);
    EXPECT_EQ(made.timestamp, std::chrono::system_clock::time_point(1'700'000'000s + 123'456us));
    EXPECT_EQ(made.prefix(), "DENIED tcp");
    EXPECT_EQ(made.action, "blocked_connection");
    EXPECT_EQ(made.mark, 0xfeedu);
    EXPECT_EQ(made.indev, 2u);
    EXPECT_EQ(made.outdev, 3u);
    EXPECT_EQ(made.physindev, 4u);
    EXPECT_EQ(made.physoutdev, 5u);
    EXPECT_EQ(made.uid, 1000u);
    EXPECT_EQ(made.gid, 100u);
    EXPECT_EQ(made.seq, 7u);
    EXPECT_EQ(made.seq_global, 99u);
    EXPECT_EQ(made.vlan_proto, ETH_P_8021Q);
    EXPECT_EQ(made.vlan_tci, 0x0123);
    EXPECT_EQ(made.hwaddr().size(), 6u);
    EXPECT_EQ(bytes(made.hwaddr().begin(), made.hwaddr().end()), to_bytes({0x02, 0x42, 0xac, 0x11, 0x00, 0x02}));
    EXPECT_EQ(made.payload_length, tcp_syn().size());
    EXPECT_EQ(made.lost_before, 0u);

    EXPECT_EQ(made.flow.l3, inet::l3_protocol::ipv4);
    EXPECT_EQ(made.flow.src.to_string(), "192.0.2.1");
    EXPECT_EQ(made.flow.dst.to_string(), "198.51.100.7");
    EXPECT_EQ(made.flow.protocol, IPPROTO_TCP);
    EXPECT_EQ(made.flow.src_port, 40000);
    EXPECT_EQ(made.flow.dst_port, 443);
    EXPECT_FALSE(made.flow.truncated);
    EXPECT_EQ(made.flow.error, inet::decode_error::none);
}

TEST(event, attributes_the_kernel_did_not_send_stay_empty)
{
    const auto datagram = output_hook_packet("");
    const auto made = make_event(parse_first(datagram), received_at);
    EXPECT_EQ(made.source, 0u);
    EXPECT_FALSE(made.mark);
    EXPECT_FALSE(made.indev);
    EXPECT_EQ(made.outdev, 1u);
    EXPECT_FALSE(made.physindev);
    EXPECT_FALSE(made.physoutdev);
    EXPECT_FALSE(made.uid);
    EXPECT_FALSE(made.gid);
    EXPECT_FALSE(made.seq);
    EXPECT_FALSE(made.seq_global);
    EXPECT_FALSE(made.vlan_proto);
    EXPECT_FALSE(made.vlan_tci);
    EXPECT_TRUE(made.hwaddr().empty());
    EXPECT_EQ(made.prefix(), "");
    EXPECT_EQ(made.action, "nflog");
}

TEST(event, a_packet_without_a_prefix_attribute_has_an_empty_prefix)
{
    // The kernel always sends the attribute, if only with its NUL; a capture
    // or a forged message need not. The prefix view then points nowhere.
    const auto datagram = packet_message(NFPROTO_IPV4, 42,
                                         concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT),
                                                 payload_attribute(tcp_syn())}));
    const auto packet = parse_first(datagram);
    ASSERT_EQ(packet.prefix().data(), nullptr);
    event reused = make_event(packet, received_at);
    EXPECT_EQ(reused.prefix(), "");
    EXPECT_EQ(reused.action, "nflog");
    reused.assign(parse_first(output_hook_packet("DENIED")), received_at);
    reused.assign(packet, received_at);
    EXPECT_EQ(reused.prefix(), "");
    EXPECT_EQ(reused.action, "nflog");
}

TEST(event, assign_replaces_everything_an_earlier_packet_left)
{
    const auto full = every_attribute();
    auto reused = make_event(parse_first(full), received_at, 3);
    reused.lost_before = 12;
    const auto sparse = output_hook_packet("x");
    const auto later = received_at + 5s;
    reused.assign(parse_first(sparse), later, 4);

    const auto fresh = make_event(parse_first(sparse), later, 4);
    EXPECT_EQ(reused.source, 4u);
    EXPECT_EQ(reused.group, fresh.group);
    EXPECT_EQ(reused.hook, fresh.hook);
    EXPECT_EQ(reused.timestamp, later);
    EXPECT_EQ(reused.time_source, timestamp_source::local);
    EXPECT_EQ(reused.prefix(), "x");
    EXPECT_EQ(reused.action, "nflog");
    EXPECT_EQ(reused.flow.dst, fresh.flow.dst);
    EXPECT_EQ(reused.flow.dst_port, 443);
    EXPECT_FALSE(reused.mark);
    EXPECT_FALSE(reused.indev);
    EXPECT_EQ(reused.outdev, 1u);
    EXPECT_FALSE(reused.physindev);
    EXPECT_FALSE(reused.physoutdev);
    EXPECT_FALSE(reused.uid);
    EXPECT_FALSE(reused.gid);
    EXPECT_FALSE(reused.seq);
    EXPECT_FALSE(reused.seq_global);
    EXPECT_FALSE(reused.vlan_proto);
    EXPECT_FALSE(reused.vlan_tci);
    EXPECT_TRUE(reused.hwaddr().empty());
    EXPECT_EQ(reused.payload_length, fresh.payload_length);
    EXPECT_EQ(reused.lost_before, 0u);
}

TEST(event, assign_with_a_flow_keeps_that_flow)
{
    const auto datagram = output_hook_packet("DENIED");
    inet::flow given;
    given.dst_port = 1234;
    event reused = make_event(parse_first(every_attribute()), received_at);
    reused.assign(parse_first(datagram), given, received_at);
    EXPECT_EQ(reused.flow.dst_port, 1234);
    EXPECT_EQ(reused.action, "blocked_connection");
}

TEST(event, without_a_kernel_timestamp_the_receive_time_is_used_and_flagged)
{
    const auto datagram = output_hook_packet("DENIED tcp");
    const auto made = make_event(parse_first(datagram), received_at);
    EXPECT_EQ(made.time_source, timestamp_source::local);
    EXPECT_EQ(made.timestamp, received_at);
}

TEST(event, a_kernel_timestamp_wins_over_the_receive_time)
{
    const auto datagram = every_attribute();
    const auto made = make_event(parse_first(datagram), received_at);
    EXPECT_EQ(made.time_source, timestamp_source::kernel);
    EXPECT_NE(made.timestamp, received_at);
}

TEST(event, timestamp_sources_have_stable_names)
{
    EXPECT_EQ(to_string(timestamp_source::kernel), "kernel");
    EXPECT_EQ(to_string(timestamp_source::local), "local");
}

TEST(event, a_prefix_of_127_characters_is_kept_whole)
{
    const std::string longest(event::max_prefix_length - 7, 'p');
    const auto prefix = "DENIED " + longest;
    ASSERT_EQ(prefix.size(), 127u);
    const auto datagram = output_hook_packet(prefix);
    const auto made = make_event(parse_first(datagram), received_at);
    EXPECT_EQ(made.prefix(), prefix);
    EXPECT_EQ(made.action, "blocked_connection");
}

TEST(event, a_forged_longer_prefix_is_cut_but_still_classified_whole)
{
    const auto prefix = std::string(130, 'x') + "DENIED";
    const auto datagram = output_hook_packet(prefix);
    const auto made = make_event(parse_first(datagram), received_at);
    EXPECT_EQ(made.prefix(), std::string(127, 'x'));
    EXPECT_EQ(made.action, "blocked_connection");
}

TEST(event, a_reused_event_names_the_action_of_each_new_prefix)
{
    event reused;
    const auto same = output_hook_packet("DENIED tcp");
    reused.assign(parse_first(same), received_at);
    ASSERT_EQ(reused.action, "blocked_connection");
    // The same prefix again: the action comes back even when the
    // application wrote over it.
    reused.action = "edited";
    reused.assign(parse_first(same), received_at);
    EXPECT_EQ(reused.action, "blocked_connection");
    // Same length, other text.
    const auto other = output_hook_packet("ALLOWED tc");
    reused.assign(parse_first(other), received_at);
    EXPECT_EQ(reused.prefix(), "ALLOWED tc");
    EXPECT_EQ(reused.action, "allowed_connection");
    const auto none = output_hook_packet("");
    reused.assign(parse_first(none), received_at);
    EXPECT_EQ(reused.action, "nflog");
}

TEST(event, a_cut_prefix_is_never_taken_for_the_text_it_was_cut_from)
{
    // The kept 127 characters name no action; the whole forged text did.
    const auto forged = output_hook_packet(std::string(127, 'x') + "DENIED");
    event reused = make_event(parse_first(forged), received_at);
    ASSERT_EQ(reused.action, "blocked_connection");
    const auto kept_part = output_hook_packet(std::string(127, 'x'));
    reused.assign(parse_first(kept_part), received_at);
    EXPECT_EQ(reused.prefix(), std::string(127, 'x'));
    EXPECT_EQ(reused.action, "nflog");
}

TEST(event, a_prefix_set_by_hand_is_classified_when_a_packet_brings_it)
{
    event value = make_event(parse_first(output_hook_packet("drop")), received_at);
    ASSERT_EQ(value.action, "nflog");
    // The application's own prefix, with the action left as it was.
    value.set_prefix("DENIED");
    const auto datagram = output_hook_packet("DENIED");
    value.assign(parse_first(datagram), received_at);
    EXPECT_EQ(value.action, "blocked_connection");
}

TEST(event, set_prefix_reports_a_cut)
{
    event value;
    EXPECT_TRUE(value.set_prefix(std::string(127, 'a')));
    EXPECT_EQ(value.prefix().size(), 127u);
    EXPECT_FALSE(value.set_prefix(std::string(128, 'b')));
    EXPECT_EQ(value.prefix(), std::string(127, 'b'));
    EXPECT_TRUE(value.set_prefix("short"));
    EXPECT_EQ(value.prefix(), "short");
}

TEST(event, set_prefix_keeps_a_part_of_its_own_prefix)
{
    event value;
    std::string text;
    for (int i = 0; i < 100; ++i)
        text += static_cast<char>('A' + i % 26);
    ASSERT_TRUE(value.set_prefix(text));
    EXPECT_TRUE(value.set_prefix(value.prefix().substr(10)));
    EXPECT_EQ(value.prefix(), text.substr(10));
}

TEST(event, set_hwaddr_reports_a_cut)
{
    event value;
    const auto nine = to_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9});
    EXPECT_FALSE(value.set_hwaddr(nine));
    EXPECT_EQ(bytes(value.hwaddr().begin(), value.hwaddr().end()), to_bytes({1, 2, 3, 4, 5, 6, 7, 8}));
    EXPECT_TRUE(value.set_hwaddr({}));
    EXPECT_TRUE(value.hwaddr().empty());
}

TEST(event, copies_are_independent_of_the_receive_buffer)
{
    auto datagram = every_attribute();
    const auto made = make_event(parse_first(datagram), received_at);
    std::fill(datagram.begin(), datagram.end(), std::byte{0xff});
    EXPECT_EQ(made.prefix(), "DENIED tcp");
    EXPECT_EQ(made.hwaddr()[0], std::byte{0x02});
    const event copy = made;
    EXPECT_EQ(copy.prefix(), "DENIED tcp");
    EXPECT_NE(copy.prefix().data(), made.prefix().data());
}

TEST(event, a_payload_cut_by_the_copy_range_is_flagged_in_the_flow)
{
    auto packet = tcp_syn();
    packet.resize(22); // the IPv4 header and the first two bytes of TCP
    const auto datagram = packet_message(
        NFPROTO_IPV4, 41, concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute("x"),
                                  payload_attribute(packet)}));
    const auto made = make_event(parse_first(datagram), received_at);
    EXPECT_EQ(made.payload_length, 22u);
    EXPECT_TRUE(made.flow.truncated);
    EXPECT_EQ(made.flow.src_port, std::nullopt);
    EXPECT_EQ(made.flow.error, inet::decode_error::none);
}

TEST(event, a_decode_error_is_kept)
{
    auto packet = tcp_syn();
    packet[0] = std::byte{0x44}; // IHL 4: shorter than any IPv4 header
    const auto datagram = packet_message(
        NFPROTO_IPV4, 41, concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute("x"),
                                  payload_attribute(packet)}));
    const auto made = make_event(parse_first(datagram), received_at);
    EXPECT_EQ(made.flow.error, inet::decode_error::bad_ipv4_header_length);
}

TEST(event, the_given_flow_is_used_as_is)
{
    const auto datagram = every_attribute();
    const auto packet = parse_first(datagram);
    inet::flow flow;
    flow.dst_port = 1;
    const auto made = make_event(packet, flow, received_at, 9);
    EXPECT_EQ(made.flow.dst_port, 1);
    EXPECT_EQ(made.flow.l3, inet::l3_protocol::none);
    EXPECT_EQ(made.source, 9u);
}

TEST(event, making_events_allocates_nothing)
{
    const auto full = every_attribute();
    const auto output = output_hook_packet(std::string(127, 'q'));
    const auto first = parse_first(full);
    const auto second = parse_first(output);
    std::size_t ports = 0;
    allocation_scope scope;
    for (int i = 0; i < 1000; ++i) {
        const auto a = make_event(first, received_at, 1);
        const auto b = make_event(second, received_at, 2);
        ports += a.flow.dst_port.value_or(0) == 443 ? 1 : 0;
        ports += b.prefix().size() == 127 ? 1 : 0;
    }
    EXPECT_EQ(scope.count(), 0u);
    EXPECT_EQ(ports, 2000u);
}

} // namespace
