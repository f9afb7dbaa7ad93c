#ifndef NFLOG_TEST_SUPPORT_PACKET_FIXTURES_HPP
#define NFLOG_TEST_SUPPORT_PACKET_FIXTURES_HPP

// A named corpus of NFLOG datagrams: every attribute, the batch shapes, and
// every malformed case the unit tests name. The differential test walks it,
// the allocation test parses it, and it seeds the fuzzers.

#include "support/message_builder.hpp"

#include <nflog/detail/receive_state.hpp>

#include <linux/netfilter.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

namespace nflog::test {

struct fixture {
    std::string name; ///< also the seed file name: [a-z0-9-]
    bytes datagram;
};

namespace fixture_parts {

inline constexpr std::uint16_t packet_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;

inline bytes header_attribute(std::uint8_t hook = NF_INET_LOCAL_IN)
{
    return attribute(NFULA_PACKET_HDR, packet_header(0x0800, hook));
}

/// An IPv4/TCP SYN from 10.0.0.1:40000 to 10.0.0.2:22, as NFULA_PAYLOAD carries it.
inline bytes tcp_syn()
{
    return to_bytes({0x45, 0x00, 0x00, 0x28, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00, 10, 0, 0, 1, 10, 0, 0, 2,
                     0x9c, 0x40, 0x00, 0x16, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xfa, 0xf0, 0x00, 0x00, 0x00, 0x00});
}

inline bytes vlan_members(std::uint16_t proto, std::uint16_t tci)
{
    return concat({attribute(NFULA_VLAN_PROTO, be(proto)), attribute(NFULA_VLAN_TCI, be(tci))});
}

/// Every attribute 1..21 once, in kernel order.
inline bytes every_attribute()
{
    return concat({
        header_attribute(NF_INET_PRE_ROUTING),
        attribute(NFULA_MARK, be<std::uint32_t>(0x1234)),
        attribute(NFULA_TIMESTAMP, timestamp_payload(1'712'345'678, 250'000)),
        attribute(NFULA_IFINDEX_INDEV, be<std::uint32_t>(2)),
        attribute(NFULA_IFINDEX_OUTDEV, be<std::uint32_t>(3)),
        attribute(NFULA_IFINDEX_PHYSINDEV, be<std::uint32_t>(4)),
        attribute(NFULA_IFINDEX_PHYSOUTDEV, be<std::uint32_t>(5)),
        attribute(NFULA_HWADDR, hwaddr_payload(6, {0x02, 0x42, 0xac, 0x11, 0x00, 0x02})),
        attribute(NFULA_PAYLOAD, tcp_syn()),
        attribute(NFULA_PREFIX, nul_terminated("fw-drop: ")),
        attribute(NFULA_UID, be<std::uint32_t>(1000)),
        attribute(NFULA_SEQ, be<std::uint32_t>(7)),
        attribute(NFULA_SEQ_GLOBAL, be<std::uint32_t>(8)),
        attribute(NFULA_GID, be<std::uint32_t>(1000)),
        attribute(NFULA_HWTYPE, be<std::uint16_t>(1)),
        attribute(NFULA_HWHEADER, to_bytes({0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x42, 0xac, 0x11, 0x00, 0x02, 0x08, 0x00})),
        attribute(NFULA_HWLEN, be<std::uint16_t>(14)),
        nested_attribute(NFULA_CT, attribute(1, be<std::uint32_t>(0x0a000001))),
        attribute(NFULA_CT_INFO, be<std::uint32_t>(2)),
        nested_attribute(NFULA_VLAN, vlan_members(0x8100, 100)),
        attribute(NFULA_L2HDR, to_bytes({0x81, 0x00, 0x00, 0x64})),
    });
}

inline bytes packet(const bytes& attributes, std::uint16_t group = 1)
{
    return packet_message(NFPROTO_IPV4, group, attributes);
}

/// A packet whose only other attribute is `extra`.
inline bytes packet_with(const bytes& extra) { return packet(concat({header_attribute(), attribute(NFULA_PREFIX, nul_terminated("p")), extra})); }

inline bytes with_length(bytes message, std::uint32_t length)
{
    std::memcpy(message.data(), &length, sizeof length);
    return message;
}

} // namespace fixture_parts

inline std::vector<fixture> packet_fixtures()
{
    using namespace fixture_parts;
    std::vector<fixture> out;
    const auto add = [&](std::string name, bytes datagram) { out.push_back({std::move(name), std::move(datagram)}); };

    // Well-formed packets: one per attribute, then all of them.
    add("minimal", packet(concat({header_attribute(), attribute(NFULA_PREFIX, nul_terminated(""))})));
    add("mark", packet_with(attribute(NFULA_MARK, be<std::uint32_t>(0xdeadbeef))));
    add("timestamp", packet_with(attribute(NFULA_TIMESTAMP, timestamp_payload(1'700'000'000, 123'456))));
    add("indev", packet_with(attribute(NFULA_IFINDEX_INDEV, be<std::uint32_t>(2))));
    add("outdev", packet_with(attribute(NFULA_IFINDEX_OUTDEV, be<std::uint32_t>(3))));
    add("physindev", packet_with(attribute(NFULA_IFINDEX_PHYSINDEV, be<std::uint32_t>(4))));
    add("physoutdev", packet_with(attribute(NFULA_IFINDEX_PHYSOUTDEV, be<std::uint32_t>(5))));
    add("hwaddr", packet_with(attribute(NFULA_HWADDR, hwaddr_payload(6, {1, 2, 3, 4, 5, 6}))));
    add("payload", packet_with(attribute(NFULA_PAYLOAD, tcp_syn())));
    add("prefix", packet(concat({header_attribute(), attribute(NFULA_PREFIX, nul_terminated("nflog: "))})));
    add("uid", packet_with(attribute(NFULA_UID, be<std::uint32_t>(1000))));
    add("seq", packet_with(attribute(NFULA_SEQ, be<std::uint32_t>(1))));
    add("seq-global", packet_with(attribute(NFULA_SEQ_GLOBAL, be<std::uint32_t>(2))));
    add("gid", packet_with(attribute(NFULA_GID, be<std::uint32_t>(100))));
    add("hwtype", packet_with(attribute(NFULA_HWTYPE, be<std::uint16_t>(1))));
    add("hwheader", packet_with(attribute(NFULA_HWHEADER, to_bytes({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 0x86, 0xdd}))));
    add("hwlen", packet_with(attribute(NFULA_HWLEN, be<std::uint16_t>(14))));
    add("ct", packet_with(nested_attribute(NFULA_CT, attribute(1, be<std::uint32_t>(9)))));
    add("ct-info", packet_with(attribute(NFULA_CT_INFO, be<std::uint32_t>(1))));
    add("vlan", packet_with(nested_attribute(NFULA_VLAN, vlan_members(0x8100, 0x2064))));
    add("l2hdr", packet_with(attribute(NFULA_L2HDR, to_bytes({0x81, 0x00, 0x20, 0x64}))));
    add("full", packet(every_attribute()));

    // Batches.
    add("batch", concat({packet(every_attribute(), 1), packet_with(attribute(NFULA_MARK, be<std::uint32_t>(1))), packet(every_attribute(), 2),
                         done_message()}));
    {
        // A flood: one rule's messages, alike but for their values and the
        // payload's length, which a socket's remembered layout takes.
        bytes flood;
        for (std::uint32_t i = 0; i < 4; ++i) {
            auto syn = tcp_syn();
            syn.resize(syn.size() - 4 * i);
            flood = concat({flood, packet(concat({header_attribute(NF_INET_LOCAL_OUT), attribute(NFULA_PREFIX, nul_terminated("flood")),
                                                  attribute(NFULA_MARK, be<std::uint32_t>(i)), attribute(NFULA_SEQ, be<std::uint32_t>(i)),
                                                  attribute(NFULA_PAYLOAD, syn)}))});
        }
        add("flood", concat({flood, done_message()}));
    }
    add("batch-control", concat({packet_with(bytes{}), noop_message(), error_message(0), error_message(EPERM), packet(every_attribute()), done_message()}));
    {
        // The kernel refusing an adaptive batching change: its answer echoes
        // the request's sequence number, the socket's base for that purpose
        // plus the group's slot (0 here), among the data.
        auto request = message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, {}, NLM_F_REQUEST | NLM_F_ACK);
        const std::uint32_t first_slot_sequence = detail::receive_state::batching_sequence_base;
        std::memcpy(request.data() + 8, &first_slot_sequence, sizeof first_slot_sequence);
        bytes refusal;
        append_host<std::int32_t>(refusal, -EINVAL);
        refusal.insert(refusal.end(), request.begin(), request.end());
        add("batching-refused", concat({packet_with(bytes{}), message(NLMSG_ERROR, refusal), packet_with(bytes{})}));
    }
    add("after-done", concat({packet_with(bytes{}), done_message(), packet(every_attribute())}));
    {
        auto last = packet(concat({header_attribute(), attribute(NFULA_PAYLOAD, to_bytes({0x45}))}));
        last.resize(16 + 4 + 8 + 5);
        add("unpadded-last", concat({packet(every_attribute()), with_length(last, 16 + 4 + 8 + 5)}));
    }

