#include <nflog/detail/packet_layout.hpp>

#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"
#include "support/pcap_reader.hpp"

#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <netinet/in.h>

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace nflog::test::packets;

// What a flood's messages look like: one rule, one hook, values that change.
bytes flood_message(std::uint32_t sequence, const bytes& data = bytes(16), std::string_view prefix = "flood")
{
    return packet_message(NFPROTO_IPV4, 7,
                          concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute(prefix),
                                  be32_attribute(NFULA_IFINDEX_OUTDEV, 1), be32_attribute(NFULA_MARK, sequence * 3),
                                  be32_attribute(NFULA_UID, 1000), be32_attribute(NFULA_GID, 1000),
                                  be32_attribute(NFULA_SEQ, sequence),
                                  payload_attribute(ipv4("10.0.0.1", "10.0.0.2", IPPROTO_UDP, udp(5000, 7777, data)))}));
}

// The message as a walk hands it over: cut to its nlmsg_len.
netlink::message_view view_of(const bytes& message)
{
    return netlink::message_view(std::span(message).first(detail::load<std::uint32_t>(message.data())));
}

packet_view parsed(const bytes& message)
{
    auto view = packet_view::parse(view_of(message));
    if (!view)
        throw std::runtime_error("fixture does not parse: " + view.error().message());
    return view.value();
}

// Every getter, and the bytes each span covers.
std::string describe(const packet_view& view)
{
    std::string out;
    const auto add = [&](std::string_view name, auto value) {
        out += name;
        out += '=';
        out += std::to_string(value);
        out += ' ';
    };
    const auto add_optional = [&](std::string_view name, auto value) {
        if (value)
            add(name, *value);
        else
            out += std::string(name) + "=none ";
    };
    const auto add_span = [&](std::string_view name, std::span<const std::byte> bytes) {
        add(name, bytes.empty() ? -1 : bytes.data() - view.message().data());
        add("size", bytes.size());
    };
    add("group", view.group());
    add("family", view.family());
    add("hw_protocol", view.hw_protocol());
    add("hook", view.hook());
    add_optional("mark", view.mark());
    add_optional("timestamp", view.timestamp() ? std::optional(view.timestamp()->time_since_epoch().count()) : std::nullopt);
    add_optional("indev", view.indev());
    add_optional("outdev", view.outdev());
    add_optional("physindev", view.physindev());
    add_optional("physoutdev", view.physoutdev());
    add_span("hwaddr", view.hwaddr());
    add_span("payload", view.payload());
    out += "prefix=" + std::string(view.prefix()) + ' ';
    add_optional("uid", view.uid());
    add_optional("gid", view.gid());
    add_optional("seq", view.seq());
    add_optional("seq_global", view.seq_global());
    add_optional("hwtype", view.hwtype());
    add_span("hwheader", view.hwheader());
    add_optional("hwlen", view.hwlen());
    add_span("conntrack", view.conntrack());
    add_optional("ct_info", view.ct_info());
    add_optional("vlan_proto", view.vlan_proto());
    add_optional("vlan_tci", view.vlan_tci());
    add_span("l2hdr", view.l2hdr());
    for (std::uint16_t type = 0; type <= packet_view::max_attribute; ++type)
        out += view.has(type) ? '1' : '0';
    add(" length", view.message().size());
    return out;
}

std::string describe(const result<packet_view>& element)
{
    if (element)
        return describe(element.value());
    return std::string("error ") + element.error().category().name() + ':' + std::to_string(element.error().value());
}

// A layout that counts what it was asked and how it answered.
struct counting_layout {
    bool reuse(const netlink::message_view& message, packet_view& view) noexcept
    {
        const bool reused = inner.reuse(message, view);
        reuses += reused ? 1 : 0;
        return reused;
    }
    void remember(const packet_view& view) noexcept { inner.remember(view); }

    detail::packet_layout inner;
    std::size_t reuses = 0;
};

std::vector<std::string> walk_in_full(std::span<const std::byte> datagram)
{
    std::vector<std::string> out;
    for (const auto& element : packet_range(datagram))
        out.push_back(describe(element));
    return out;
}

std::vector<std::string> walk_with(std::span<const std::byte> datagram, counting_layout& layout)
{
    std::vector<std::string> out;
    detail::packet_walk walk(datagram);
    result<packet_view> element{packet_view{}};
    layout.inner.start_datagram();
    while (walk.next(element, layout))
        out.push_back(describe(element));
    return out;
}

TEST(packet_layout, a_message_shaped_like_the_last_one_takes_its_table)
{
    detail::packet_layout layout;
    layout.remember(parsed(flood_message(1)));
    // Other values, and a longer payload: the last attribute may change length.
    const auto next = flood_message(2, bytes(300));
    packet_view view;
    ASSERT_TRUE(layout.reuse(view_of(next), view));
    EXPECT_EQ(describe(view), describe(parsed(next)));
    EXPECT_EQ(view.seq(), 2u);
    EXPECT_EQ(view.mark(), 6u);
    EXPECT_EQ(view.payload().size(), 20u + 8u + 300u);
    EXPECT_EQ(view.message().data(), next.data());
}

