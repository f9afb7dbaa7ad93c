#include <nflog/netlink/attribute.hpp>

#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <iterator>
#include <ranges>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;

static_assert(std::forward_iterator<netlink::attribute_range::iterator>);
static_assert(std::ranges::forward_range<netlink::attribute_range>);

std::vector<result<netlink::attribute_view>> walk(std::span<const std::byte> bytes)
{
    std::vector<result<netlink::attribute_view>> out;
    for (const auto& item : netlink::attribute_range(bytes))
        out.push_back(item);
    return out;
}

// Where a view starts inside the buffer it was cut from.
std::ptrdiff_t offset_in(const bytes& buffer, std::span<const std::byte> view) { return view.data() - buffer.data(); }

TEST(attribute_view, a_default_view_reads_as_a_zero_header)
{
    const netlink::attribute_view none;
    EXPECT_EQ(none.type(), 0);
    EXPECT_FALSE(none.is_nested());
    EXPECT_TRUE(none.payload().empty());
    EXPECT_TRUE(none.as_string().empty());
    EXPECT_EQ(none.as_host<std::uint32_t>().error(), errc::bad_attribute_size);
    EXPECT_EQ(std::ranges::distance(none.nested()), 0);
}

TEST(attribute_range, empty_buffer_yields_nothing)
{
    EXPECT_TRUE(walk({}).empty());
    const netlink::attribute_range empty;
    EXPECT_EQ(empty.begin(), empty.end());
}

TEST(attribute_range, walks_padded_attributes_in_order)
{
    const auto buffer = concat({attribute(7, to_bytes({1})), attribute(8, to_bytes({2, 3, 4, 5})), attribute(9, bytes{})});
    const auto items = walk(buffer);
    ASSERT_EQ(items.size(), 3u);
    for (const auto& item : items)
        ASSERT_TRUE(item);

    EXPECT_EQ(items[0].value().type(), 7u);
    EXPECT_EQ(offset_in(buffer, items[0].value().bytes()), 0);
    EXPECT_EQ(items[0].value().bytes().size(), 5u) << "bytes() ends at nla_len, before the padding";
    EXPECT_EQ(items[0].value().payload().size(), 1u);
    EXPECT_EQ(items[0].value().payload()[0], std::byte{1});

    EXPECT_EQ(items[1].value().type(), 8u);
    EXPECT_EQ(offset_in(buffer, items[1].value().bytes()), 8);
    EXPECT_EQ(offset_in(buffer, items[1].value().payload()), 12);
    EXPECT_EQ(items[1].value().payload().size(), 4u);

    EXPECT_EQ(items[2].value().type(), 9u);
    EXPECT_EQ(offset_in(buffer, items[2].value().bytes()), 16);
    EXPECT_TRUE(items[2].value().payload().empty());
}

TEST(attribute_range, accepts_unpadded_last_attribute)
{
    auto buffer = concat({attribute(1, to_bytes({1, 2, 3, 4})), attribute(2, to_bytes({5}))});
    buffer.resize(8 + 5);
    const auto items = walk(buffer);
    ASSERT_EQ(items.size(), 2u);
    ASSERT_TRUE(items[1]);
    EXPECT_EQ(items[1].value().type(), 2u);
    EXPECT_EQ(items[1].value().payload().size(), 1u);
}

TEST(attribute_range, tail_shorter_than_a_header_is_one_error)
{
    for (std::size_t tail = 1; tail < netlink::attribute_view::header_size; ++tail) {
        auto buffer = attribute(1, to_bytes({1, 2, 3, 4}));
        buffer.resize(buffer.size() + tail, std::byte{0xff});
        const auto items = walk(buffer);
        ASSERT_EQ(items.size(), 2u) << tail;
        EXPECT_TRUE(items[0]) << tail;
        EXPECT_EQ(items[1].error(), errc::short_attribute) << tail;
    }
}

TEST(attribute_range, length_below_header_is_one_error_and_ends_the_walk)
{
    for (int forged = 0; forged < 4; ++forged) {
        const auto buffer = concat({attribute(1, to_bytes({1, 2, 3, 4}), forged), attribute(2, to_bytes({5, 6, 7, 8}))});
        const auto items = walk(buffer);
        ASSERT_EQ(items.size(), 1u) << forged;
        EXPECT_EQ(items[0].error(), errc::bad_attribute_length) << forged;
        EXPECT_EQ(items[0].error(), condition::malformed) << forged;
    }
}

