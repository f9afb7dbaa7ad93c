#include <nflog/netlink/message.hpp>

#include "support/message_builder.hpp"

#include <gtest/gtest.h>

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
