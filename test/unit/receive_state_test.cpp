#include <nflog/detail/receive_state.hpp>

#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace {

using namespace nflog;
using namespace nflog::test;

bytes packet_with_seq(std::uint16_t group, std::uint32_t sequence)
{
    return packet_message(2, group,
                          concat({attribute(NFULA_PACKET_HDR, packet_header(0x0800, 3)),
                                  attribute(NFULA_SEQ, be<std::uint32_t>(sequence))}));
}

batch accept(detail::receive_state& state, const bytes& datagram, std::size_t reported_length = 0)
{
    auto lease = state.acquire();
    const auto copied = std::min(datagram.size(), lease.bytes().size());
    std::memcpy(lease.bytes().data(), datagram.data(), copied);
    return state.accept(std::move(lease), reported_length != 0 ? reported_length : datagram.size());
}

TEST(receive_state, counts_packets_and_sequence_gaps_per_group)
{
    detail::receive_state state(4096, {7, 8}, {});
    auto first = accept(state, concat({packet_with_seq(7, 0), packet_with_seq(7, 1), done_message()}));
    EXPECT_EQ(first.packet_count(), 2u);
    EXPECT_EQ(first.lost_before(), 0u);

    // Group 8 starts at 0 on its own; group 7 skips 2..4.
    auto second = accept(state, packet_with_seq(8, 0));
    EXPECT_EQ(second.lost_before(), 0u);
    auto third = accept(state, concat({packet_with_seq(7, 5), packet_with_seq(7, 6)}));
    EXPECT_EQ(third.lost_before(), 3u);

    // Events lost before the first one delivered count too: sequences start at 0.
    detail::receive_state fresh(4096, {9}, {});
    EXPECT_EQ(accept(fresh, packet_with_seq(9, 4)).lost_before(), 4u);

    EXPECT_EQ(state.counters().datagrams, 3u);
    EXPECT_EQ(state.counters().packets, 5u);
    EXPECT_EQ(state.counters().lost, 3u);
    EXPECT_EQ(state.counters().malformed, 0u);
}

// The kernel's drop count is 32 bits and wraps; the socket's is 64 and
// keeps counting across the wrap.
TEST(receive_state, the_kernels_drop_count_is_taken_as_differences)
{
    detail::receive_state state(4096, {7}, {});
    state.note_drop_count(3);
    EXPECT_EQ(state.counters().dropped_datagrams, 3u);
    state.note_drop_count(3);
    EXPECT_EQ(state.counters().dropped_datagrams, 3u);
    state.note_drop_count(0xffff'fff0u);
    EXPECT_EQ(state.counters().dropped_datagrams, 0xffff'fff0u);
    state.note_drop_count(5);
    EXPECT_EQ(state.counters().dropped_datagrams, 0x1'0000'0005u);
}

TEST(receive_state, groups_that_alternate_within_one_datagram_keep_their_own_sequences)
{
    // The kernel batches per group, but a datagram that mixes them, with an
    // unbound group and a packet without a sequence number among them, is
    // still accounted for exactly.
    detail::receive_state state(4096, {7, 8}, {});
    const auto no_sequence = packet_message(2, 7, attribute(NFULA_PACKET_HDR, packet_header(0x0800, 3)));
    auto mixed = accept(state, concat({packet_with_seq(7, 0), packet_with_seq(8, 2), packet_with_seq(7, 3),
                                       packet_with_seq(99, 50), no_sequence, packet_with_seq(7, 4)}));
    EXPECT_EQ(mixed.packet_count(), 6u);
    // 8 skipped 0..1, 7 skipped 1..2; group 99 is not this socket's.
    EXPECT_EQ(mixed.lost_before(), 4u);

    // Each group's expectation carries over to the next datagram.
    EXPECT_EQ(accept(state, concat({packet_with_seq(8, 3), packet_with_seq(7, 5)})).lost_before(), 0u);
    EXPECT_EQ(accept(state, packet_with_seq(8, 6)).lost_before(), 2u);
    EXPECT_EQ(state.counters().lost, 6u);
    EXPECT_EQ(state.counters().packets, 9u);
}

TEST(receive_state, a_sequence_going_back_is_not_a_loss)
{
    detail::receive_state state(4096, {7}, {});
    accept(state, packet_with_seq(7, 10));
    EXPECT_EQ(accept(state, packet_with_seq(7, 3)).lost_before(), 0u);
    EXPECT_EQ(state.counters().lost, 10u);
}

TEST(receive_state, malformed_messages_are_counted_and_the_rest_delivered)
{
    detail::receive_state state(4096, {7}, {});
    const auto broken = packet_message(2, 7, attribute(NFULA_MARK, be<std::uint16_t>(1)));
    auto received = accept(state, concat({packet_with_seq(7, 0), broken, packet_with_seq(7, 2)}));
    EXPECT_EQ(received.packet_count(), 2u);
    EXPECT_EQ(received.malformed(), 1u);
    EXPECT_EQ(state.counters().malformed, 1u);
    // The malformed message used sequence number 1.
    EXPECT_EQ(state.counters().lost, 1u);
}

TEST(receive_state, a_datagram_larger_than_the_buffer_is_marked_truncated)
{
    detail::receive_state state(64, {7}, {});
    const auto datagram = concat({packet_with_seq(7, 0), packet_with_seq(7, 1), packet_with_seq(7, 2)});
    ASSERT_GT(datagram.size(), 64u);
    // MSG_TRUNC makes recv report the datagram's real length.
    auto received = accept(state, datagram, datagram.size());
    EXPECT_TRUE(received.truncated());
    EXPECT_EQ(state.counters().truncated, 1u);
    // What fit whole is delivered; the message the cut fell in was sent
    // whole by the kernel: it is no element and not malformed.
    EXPECT_EQ(received.bytes().size(), packet_with_seq(7, 0).size());
    EXPECT_EQ(received.packet_count(), 1u);
    EXPECT_EQ(received.malformed(), 0u);
    EXPECT_EQ(received.end() - received.begin(), 1);
    EXPECT_EQ(state.counters().malformed, 0u);
    // Its events and the rest are counted when the group's next datagram comes.
    const auto next = accept(state, packet_with_seq(7, 3), packet_with_seq(7, 3).size());
    EXPECT_EQ(next.lost_before(), 2u);
}

TEST(receive_state, a_cut_inside_a_message_header_is_no_malformed_message)
{
    const auto first = packet_with_seq(7, 0);
    detail::receive_state state(first.size() + 10, {7}, {});
    const auto datagram = concat({first, packet_with_seq(7, 1)});
    auto received = accept(state, datagram, datagram.size());
    EXPECT_TRUE(received.truncated());
    EXPECT_EQ(received.bytes().size(), first.size());
    EXPECT_EQ(received.end() - received.begin(), 1);
    EXPECT_EQ(state.counters().malformed, 0u);
}

TEST(receive_state, bad_framing_before_the_cut_is_still_malformed)
{
    auto broken = packet_with_seq(7, 1);
    // A length shorter than a netlink header: no cut, bad bytes.
    broken[0] = std::byte{8};
    broken[1] = broken[2] = broken[3] = std::byte{0};
    const auto datagram = concat({packet_with_seq(7, 0), broken, packet_with_seq(7, 2)});
    detail::receive_state state(datagram.size() - 10, {7}, {});
    auto received = accept(state, datagram, datagram.size());
    EXPECT_TRUE(received.truncated());
    ASSERT_EQ(received.end() - received.begin(), 2);
    EXPECT_EQ(received.begin()[1].error(), errc::bad_message_length);
    EXPECT_EQ(state.counters().malformed, 1u);
}

} // namespace