TEST(attribute_range, length_past_the_buffer_is_one_error)
{
    const auto buffer = concat({attribute(1, to_bytes({1, 2, 3, 4})), attribute(2, to_bytes({5, 6, 7, 8}), 9)});
    const auto items = walk(buffer);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_TRUE(items[0]);
    EXPECT_EQ(items[1].error(), errc::bad_attribute_length);
}

TEST(attribute_range, length_may_end_exactly_at_the_buffer_end)
{
    auto buffer = attribute(3, to_bytes({1, 2, 3}));
    buffer.resize(7);
    const auto items = walk(buffer);
    ASSERT_EQ(items.size(), 1u);
    ASSERT_TRUE(items[0]);
    EXPECT_EQ(items[0].value().payload().size(), 3u);
}

TEST(attribute_range, a_walk_can_be_repeated_and_copied)
{
    const auto buffer = concat({attribute(1, to_bytes({1})), attribute(2, to_bytes({2})), attribute(3, to_bytes({3}))});
    const netlink::attribute_range range(buffer);
    EXPECT_EQ(std::ranges::distance(range), 3);
    EXPECT_EQ(std::ranges::distance(range), 3);

    auto first = range.begin();
    const auto second = std::next(first);
    const auto copy = first++;
    EXPECT_EQ(copy, range.begin());
    EXPECT_EQ(first, second);
    EXPECT_NE(first, copy);
    EXPECT_EQ((*first).value().type(), 2u);
    EXPECT_EQ(first->value().type(), 2u);
    EXPECT_EQ(std::next(first, 2), range.end());
}

TEST(attribute_view, flags_are_masked_out_of_the_type)
{
    const auto nested = attribute(static_cast<std::uint16_t>(5 | NLA_F_NESTED), bytes{});
    const auto byte_order = attribute(static_cast<std::uint16_t>(5 | NLA_F_NET_BYTEORDER), bytes{});
    const auto both = attribute(static_cast<std::uint16_t>(5 | NLA_F_NESTED | NLA_F_NET_BYTEORDER), bytes{});
    const auto plain = attribute(5, bytes{});

    const auto n = walk(nested).at(0).value();
    EXPECT_EQ(n.type(), 5u);
    EXPECT_EQ(n.raw_type(), 5u | NLA_F_NESTED);
    EXPECT_TRUE(n.is_nested());
    EXPECT_FALSE(n.is_net_byte_order());

    const auto b = walk(byte_order).at(0).value();
    EXPECT_EQ(b.type(), 5u);
    EXPECT_FALSE(b.is_nested());
    EXPECT_TRUE(b.is_net_byte_order());

    const auto nb = walk(both).at(0).value();
    EXPECT_EQ(nb.type(), 5u);
    EXPECT_TRUE(nb.is_nested());
    EXPECT_TRUE(nb.is_net_byte_order());

    const auto p = walk(plain).at(0).value();
    EXPECT_EQ(p.raw_type(), 5u);
    EXPECT_FALSE(p.is_nested());
    EXPECT_FALSE(p.is_net_byte_order());
}

TEST(attribute_view, type_zero_is_walked_like_any_other)
{
    const auto buffer = concat({attribute(0, to_bytes({1})), attribute(static_cast<std::uint16_t>(NLA_TYPE_MASK), to_bytes({2}))});
    const auto items = walk(buffer);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].value().type(), 0u);
    EXPECT_EQ(items[1].value().type(), static_cast<std::uint16_t>(NLA_TYPE_MASK));
}

TEST(attribute_view, integers_in_host_and_network_order)
{
    bytes host32;
    append_host<std::uint32_t>(host32, 0x01020304u);
    const auto attribute32 = attribute(1, host32);
    const auto v32 = walk(attribute32).at(0).value();
    EXPECT_EQ(v32.as_host<std::uint32_t>().value(), 0x01020304u);
    EXPECT_EQ(v32.as_big_endian<std::uint32_t>().value(), 0x04030201u);

    const auto attribute8 = attribute(1, to_bytes({0xfe}));
    const auto v8 = walk(attribute8).at(0).value();
    EXPECT_EQ(v8.as_host<std::uint8_t>().value(), 0xfeu);
    EXPECT_EQ(v8.as_big_endian<std::int8_t>().value(), -2);

    const auto attribute16 = attribute(1, be<std::uint16_t>(0x8001));
    const auto v16 = walk(attribute16).at(0).value();
    EXPECT_EQ(v16.as_big_endian<std::uint16_t>().value(), 0x8001u);
    EXPECT_EQ(v16.as_big_endian<std::int16_t>().value(), static_cast<std::int16_t>(0x8001));

    const auto attribute64 = attribute(1, be<std::uint64_t>(0x0102030405060708ull));
    const auto v64 = walk(attribute64).at(0).value();
    EXPECT_EQ(v64.as_big_endian<std::uint64_t>().value(), 0x0102030405060708ull);
    EXPECT_EQ(v64.as_host<std::uint64_t>().value(), 0x0807060504030201ull);
}

