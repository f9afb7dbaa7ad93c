// Input: one netlink datagram as received.
// Walks it with packet_range, calls every getter of every packet, reads every
// byte of every span, and checks what packet.hpp promises: spans inside their
// message, values equal to the raw attribute bytes, the last occurrence of a
// type wins, and the range yields exactly what a message walk predicts. Then
// walks it as a socket does, with a remembered attribute layout, and checks
// that this yields exactly what packet_range yields. Every packet message's
// verdict must equal that of a plain reference walk written out here. Last,
// one event is reused for every packet, as a batch's slots are, and must
// equal an event made fresh from the same packet.

#include <nflog/detail/packet_layout.hpp>
#include <nflog/event.hpp>
#include <nflog/packet.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <optional>
#include <span>

#include "fuzz_checks.hpp"

namespace {

using namespace nflog;

using fuzz::inside;
using fuzz::require;
using fuzz::same_element;
using fuzz::same_event;

void touch(std::span<const std::byte> bytes)
{
    volatile std::byte sink{};
    for (const auto b : bytes)
        sink = sink ^ b;
}

// The payload of the last attribute of each type, found by a plain walk.
std::array<std::optional<std::span<const std::byte>>, packet_view::max_attribute + 1> last_of_each_type(const packet_view& packet)
{
    std::array<std::optional<std::span<const std::byte>>, packet_view::max_attribute + 1> last;
    for (const auto& item : netlink::attribute_range(packet.message().subspan(sizeof(nlmsghdr) + sizeof(nfgenmsg)))) {
        require(item.has_value(), "a parsed packet has no malformed attribute");
        const auto type = item.value().type();
        if (type != 0 && type <= packet_view::max_attribute)
            last[type] = item.value().payload();
    }
    return last;
}

void check_u32(const packet_view& packet, std::uint16_t type, std::optional<std::uint32_t> value)
{
    require(value.has_value() == packet.has(type), "a u32 getter has a value exactly when present");
    if (value)
        require(*value == detail::load_be<std::uint32_t>(packet.bytes(type).data()), "u32 getters read big-endian");
}

void check_u16(const packet_view& packet, std::uint16_t type, std::optional<std::uint16_t> value)
{
    require(value.has_value() == packet.has(type), "a u16 getter has a value exactly when present");
    if (value)
        require(*value == detail::load_be<std::uint16_t>(packet.bytes(type).data()), "u16 getters read big-endian");
}

void check_packet(const packet_view& packet, std::span<const std::byte> datagram)
{
    const auto message = packet.message();
    require(inside(message, datagram), "the message lies inside the datagram");
    require(message.size() >= sizeof(nlmsghdr) + sizeof(nfgenmsg), "a packet holds its headers");
    require(detail::load<std::uint16_t>(message.data() + 4) == packet_message_type, "only packet messages parse");
    require(packet.has(NFULA_PACKET_HDR) && packet.bytes(NFULA_PACKET_HDR).size() == 4, "the packet header is there");
    touch(message);

    const auto last = last_of_each_type(packet);
    for (std::uint16_t type = 0; type <= packet_view::max_attribute + 2; ++type) {
        const auto bytes = packet.bytes(type);
        const bool known = type != 0 && type <= packet_view::max_attribute;
        require(packet.has(type) == (known && last[type].has_value()), "has() matches a plain walk");
        if (!packet.has(type)) {
            require(bytes.empty(), "an absent attribute has no bytes");
            continue;
        }
        require(inside(bytes, message), "attribute bytes lie inside the message");
        require(bytes.data() == last[type]->data() && bytes.size() == last[type]->size(), "the last occurrence wins");
        touch(bytes);
    }

    require(packet.group() == detail::load_be<std::uint16_t>(message.data() + sizeof(nlmsghdr) + 2), "group is res_id");
    require(packet.family() == detail::load<std::uint8_t>(message.data() + sizeof(nlmsghdr)), "family is nfgen_family");
    require(packet.hw_protocol() == detail::load_be<std::uint16_t>(packet.bytes(NFULA_PACKET_HDR).data()), "hw_protocol");
    require(packet.hook() == detail::load<std::uint8_t>(packet.bytes(NFULA_PACKET_HDR).data() + 2), "hook");

    check_u32(packet, NFULA_MARK, packet.mark());
    check_u32(packet, NFULA_IFINDEX_INDEV, packet.indev());
    check_u32(packet, NFULA_IFINDEX_OUTDEV, packet.outdev());
    check_u32(packet, NFULA_IFINDEX_PHYSINDEV, packet.physindev());
    check_u32(packet, NFULA_IFINDEX_PHYSOUTDEV, packet.physoutdev());
    check_u32(packet, NFULA_UID, packet.uid());
    check_u32(packet, NFULA_GID, packet.gid());
    check_u32(packet, NFULA_SEQ, packet.seq());
    check_u32(packet, NFULA_SEQ_GLOBAL, packet.seq_global());
    check_u32(packet, NFULA_CT_INFO, packet.ct_info());
    check_u16(packet, NFULA_HWTYPE, packet.hwtype());
    check_u16(packet, NFULA_HWLEN, packet.hwlen());

    for (const auto& [type, span] : {std::pair{NFULA_PAYLOAD, packet.payload()}, std::pair{NFULA_HWHEADER, packet.hwheader()},
                                     std::pair{NFULA_CT, packet.conntrack()}, std::pair{NFULA_L2HDR, packet.l2hdr()}}) {
        const auto raw = packet.bytes(static_cast<std::uint16_t>(type));
        require(span.data() == raw.data() && span.size() == raw.size(), "byte getters are the raw attribute");
    }

    const auto timestamp = packet.timestamp();
    require(timestamp.has_value() == packet.has(NFULA_TIMESTAMP), "timestamp present exactly with its attribute");
    if (timestamp) {
        using namespace std::chrono;
        const auto since_epoch = timestamp->time_since_epoch();
        require(since_epoch >= system_clock::duration::zero(), "timestamps are not before the epoch");
        require(since_epoch <= seconds(9'000'000'000) + microseconds(999'999), "timestamps saturate at the documented limit");
    }

    const auto address = packet.hwaddr();
    require(address.size() <= 8, "a hardware address has at most 8 bytes");
    if (packet.has(NFULA_HWADDR)) {
        require(inside(address, packet.bytes(NFULA_HWADDR)), "the hardware address lies in its attribute");
        touch(address);
    } else {
        require(address.empty(), "no hardware address without its attribute");
    }

    const auto prefix = packet.prefix();
    require(prefix.find('\0') == std::string_view::npos, "the prefix ends before its NUL");
    const auto prefix_field = packet.bytes(NFULA_PREFIX);
    require(prefix.empty() || inside(std::as_bytes(std::span(prefix)), prefix_field), "the prefix lies in its attribute");
    require(prefix.size() == prefix_field.size() || prefix_field[prefix.size()] == std::byte{0},
            "the prefix ends at the first NUL or at the attribute's end");

    const auto proto = packet.vlan_proto();
    const auto tci = packet.vlan_tci();
    require((!proto && !tci) || packet.has(NFULA_VLAN), "VLAN members need the VLAN attribute");
    for (const auto& [value, member] : {std::pair{proto, NFULA_VLAN_PROTO}, std::pair{tci, NFULA_VLAN_TCI}}) {
        std::optional<std::uint16_t> expected;
        if (packet.has(NFULA_VLAN)) {
            for (const auto& inner : netlink::attribute_range(packet.bytes(NFULA_VLAN))) {
                require(inner.has_value(), "a parsed VLAN nest has no malformed member");
                if (inner.value().type() == member)
                    expected = inner.value().as_big_endian<std::uint16_t>().value();
            }
        }
        require(value == expected, "VLAN members are the last of their type in the last nest");
    }
}

std::uint16_t host_u16(std::span<const std::byte> bytes, std::size_t at)
{
    std::uint16_t value;
    std::memcpy(&value, bytes.data() + at, sizeof value);
    return value;
}

// The payload size of each fixed-size NFULA type, from the kernel's ABI
// (0: any size); written out here rather than taken from the library.
std::size_t fixed_payload(unsigned type)
{
    switch (type) {
    case 1: return 4;   // PACKET_HDR: hw_protocol, hook, pad
    case 3: return 16;  // TIMESTAMP: two 64-bit fields
    case 8: return 12;  // HWADDR: hw_addrlen, pad, 8 address bytes
    case 15: return 2;  // HWTYPE
    case 17: return 2;  // HWLEN
    case 2: case 4: case 5: case 6: case 7: case 11: case 12: case 13: case 14: case 19:
        return 4;       // MARK, the four interfaces, UID, SEQ, SEQ_GLOBAL, GID, CT_INFO
    default: return 0;
    }
}

// Attributes one after the other from `at`: one that does not fit is
// bad_attribute_length, a tail too short for a header short_attribute, and
// `check(type, length, at)` judges the rest.
template <class Check>
errc reference_walk(std::span<const std::byte> bytes, std::size_t at, Check check)
{
    // An unpadded last attribute leaves `at` up to 3 bytes past the end.
    while (at + 4 <= bytes.size()) {
        const std::size_t length = host_u16(bytes, at);
        if (length < 4 || length > bytes.size() - at)
            return errc::bad_attribute_length;
        if (const auto failure = check(host_u16(bytes, at + 2) & NLA_TYPE_MASK, length, at); failure != errc{})
            return failure;
        at += (length + 3) & ~std::size_t{3};
    }
    return at < bytes.size() ? errc::short_attribute : errc{};
}

// packet_view::parse's verdict on one message, by the plainest walk there
// is: one attribute after the other, every rule checked where it stands; in
// a VLAN nest, PROTO and TCI must have 2 bytes.
errc reference_parse(const netlink::message_view& message)
{
    if (message.type() != packet_message_type)
        return errc::not_a_packet;
    const auto bytes = message.bytes();
    if (bytes.size() < 20)
        return errc::short_nfgenmsg;
    bool packet_header = false;
    const auto failure = reference_walk(bytes, 20, [&](unsigned type, std::size_t length, std::size_t at) {
        if (type <= packet_view::max_attribute && fixed_payload(type) != 0 && length != 4 + fixed_payload(type))
            return errc::bad_attribute_size;
        if (type == 20) {
            const auto nested = reference_walk(bytes.subspan(at + 4, length - 4), 0, [](unsigned member, std::size_t size, std::size_t) {
                return (member == 1 || member == 2) && size != 6 ? errc::bad_attribute_size : errc{};
            });
            if (nested != errc{})
                return nested;
        }
        packet_header = packet_header || type == 1;
        return errc{};
    });
    if (failure != errc{})
        return failure;
    return packet_header ? errc{} : errc::missing_packet_header;
}

// What packet_range must yield for each message, predicted from a message walk.
void check_range(std::span<const std::byte> datagram)
{
    const packet_range packets(datagram);
    auto element = packets.begin();
    for (const auto& item : netlink::message_range(datagram)) {
        if (!item) {
            require(element != packets.end() && element->has_error() && element->error() == item.error(), "a framing error is one element");
            ++element;
            break;
        }
        const auto& message = item.value();
        if (message.type() == packet_message_type) {
            require(element != packets.end(), "every packet message is an element");
            const auto parsed = packet_view::parse(message);
            require((parsed ? errc{} : errc(parsed.error().value())) == reference_parse(message),
                    "the parse accepts and rejects exactly as the plain walk does, with its error");
            require(element->has_value() == parsed.has_value(), "an element is the packet's parse");
            if (parsed) {
                require(element->value().message().data() == message.bytes().data(), "elements come in message order");
                check_packet(element->value(), datagram);
            } else {
                require(element->error() == parsed.error(), "a packet's parse error is its element");
                require(parsed.error().category() == error_category(), "packet errors are nflog errors");
            }
            ++element;
        } else if (message.is_error()) {
            const auto reply = netlink::parse_error(message);
            if (reply && reply.value().error == 0)
                continue;
            require(element != packets.end() && element->has_error(), "an NLMSG_ERROR that is no ACK is an error element");
            if (reply)
                require(element->error() == boost::system::error_code(reply.value().error, boost::system::generic_category()), "its errno");
            else
                require(element->error() == reply.error(), "its decoding error");
            ++element;
        }
    }
    require(element == packets.end(), "no element beyond what the messages predict");
}

// The socket's walk keeps one layout across datagrams: walking the input
// twice lets its first messages meet a layout learned from its last.
void check_layout_walk(std::span<const std::byte> datagram)
{
    detail::packet_layout layout;
    for (int pass = 0; pass < 2; ++pass) {
        const packet_range packets(datagram);
        auto expected = packets.begin();
        detail::packet_walk walk(datagram);
        result<packet_view> element{packet_view{}};
        layout.start_datagram();
        while (walk.next(element, layout)) {
            require(expected != packets.end(), "the layout walk yields no more elements than packet_range");
            require(same_element(element, *expected), "the layout walk yields what packet_range yields");
            if (element)
                check_packet(element.value(), datagram);
            ++expected;
        }
        require(expected == packets.end(), "the layout walk yields every element of packet_range");
    }
}

// Twice over the input, so that its first packets meet an event that holds
// its last one (and the prefix the event remembers from it).
void check_reused_event(std::span<const std::byte> datagram)
{
    const auto received_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
    event reused;
    for (int pass = 0; pass < 2; ++pass) {
        for (const auto& item : packet_range(datagram)) {
            if (!item)
                continue;
            reused.assign(item.value(), received_at, 7);
            require(same_event(reused, make_event(item.value(), received_at, 7)),
                    "a reused event equals one made fresh from the same packet");
        }
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto datagram = std::as_bytes(std::span(data, size));
    check_range(datagram);
    check_layout_walk(datagram);
    check_reused_event(datagram);
    return 0;
}
