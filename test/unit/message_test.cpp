#include <nflog/netlink/message.hpp>

#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <ranges>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;

std::vector<result<netlink::message_view>> walk(const bytes& datagram)
{
    std::vector<result<netlink::message_view>> out;
    for (const auto& item : netlink::message_range(datagram))
        out.push_back(item);
    return out;
}

TEST(message_view, a_default_view_reads_as_a_zero_header)
{
    const netlink::message_view none;
    EXPECT_EQ(none.length(), 0u);
    EXPECT_EQ(none.type(), 0);
    EXPECT_EQ(none.flags(), 0);
    EXPECT_FALSE(none.is_error());
    EXPECT_EQ(none.bytes().size(), netlink::message_view::header_size);
    EXPECT_TRUE(none.payload().empty());
    EXPECT_EQ(netlink::parse_error(none).error(), errc::unexpected_reply);
}

TEST(message_range, empty_buffer_yields_nothing)
{
    EXPECT_TRUE(walk({}).empty());
}

TEST(message_range, walks_aligned_messages_and_stops_at_done)
{
    const auto datagram = concat({message(0x0400, to_bytes({1, 2, 3})), message(0x0400, to_bytes({4})), done_message(),
                                  message(0x0400, to_bytes({9}))});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    ASSERT_TRUE(items[0]);
    EXPECT_EQ(items[0].value().length(), 19u);
    EXPECT_EQ(items[0].value().payload().size(), 3u);
    ASSERT_TRUE(items[1]);
    EXPECT_EQ(static_cast<int>(items[1].value().payload()[0]), 4);
}

TEST(message_range, accepts_unpadded_last_message)
{
    auto datagram = concat({message(0x0400, to_bytes({1, 2, 3, 4})), message(0x0400, to_bytes({5}))});
    datagram.resize(20u + 17u);
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    ASSERT_TRUE(items[1]);
    EXPECT_EQ(items[1].value().payload().size(), 1u);
}

TEST(message_range, short_tail_is_one_error_and_ends_the_walk)
{
    auto datagram = message(0x0400, to_bytes({1, 2, 3, 4}));
    datagram.resize(datagram.size() + 8);
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_TRUE(items[0]);
    EXPECT_EQ(items[1].error(), errc::short_message);
}

TEST(message_range, length_below_header_ends_the_walk)
{
    for (long forged : {0L, 1L, 3L, 15L}) {
        const auto datagram = concat({message(0x0400, to_bytes({1, 2, 3, 4}), 0, forged), message(0x0400, {})});
        const auto items = walk(datagram);
        ASSERT_EQ(items.size(), 1u) << forged;
        EXPECT_EQ(items[0].error(), errc::bad_message_length) << forged;
    }
}

TEST(message_range, length_past_buffer_ends_the_walk)
{
    const auto datagram = message(0x0400, to_bytes({1, 2, 3, 4}), 0, 64);
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].error(), errc::bad_message_length);
    EXPECT_EQ(items[0].error(), condition::malformed);
}

static_assert(std::forward_iterator<netlink::message_range::iterator>);
static_assert(std::ranges::forward_range<netlink::message_range>);

TEST(message_range, done_first_yields_nothing)
{
    EXPECT_TRUE(walk(concat({done_message(), message(0x0400, to_bytes({1}))})).empty());
}

TEST(message_range, done_with_a_bad_length_is_a_framing_error)
{
    const auto datagram = message(NLMSG_DONE, be<std::uint32_t>(0), 0, 12);
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].error(), errc::bad_message_length);
}

TEST(message_range, next_message_starts_at_the_aligned_length)
{
    // nlmsg_len 17: the message view ends there, the next header sits at 20.
    const auto datagram = concat({message(0x0400, to_bytes({7})), message(0x0401, to_bytes({8, 9}))});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].value().bytes().size(), 17u);
    EXPECT_EQ(items[1].value().bytes().data(), datagram.data() + 20);
    EXPECT_EQ(items[1].value().type(), 0x0401u);
}

TEST(message_range, header_fields)
{
    auto datagram = message(0x0402, {}, NLM_F_MULTI);
    const std::uint32_t sequence = 0x01020304, port = 0x0a0b0c0d;
    std::memcpy(datagram.data() + 8, &sequence, 4);
    std::memcpy(datagram.data() + 12, &port, 4);
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 1u);
    const auto& view = items[0].value();
    EXPECT_EQ(view.length(), 16u);
    EXPECT_EQ(view.type(), 0x0402u);
    EXPECT_EQ(view.flags(), NLM_F_MULTI);
    EXPECT_EQ(view.sequence(), sequence);
    EXPECT_EQ(view.port_id(), port);
    EXPECT_TRUE(view.payload().empty());
    EXPECT_FALSE(view.is_error());
}

