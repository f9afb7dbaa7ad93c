// packet_range lives in packet.hpp; packet_test.cpp covers packet_view.
#include <nflog/packet.hpp>

#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <linux/netfilter.h>

#include <cerrno>
#include <iterator>
#include <ranges>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;

static_assert(std::forward_iterator<packet_range::iterator>);
static_assert(std::ranges::forward_range<packet_range>);

/// A valid packet of `group` carrying `mark`, so elements can be told apart.
bytes marked_packet(std::uint16_t group, std::uint32_t mark)
{
    return packet_message(NFPROTO_IPV4, group,
                          concat({attribute(NFULA_PACKET_HDR, packet_header(0x0800, 1)), attribute(NFULA_MARK, be(mark)),
                                  attribute(NFULA_PREFIX, nul_terminated("p"))}));
}

std::vector<result<packet_view>> walk(const bytes& datagram)
{
    std::vector<result<packet_view>> out;
    for (const auto& item : packet_range(datagram))
        out.push_back(item);
    return out;
}

// The elements view the datagram: it must outlive them.
std::vector<result<packet_view>> walk(bytes&&) = delete;

void expect_packet(const result<packet_view>& item, std::uint16_t group, std::uint32_t mark)
{
    ASSERT_TRUE(item) << item.error().message();
    EXPECT_EQ(item.value().group(), group);
    EXPECT_EQ(item.value().mark(), mark);
}

boost::system::error_code generic(int error) { return {error, boost::system::generic_category()}; }

TEST(packet_range, empty_datagram_and_lone_done_yield_nothing)
{
    const bytes nothing;
    EXPECT_TRUE(walk(nothing).empty());
    const auto done = done_message();
    EXPECT_TRUE(walk(done).empty());
    const packet_range empty;
    EXPECT_EQ(empty.begin(), empty.end());
}

TEST(packet_range, batch_of_packets_ends_at_done)
{
    const auto datagram = concat({marked_packet(1, 10), marked_packet(1, 11), marked_packet(2, 12), done_message(), marked_packet(9, 99)});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 3u);
    expect_packet(items[0], 1, 10);
    expect_packet(items[1], 1, 11);
    expect_packet(items[2], 2, 12);
    EXPECT_EQ(items[1].value().message().data(), datagram.data() + marked_packet(1, 10).size());
}

TEST(packet_range, batch_without_done_ends_at_the_datagram)
{
    const auto datagram = concat({marked_packet(1, 1), marked_packet(1, 2)});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    expect_packet(items[1], 1, 2);
}

TEST(packet_range, unpadded_last_packet)
{
    auto last = packet_message(NFPROTO_IPV4, 4, concat({attribute(NFULA_PACKET_HDR, packet_header(0x0800, 1)), attribute(NFULA_PAYLOAD, to_bytes({0x45}))}));
    // nlmsg_len and the datagram both end right after the payload byte.
    last.resize(16 + 4 + 8 + 5);
    last[0] = std::byte{16 + 4 + 8 + 5};
    const auto datagram = concat({marked_packet(1, 1), last});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    ASSERT_TRUE(items[1]);
    EXPECT_EQ(items[1].value().payload().size(), 1u);
}

TEST(packet_range, malformed_packet_in_the_middle_is_one_error_and_the_walk_goes_on)
{
    const auto broken = packet_message(NFPROTO_IPV4, 1, concat({attribute(NFULA_PACKET_HDR, packet_header(0x0800, 1)), attribute(NFULA_MARK, be<std::uint16_t>(1))}));
    const auto headless = packet_message(NFPROTO_IPV4, 1, attribute(NFULA_MARK, be<std::uint32_t>(1)));
    const auto cut_nfgenmsg = message(packet_message_type, to_bytes({2, 0}));
    const auto datagram = concat({marked_packet(1, 1), broken, marked_packet(1, 2), headless, cut_nfgenmsg, marked_packet(1, 3), done_message()});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 6u);
    expect_packet(items[0], 1, 1);
    EXPECT_EQ(items[1].error(), errc::bad_attribute_size);
    expect_packet(items[2], 1, 2);
    EXPECT_EQ(items[3].error(), errc::missing_packet_header);
    EXPECT_EQ(items[4].error(), errc::short_nfgenmsg);
    expect_packet(items[5], 1, 3);
}