TEST(packet_layout, nothing_is_reused_before_a_message_was_remembered)
{
    detail::packet_layout layout;
    const auto message = flood_message(1);
    packet_view view;
    EXPECT_FALSE(layout.reuse(view_of(message), view));
    layout.remember(packet_view{});
    EXPECT_FALSE(layout.reuse(view_of(message), view)) << "a default view has no layout";
}

TEST(packet_layout, every_header_before_the_last_must_be_the_same)
{
    const auto first = flood_message(1);
    const std::vector<std::pair<std::string, bytes>> others = {
        {"longer prefix", flood_message(2, bytes(16), "flood-longer")},
        {"no gid", packet_message(NFPROTO_IPV4, 7,
                                   concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute("flood"),
                                           be32_attribute(NFULA_IFINDEX_OUTDEV, 1), be32_attribute(NFULA_MARK, 1),
                                           be32_attribute(NFULA_UID, 1000), be32_attribute(NFULA_SEQ, 2),
                                           payload_attribute(bytes(44))}))},
        {"indev for outdev", packet_message(NFPROTO_IPV4, 7,
                                            concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute("flood"),
                                                    be32_attribute(NFULA_IFINDEX_INDEV, 1), be32_attribute(NFULA_MARK, 1),
                                                    be32_attribute(NFULA_UID, 1000), be32_attribute(NFULA_GID, 1000),
                                                    be32_attribute(NFULA_SEQ, 2), payload_attribute(bytes(44))}))},
        {"byte-order flag", packet_message(NFPROTO_IPV4, 7,
                                           concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute("flood"),
                                                   be32_attribute(NFULA_IFINDEX_OUTDEV | NLA_F_NET_BYTEORDER, 1),
                                                   be32_attribute(NFULA_MARK, 1), be32_attribute(NFULA_UID, 1000),
                                                   be32_attribute(NFULA_GID, 1000), be32_attribute(NFULA_SEQ, 2),
                                                   payload_attribute(bytes(44))}))},
    };
    for (const auto& [name, other] : others) {
        detail::packet_layout layout;
        layout.remember(parsed(first));
        packet_view view;
        EXPECT_FALSE(layout.reuse(view_of(other), view)) << name;
    }
}

TEST(packet_layout, the_last_attribute_gets_the_checks_of_the_full_walk)
{
    const auto first = flood_message(1);
    const auto base = concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute("flood"),
                              be32_attribute(NFULA_IFINDEX_OUTDEV, 1), be32_attribute(NFULA_MARK, 1),
                              be32_attribute(NFULA_UID, 1000), be32_attribute(NFULA_GID, 1000),
                              be32_attribute(NFULA_SEQ, 2)});
    struct variant {
        std::string name;
        bytes message;
        errc full_parse;
    };
    const std::vector<variant> variants = {
        {"another type last", packet_message(NFPROTO_IPV4, 7, concat({base, attribute(NFULA_L2HDR, bytes(44))})),
         errc{}},
        {"runs past the message",
         packet_message(NFPROTO_IPV4, 7, concat({base, attribute(NFULA_PAYLOAD, bytes(44), 4 + 48)})),
         errc::bad_attribute_length},
        {"shorter than a header",
         packet_message(NFPROTO_IPV4, 7, concat({base, attribute(NFULA_PAYLOAD, bytes(44), 3)})),
         errc::bad_attribute_length},
        {"followed by another attribute",
         packet_message(NFPROTO_IPV4, 7, concat({base, payload_attribute(bytes(44)), be32_attribute(NFULA_GID, 1)})),
         errc{}},
        {"followed by a short tail",
         packet_message(NFPROTO_IPV4, 7, concat({base, payload_attribute(bytes(44)), bytes(2)})), errc::short_attribute},
    };
    for (const auto& [name, message, full_parse] : variants) {
        detail::packet_layout layout;
        layout.remember(parsed(first));
        packet_view view;
        EXPECT_FALSE(layout.reuse(view_of(message), view)) << name;
        const auto full = packet_view::parse(view_of(message));
        EXPECT_EQ(full ? errc{} : static_cast<errc>(full.error().value()), full_parse) << name;
    }

    // A fixed-size last attribute of another size is the full walk's size error.
    const auto seq_last = packet_message(NFPROTO_IPV4, 7, concat({header_attribute(ETH_P_IP, 3), be32_attribute(NFULA_SEQ, 1)}));
    const auto seq_long = packet_message(NFPROTO_IPV4, 7, concat({header_attribute(ETH_P_IP, 3), attribute(NFULA_SEQ, bytes(8))}));
    detail::packet_layout layout;
    layout.remember(parsed(seq_last));
    packet_view view;
    EXPECT_FALSE(layout.reuse(view_of(seq_long), view));
    EXPECT_EQ(packet_view::parse(view_of(seq_long)).error(), errc::bad_attribute_size);
}