TEST(attribute_view, integer_of_the_wrong_size_is_an_error)
{
    for (std::size_t size = 0; size <= 9; ++size) {
        const auto buffer = attribute(1, bytes(size, std::byte{0x11}));
        const auto view = walk(buffer).at(0).value();
        EXPECT_EQ(view.as_host<std::uint8_t>().has_value(), size == 1) << size;
        EXPECT_EQ(view.as_big_endian<std::uint16_t>().has_value(), size == 2) << size;
        EXPECT_EQ(view.as_host<std::uint32_t>().has_value(), size == 4) << size;
        EXPECT_EQ(view.as_big_endian<std::uint32_t>().has_value(), size == 4) << size;
        EXPECT_EQ(view.as_big_endian<std::uint64_t>().has_value(), size == 8) << size;
        if (size != 4) {
            EXPECT_EQ(view.as_host<std::uint32_t>().error(), errc::bad_attribute_size) << size;
            EXPECT_EQ(view.as_big_endian<std::uint32_t>().error(), errc::bad_attribute_size) << size;
        }
        if (size != 2) {
            EXPECT_EQ(view.as_big_endian<std::uint16_t>().error(), errc::bad_attribute_size) << size;
        }
        if (size != 8) {
            EXPECT_EQ(view.as_big_endian<std::uint64_t>().error(), errc::bad_attribute_size) << size;
        }
    }
}

TEST(attribute_view, strings_stop_at_the_first_nul_and_never_pass_the_attribute)
{
    struct sample {
        bytes payload;
        std::string_view expected;
    };
    const sample samples[] = {
        {nul_terminated("drop"), "drop"},
        {to_bytes("unterminated"), "unterminated"},
        {to_bytes(std::string_view("in\0side", 7)), "in"},
        {nul_terminated(""), ""},
        {bytes{}, ""},
    };
    for (const auto& [payload, expected] : samples) {
        // A trailing attribute full of letters proves the read stops at nla_len.
        const auto buffer = concat({attribute(1, payload), attribute(2, to_bytes("XXXX"))});
        const auto view = walk(buffer).at(0).value();
        EXPECT_EQ(view.as_string(), expected);
        EXPECT_EQ(view.as_string().data(), reinterpret_cast<const char*>(view.payload().data()));
    }
}

TEST(attribute_view, nested_walks_the_payload_only)
{
    const auto inner = concat({attribute(1, be<std::uint16_t>(0x8100)), attribute(2, be<std::uint16_t>(0x0064))});
    const auto buffer = concat({nested_attribute(20, inner), attribute(21, to_bytes({9, 9, 9, 9}))});
    const auto outer = walk(buffer);
    ASSERT_EQ(outer.size(), 2u);
    const auto nest = outer[0].value();
    EXPECT_TRUE(nest.is_nested());

    std::vector<result<netlink::attribute_view>> items(nest.nested().begin(), nest.nested().end());
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].value().as_big_endian<std::uint16_t>().value(), 0x8100u);
    EXPECT_EQ(items[1].value().type(), 2u);
    EXPECT_EQ(items[1].value().as_big_endian<std::uint16_t>().value(), 0x0064u);
    EXPECT_EQ(offset_in(buffer, items[0].value().bytes()), 4);
}

TEST(attribute_view, nested_length_past_the_nest_is_an_error_inside_it)
{
    // The inner length claims 12 bytes; the nest holds 8. The outer walk must
    // not be affected.
    const auto inner = attribute(1, to_bytes({1, 2, 3, 4}), 12);
    const auto buffer = concat({nested_attribute(20, inner), attribute(21, to_bytes({1, 2, 3, 4}))});
    const auto outer = walk(buffer);
    ASSERT_EQ(outer.size(), 2u);
    ASSERT_TRUE(outer[1]);

    std::vector<result<netlink::attribute_view>> items(outer[0].value().nested().begin(), outer[0].value().nested().end());
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].error(), errc::bad_attribute_length);
}

TEST(attribute_view, empty_nest_has_no_children)
{
    const auto buffer = nested_attribute(20, {});
    const auto nest = walk(buffer).at(0).value();
    EXPECT_EQ(nest.nested().begin(), nest.nested().end());
}

} // namespace
