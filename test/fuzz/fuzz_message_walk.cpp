// Input: one netlink datagram as received.
// Walks its messages and every attribute (nested ones too), reading every
// byte each view claims so the sanitizers see any view leaving the input;
// checks the walks' promises; and compares them with libmnl's.

#include <nflog/netlink/attribute.hpp>
#include <nflog/netlink/message.hpp>

#include "support/mnl_differential.hpp"

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <span>

#include "fuzz_checks.hpp"

namespace {

using namespace nflog;

using fuzz::inside;
using fuzz::require;

std::size_t offset(std::span<const std::byte> part, std::span<const std::byte> whole)
{
    return static_cast<std::size_t>(part.data() - whole.data());
}

// Reading through a volatile keeps every load, so ASan checks every byte.
void touch(std::span<const std::byte> bytes)
{
    volatile std::byte sink{};
    for (const auto b : bytes)
        sink = sink ^ b;
}

template <class T>
void check_integer(const netlink::attribute_view& attribute)
{
    const auto host = attribute.as_host<T>();
    const auto big = attribute.as_big_endian<T>();
    const bool fits = attribute.payload().size() == sizeof(T);
    require(host.has_value() == fits && big.has_value() == fits, "integer getters succeed exactly at their size");
    if (!fits) {
        require(host.error() == errc::bad_attribute_size && big.error() == errc::bad_attribute_size, "wrong size is bad_attribute_size");
        return;
    }
    T expected;
    std::memcpy(&expected, attribute.payload().data(), sizeof expected);
    require(host.value() == expected, "as_host reads the payload as is");
    const T swapped = std::endian::native == std::endian::little ? detail::byteswap(expected) : expected;
    require(big.value() == swapped, "as_big_endian reads network order");
}

void walk_attributes(std::span<const std::byte> bytes, int depth)
{
    std::size_t visited = 0;
    std::size_t next_offset = 0;
    const netlink::attribute_range range(bytes);
    for (auto it = range.begin(); it != range.end(); ++it) {
        require(++visited <= bytes.size() / 4 + 1, "an attribute walk ends");
        const auto& item = *it;
        if (!item) {
            require(item.error() == errc::short_attribute || item.error() == errc::bad_attribute_length, "attribute framing errors only");
            require(std::next(it) == range.end(), "an attribute framing error ends the walk");
            return;
        }
        const auto& attribute = item.value();
        const auto whole = attribute.bytes();
        require(inside(whole, bytes), "an attribute lies inside its walk");
        require(offset(whole, bytes) == next_offset, "attributes follow each other at aligned offsets");
        require(whole.size() == detail::load<std::uint16_t>(whole.data()), "an attribute view is nla_len long");
        require(whole.size() >= netlink::attribute_view::header_size, "an attribute holds its header");
        require(attribute.type() == (attribute.raw_type() & NLA_TYPE_MASK), "the type is masked");
        require(attribute.is_nested() == ((attribute.raw_type() & NLA_F_NESTED) != 0), "nested flag");
        require(attribute.is_net_byte_order() == ((attribute.raw_type() & NLA_F_NET_BYTEORDER) != 0), "byte-order flag");
        const auto payload = attribute.payload();
        require(payload.data() == whole.data() + 4 && payload.size() == whole.size() - 4, "the payload follows the header");
        touch(whole);

        const auto text = attribute.as_string();
        require(inside(std::as_bytes(std::span(text)), payload) || text.empty(), "a string stays in its attribute");
        require(text.find('\0') == std::string_view::npos, "a string ends before its NUL");

        check_integer<std::uint8_t>(attribute);
        check_integer<std::uint16_t>(attribute);
        check_integer<std::uint32_t>(attribute);
        check_integer<std::uint64_t>(attribute);

        if (depth < 4)
            walk_attributes(payload, depth + 1);
        next_offset = offset(whole, bytes) + detail::align4(whole.size());
    }
}

void walk_messages(std::span<const std::byte> datagram)
{
    std::size_t next_offset = 0;
    const netlink::message_range range(datagram);
    for (auto it = range.begin(); it != range.end(); ++it) {
        const auto& item = *it;
        if (!item) {
            require(item.error() == errc::short_message || item.error() == errc::bad_message_length, "message framing errors only");
            require(std::next(it) == range.end(), "a message framing error ends the walk");
            return;
        }
        const auto& message = item.value();
        const auto whole = message.bytes();
        require(inside(whole, datagram), "a message lies inside its datagram");
        require(offset(whole, datagram) == next_offset, "messages follow each other at aligned offsets");
        require(whole.size() == message.length() && whole.size() >= netlink::message_view::header_size, "a message view is nlmsg_len long");
        require(message.type() != NLMSG_DONE, "NLMSG_DONE is never yielded");
        touch(whole);

        if (message.is_error()) {
            if (const auto reply = netlink::parse_error(message)) {
                require(inside(reply.value().extended_ack, whole) || reply.value().extended_ack.empty(), "extended ACK inside its message");
                require(reply.value().error >= 0 && reply.value().error <= 4095, "an errno");
                walk_attributes(reply.value().extended_ack, 0);
            } else {
                require(reply.error() == errc::bad_error_message, "a bad NLMSG_ERROR is bad_error_message");
            }
        } else {
            require(netlink::parse_error(message).error() == errc::unexpected_reply, "only NLMSG_ERROR is an error message");
        }
        // Attributes straight after the header (generic netlink families) and
        // after an nfgenmsg (netfilter).
        walk_attributes(message.payload(), 0);
        if (message.payload().size() >= sizeof(nfgenmsg))
            walk_attributes(message.payload().subspan(sizeof(nfgenmsg)), 0);
        next_offset = offset(whole, datagram) + detail::align4(whole.size());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto datagram = std::as_bytes(std::span(data, size));
    walk_messages(datagram);

    test::mnl::tally counts;
    if (const auto difference = test::mnl::compare_datagram(datagram, counts); !difference.empty()) {
        std::fprintf(stderr, "nflog and libmnl disagree: %s\n", difference.c_str());
        std::abort();
    }
    return 0;
}