    // Accepted oddities.
    add("duplicates", packet_with(concat({attribute(NFULA_MARK, be<std::uint32_t>(1)), nested_attribute(NFULA_VLAN, vlan_members(1, 2)),
                                          attribute(NFULA_MARK, be<std::uint32_t>(2)), nested_attribute(NFULA_VLAN, attribute(NFULA_VLAN_TCI, be<std::uint16_t>(3)))})));
    add("flags", packet_with(concat({attribute(NFULA_MARK | NLA_F_NESTED, be<std::uint32_t>(1)), attribute(NFULA_UID | NLA_F_NET_BYTEORDER, be<std::uint32_t>(2)),
                                     attribute(NFULA_VLAN, vlan_members(3, 4))})));
    add("unknown-types", packet_with(concat({attribute(0, to_bytes({1, 2, 3})), attribute(22, to_bytes({1})), attribute(0x3fff, bytes(9, std::byte{1}))})));
    add("prefix-unterminated", packet(concat({header_attribute(), attribute(NFULA_PREFIX, to_bytes("abc"))})));
    add("prefix-embedded-nul", packet(concat({header_attribute(), attribute(NFULA_PREFIX, to_bytes(std::string_view("ab\0cd\0", 6)))})));
    add("prefix-127", packet(concat({header_attribute(), attribute(NFULA_PREFIX, nul_terminated(std::string(127, 'x')))})));
    add("hwaddr-length-9", packet_with(attribute(NFULA_HWADDR, hwaddr_payload(9, {1, 2, 3, 4, 5, 6, 7, 8}))));
    add("timestamp-saturated", packet_with(attribute(NFULA_TIMESTAMP, timestamp_payload(~std::uint64_t{0}, ~std::uint64_t{0}))));
    add("vlan-empty", packet_with(nested_attribute(NFULA_VLAN, {})));