TEST(message_range, iterators_copy_and_compare)
{
    const auto datagram = concat({message(0x0400, {}), message(0x0401, {}), message(0x0402, {})});
    const netlink::message_range range(datagram);
    EXPECT_EQ(std::ranges::distance(range), 3);
    auto it = range.begin();
    const auto before = it++;
    EXPECT_EQ(before, range.begin());
    EXPECT_EQ(it->value().type(), 0x0401u);
    EXPECT_EQ(std::next(it, 2), range.end());
    EXPECT_EQ(netlink::message_range().begin(), netlink::message_range().end());
}

TEST(parse_error, ack_and_errno_and_short_message)
{
    bytes body;
    append_host<std::int32_t>(body, -EPERM);
    const auto request = message(0x0401, {}, NLM_F_REQUEST | NLM_F_ACK);
    body.insert(body.end(), request.begin(), request.end());
    const auto error = message(NLMSG_ERROR, body);
    const auto parsed = netlink::parse_error(netlink::message_view(error));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed.value().error, EPERM);
    EXPECT_EQ(parsed.value().request_type, 0x0401);
    EXPECT_TRUE(parsed.value().extended_ack.empty());

    const auto short_error = message(NLMSG_ERROR, be<std::uint32_t>(0));
    EXPECT_EQ(netlink::parse_error(netlink::message_view(short_error)).error(), errc::bad_error_message);

    const auto not_error = message(0x0400, {});
    EXPECT_EQ(netlink::parse_error(netlink::message_view(not_error)).error(), errc::unexpected_reply);
}

TEST(parse_error, error_field_that_is_no_errno)
{
    for (const std::int32_t field : {1, 4096, -4096, std::numeric_limits<std::int32_t>::min(), std::numeric_limits<std::int32_t>::max()}) {
        bytes body;
        append_host<std::int32_t>(body, field);
        const auto request = message(0x0401, {});
        body.insert(body.end(), request.begin(), request.end());
        const auto error = message(NLMSG_ERROR, body);
        EXPECT_EQ(netlink::parse_error(netlink::message_view(error)).error(), errc::bad_error_message) << field;
    }
    for (const std::int32_t field : {0, -1, -4095}) {
        const auto error = error_message(-field);
        const auto parsed = netlink::parse_error(netlink::message_view(error));
        ASSERT_TRUE(parsed) << field;
        EXPECT_EQ(parsed.value().error, -field);
    }
}

TEST(parse_error, extended_ack_after_full_request)
{
    // Without NLM_F_CAPPED the request is echoed whole, padded to 4 bytes.
    bytes body;
    append_host<std::int32_t>(body, -EINVAL);
    auto request = message(0x0401, to_bytes({1, 2, 3, 4, 5}));
    body.insert(body.end(), request.begin(), request.end());
    const auto text = attribute(NLMSGERR_ATTR_MSG, nul_terminated("no"));
    body.insert(body.end(), text.begin(), text.end());
    const auto error = message(NLMSG_ERROR, body, NLM_F_ACK_TLVS);
    const auto parsed = netlink::parse_error(netlink::message_view(error));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed.value().extended_ack.data(), error.data() + 16 + 4 + 24);
    EXPECT_EQ(parsed.value().extended_ack.size(), text.size());
}

TEST(parse_error, echoed_request_longer_than_the_error)
{
    bytes body;
    append_host<std::int32_t>(body, -EINVAL);
    const auto request = message(0x0401, {}, 0, 200);
    body.insert(body.end(), request.begin(), request.end());
    const auto error = message(NLMSG_ERROR, body, NLM_F_ACK_TLVS);
    EXPECT_EQ(netlink::parse_error(netlink::message_view(error)).error(), errc::bad_error_message);

    bytes forged;
    append_host<std::int32_t>(forged, -EINVAL);
    const auto tiny = message(0x0401, {}, 0, 8);
    forged.insert(forged.end(), tiny.begin(), tiny.end());
    const auto tiny_error = message(NLMSG_ERROR, forged, NLM_F_ACK_TLVS);
    EXPECT_EQ(netlink::parse_error(netlink::message_view(tiny_error)).error(), errc::bad_error_message);
}

TEST(parse_error, extended_ack_after_capped_request)
{
    bytes body;
    append_host<std::int32_t>(body, -EINVAL);
    const auto request = message(0x0401, {}, NLM_F_REQUEST);
    body.insert(body.end(), request.begin(), request.end());
    const auto text = attribute(NLMSGERR_ATTR_MSG, to_bytes(std::string_view("bad value\0", 10)));
    body.insert(body.end(), text.begin(), text.end());
    const auto error = message(NLMSG_ERROR, body, NLM_F_CAPPED | NLM_F_ACK_TLVS);
    const auto parsed = netlink::parse_error(netlink::message_view(error));
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed.value().error, EINVAL);
    EXPECT_EQ(parsed.value().extended_ack.size(), text.size());
}

} // namespace