TEST(packet_layout, vlan_nests_and_long_layouts_are_not_remembered)
{
    const auto tagged = packet_message(NFPROTO_BRIDGE, 7,
                                       concat({header_attribute(ETH_P_IP, 0), vlan_attribute(ETH_P_8021Q, 5),
                                               payload_attribute(bytes(20))}));
    detail::packet_layout with_vlan;
    with_vlan.remember(parsed(tagged));
    packet_view view;
    EXPECT_FALSE(with_vlan.reuse(view_of(tagged), view));

    // The headers before the payload's end 256 bytes after the nfgenmsg, or 4 more.
    const auto with_prefix = [](std::size_t length) {
        return packet_message(NFPROTO_IPV4, 7, concat({header_attribute(ETH_P_IP, 0), attribute(NFULA_PREFIX, bytes(length)),
                                                       payload_attribute(bytes(20))}));
    };
    const auto at_limit = with_prefix(240);
    const auto past_limit = with_prefix(241);
    detail::packet_layout layout;
    layout.remember(parsed(past_limit));
    EXPECT_FALSE(layout.reuse(view_of(past_limit), view));
    layout.remember(parsed(at_limit));
    EXPECT_TRUE(layout.reuse(view_of(at_limit), view));
    EXPECT_EQ(describe(view), describe(parsed(at_limit)));
}

TEST(packet_layout, a_layout_that_keeps_missing_rests_until_the_next_datagram)
{
    const auto first = flood_message(1);
    const auto other = flood_message(2, bytes(16), "another prefix");
    detail::packet_layout layout;
    layout.remember(parsed(first));
    packet_view view;
    for (int i = 0; i < 3; ++i)
        EXPECT_FALSE(layout.reuse(view_of(other), view));
    EXPECT_FALSE(layout.reuse(view_of(first), view)) << "three misses and no reuse: resting";
    layout.remember(parsed(other));
    EXPECT_FALSE(layout.reuse(view_of(other), view)) << "a resting layout learns nothing";
    layout.start_datagram();
    EXPECT_TRUE(layout.reuse(view_of(first), view));
    EXPECT_EQ(describe(view), describe(parsed(first)));
}

TEST(packet_layout, a_flood_datagram_walks_as_in_full_and_reuses_all_but_the_first_layout)
{
    bytes datagram;
    for (std::uint32_t i = 0; i < 50; ++i)
        datagram = concat({datagram, flood_message(i, bytes(i % 7 * 5))});
    datagram = concat({datagram, done_message()});
    counting_layout layout;
    const auto walked = walk_with(datagram, layout);
    EXPECT_EQ(walked, walk_in_full(datagram));
    EXPECT_EQ(walked.size(), 50u);
    EXPECT_EQ(layout.reuses, 49u);
    // Kept across datagrams, as a socket keeps it.
    EXPECT_EQ(walk_with(flood_message(50), layout), walk_in_full(flood_message(50)));
    EXPECT_EQ(layout.reuses, 50u);
}

TEST(packet_layout, recorded_kernel_datagrams_walk_exactly_as_in_full)
{
    // What a real kernel sent, in capture order and then in reverse, through
    // one layout as a socket keeps it: rules, hooks and copy modes in turn.
    constexpr std::size_t cooked_header = 16;
    const auto capture = read_pcap(std::string(NFLOG_TEST_DATA_DIR) + "/nflog-netlink.pcap");
    ASSERT_GE(capture.records.size(), 20u);
    counting_layout layout;
    std::size_t packets = 0;
    for (int pass = 0; pass < 2; ++pass) {
        for (std::size_t n = 0; n < capture.records.size(); ++n) {
            const auto& record = capture.records[pass == 0 ? n : capture.records.size() - 1 - n];
            const auto datagram = std::span<const std::byte>(record.data).subspan(cooked_header);
            const auto full = walk_in_full(datagram);
            EXPECT_EQ(walk_with(datagram, layout), full) << "record " << n << " pass " << pass;
            packets += full.size();
        }
    }
    EXPECT_GE(packets, 40u);
    EXPECT_GT(layout.reuses, 0u) << "alike messages follow each other in the capture";
}

TEST(packet_layout, mutated_floods_walk_exactly_as_in_full)
{
    // Messages of one shape, then random bytes changed anywhere in a datagram:
    // in headers the layout compares, in the last attribute's length, in
    // nlmsg_len. Whatever the layout accepts must be what the full walk
    // yields, errors included.
    bytes flood;
    for (std::uint32_t i = 0; i < 6; ++i)
        flood = concat({flood, flood_message(i, bytes(i * 3))});
    std::mt19937 random(20261206);
    counting_layout layout;
    std::size_t differing = 0;
    for (int round = 0; round < 20000; ++round) {
        auto datagram = flood;
        const int changes = 1 + static_cast<int>(random() % 3);
        for (int c = 0; c < changes; ++c)
            datagram[random() % datagram.size()] = static_cast<std::byte>(random() % 4 == 0 ? random() % 256 : random() % 16);
        const auto full = walk_in_full(datagram);
        const auto with_layout = walk_with(datagram, layout);
        if (with_layout != full && ++differing <= 3)
            ADD_FAILURE() << "round " << round;
    }
    EXPECT_EQ(differing, 0u);
    EXPECT_GT(layout.reuses, 20000u) << "the layout was in use";
}

} // namespace