    // Malformed.
    add("short-message", to_bytes({0x10, 0, 0, 0, 0, 4, 0, 0}));
    add("message-length-small", concat({with_length(packet_with(bytes{}), 15), packet_with(bytes{})}));
    add("message-length-past-end", with_length(packet_with(bytes{}), 4096));
    add("wrong-type", message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, concat({nfgen(NFPROTO_IPV4, 1), header_attribute()})));
    add("short-nfgenmsg", message(packet_type, to_bytes({2, 0})));
    add("missing-packet-header", packet(attribute(NFULA_PREFIX, nul_terminated("x"))));
    for (int length = 0; length < 4; ++length)
        add("attribute-length-" + std::to_string(length), packet_with(attribute(NFULA_MARK, be<std::uint32_t>(1), length)));
    {
        auto tail = concat({header_attribute(), attribute(NFULA_MARK, be<std::uint32_t>(1))});
        tail.resize(tail.size() + 2, std::byte{8});
        add("attribute-short-tail", packet(tail));
    }
    add("attribute-past-message", concat({packet_with(attribute(NFULA_PAYLOAD, tcp_syn(), 4 + 40 + 16)), packet_with(bytes{})}));
    {
        // nlmsg_len 33 cuts a payload attribute ending at 35; libmnl walks
        // to MNL_ALIGN(33) = 36 and accepts it.
        const auto cut = packet(concat({header_attribute(), attribute(NFULA_PAYLOAD, to_bytes({1, 2, 3}))}));
        add("attribute-into-padding", with_length(cut, 33));
        // nlmsg_len 29 leaves one byte of an attribute header.
        const auto header_cut = packet(concat({header_attribute(), attribute(NFULA_MARK, be<std::uint32_t>(1))}));
        add("attribute-header-into-padding", with_length(header_cut, 29));
    }
    for (const auto& [name, type, size] : {std::tuple{"mark", NFULA_MARK, 4}, std::tuple{"timestamp", NFULA_TIMESTAMP, 16},
                                           std::tuple{"hwaddr", NFULA_HWADDR, 12}, std::tuple{"hwtype", NFULA_HWTYPE, 2},
                                           std::tuple{"ct-info", NFULA_CT_INFO, 4}}) {
        add(std::string(name) + "-short", packet_with(attribute(static_cast<std::uint16_t>(type), bytes(static_cast<std::size_t>(size - 1), std::byte{1}))));
        add(std::string(name) + "-long", packet_with(attribute(static_cast<std::uint16_t>(type), bytes(static_cast<std::size_t>(size + 1), std::byte{1}))));
    }
    add("packet-header-short", packet(attribute(NFULA_PACKET_HDR, to_bytes({8, 0, 1}))));
    add("vlan-member-length", packet_with(nested_attribute(NFULA_VLAN, attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1), 2))));
    add("vlan-member-past-nest", packet_with(nested_attribute(NFULA_VLAN, attribute(NFULA_VLAN_TCI, be<std::uint16_t>(1), 16))));
    add("vlan-member-size", packet_with(nested_attribute(NFULA_VLAN, attribute(NFULA_VLAN_PROTO, be<std::uint32_t>(0x8100)))));
    add("error-short", concat({message(NLMSG_ERROR, to_bytes({0xff, 0xff, 0xff, 0xff})), packet_with(bytes{})}));
    return out;
}

} // namespace nflog::test

#endif