TEST(packet_range, attribute_framing_error_stays_inside_its_message)
{
    // A bad nla_len spoils one message only: nlmsg_len still frames the next.
    const auto broken = packet_message(NFPROTO_IPV4, 1, concat({attribute(NFULA_PACKET_HDR, packet_header(0x0800, 1)), attribute(NFULA_MARK, be<std::uint32_t>(1), 2)}));
    const auto datagram = concat({broken, marked_packet(1, 2)});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].error(), errc::bad_attribute_length);
    expect_packet(items[1], 1, 2);
}

TEST(packet_range, noop_and_foreign_messages_are_skipped)
{
    const auto config = message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, nfgen(NFPROTO_UNSPEC, 0));
    const auto datagram = concat({noop_message(), marked_packet(1, 1), noop_message(), config, message(NLMSG_OVERRUN, {}), marked_packet(1, 2)});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    expect_packet(items[0], 1, 1);
    expect_packet(items[1], 1, 2);
}

TEST(packet_range, error_message_yields_its_errno)
{
    const auto datagram = concat({marked_packet(1, 1), error_message(EPERM), marked_packet(1, 2), error_message(ENOBUFS)});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 4u);
    expect_packet(items[0], 1, 1);
    EXPECT_EQ(items[1].error(), generic(EPERM));
    EXPECT_EQ(items[1].error(), boost::system::errc::operation_not_permitted);
    expect_packet(items[2], 1, 2);
    EXPECT_EQ(items[3].error(), generic(ENOBUFS));
}

TEST(packet_range, ack_is_skipped)
{
    const auto datagram = concat({error_message(0), marked_packet(1, 1), error_message(0)});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 1u);
    expect_packet(items[0], 1, 1);
}

TEST(packet_range, error_message_too_short_for_its_errno_is_an_error_element)
{
    const auto datagram = concat({message(NLMSG_ERROR, to_bytes({0xff, 0xff})), marked_packet(1, 1)});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[0].error(), errc::bad_error_message);
    expect_packet(items[1], 1, 1);
}

TEST(packet_range, framing_error_ends_the_walk_after_one_element)
{
    const auto bad_length = concat({marked_packet(1, 1), message(packet_message_type, nfgen(2, 1), 0, 8), marked_packet(1, 2)});
    auto items = walk(bad_length);
    ASSERT_EQ(items.size(), 2u);
    expect_packet(items[0], 1, 1);
    EXPECT_EQ(items[1].error(), errc::bad_message_length);

    const auto past_end = concat({marked_packet(1, 1), message(packet_message_type, nfgen(2, 1), 0, 4096)});
    items = walk(past_end);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].error(), errc::bad_message_length);

    auto short_tail = marked_packet(1, 1);
    short_tail.resize(short_tail.size() + 12, std::byte{0x40});
    items = walk(short_tail);
    ASSERT_EQ(items.size(), 2u);
    EXPECT_EQ(items[1].error(), errc::short_message);
}

TEST(packet_range, framing_error_first)
{
    const auto datagram = to_bytes({1, 2, 3});
    const auto items = walk(datagram);
    ASSERT_EQ(items.size(), 1u);
    EXPECT_EQ(items[0].error(), errc::short_message);
}

TEST(packet_range, iterators_copy_compare_and_walk_twice)
{
    const auto datagram = concat({marked_packet(1, 1), noop_message(), marked_packet(1, 2), error_message(EIO), done_message()});
    const packet_range range(datagram);
    EXPECT_EQ(std::ranges::distance(range), 3);
    EXPECT_EQ(std::ranges::distance(range), 3);

    auto it = range.begin();
    const auto first = it++;
    EXPECT_EQ(first, range.begin());
    EXPECT_NE(first, it);
    EXPECT_EQ(it->value().mark(), 2u);
    ++it;
    EXPECT_EQ(it->error(), generic(EIO));
    EXPECT_EQ(++it, range.end());
    EXPECT_EQ((*first).value().mark(), 1u);
}

} // namespace
