#include <nflog/detail/batch_cursor.hpp>

#include "support/counting_allocator.hpp"
#include "support/datagram_receiver.hpp"
#include "support/logged_udp.hpp"
#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;
using boost::system::error_code;

const auto arrival = std::chrono::system_clock::time_point(1'650'000'000s);

struct message {
    error_code error;
    event_batch batch;
};

std::vector<message> drain(detail::batch_cursor& cursor)
{
    std::vector<message> out;
    message next;
    for (int guard = 0; guard < 100 && cursor.next(next.error, next.batch); ++guard)
        out.push_back(next);
    return out;
}

std::vector<std::uint32_t> sequence_numbers(const event_batch& batch)
{
    std::vector<std::uint32_t> out;
    for (const auto& item : batch)
        out.push_back(item.seq.value_or(9999));
    return out;
}

std::vector<std::uint32_t> count_from(std::uint32_t first, std::uint32_t count)
{
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < count; ++i)
        out.push_back(first + i);
    return out;
}

TEST(batch_cursor, an_empty_cursor_yields_nothing)
{
    detail::batch_cursor cursor;
    error_code error;
    event_batch batch;
    allocation_scope scope;
    EXPECT_FALSE(cursor.next(error, batch));
    EXPECT_EQ(scope.count(), 0u) << "a cursor with nothing to give took a block of events";
    EXPECT_EQ(cursor.remaining(), 0u);
}

TEST(batch_cursor, the_events_of_a_datagram_come_in_one_batch)
{
    datagram_receiver socket(1 << 20);
    detail::batch_cursor cursor;
    cursor.reset(socket.receive(concat({logged_udps(0, 5), done_message()})), arrival, 3);
    EXPECT_EQ(cursor.remaining(), 5u);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 1u);
    EXPECT_FALSE(messages[0].error);
    EXPECT_EQ(messages[0].batch.source(), 3u);
    EXPECT_EQ(sequence_numbers(messages[0].batch), count_from(0, 5));
    for (const auto& item : messages[0].batch) {
        EXPECT_EQ(item.source, 3u);
        EXPECT_EQ(item.timestamp, arrival);
        EXPECT_EQ(item.prefix(), "DENIED udp");
        EXPECT_EQ(item.flow.dst_port, 9);
    }
    EXPECT_EQ(cursor.remaining(), 0u);
}

TEST(batch_cursor, a_long_datagram_is_split_at_max_size)
{
    datagram_receiver socket(1 << 20);
    detail::batch_cursor cursor;
    const std::uint32_t count = 2 * event_batch::max_size + 3;
    cursor.reset(socket.receive(logged_udps(0, count)), arrival, 0);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_EQ(sequence_numbers(messages[0].batch), count_from(0, event_batch::max_size));
    EXPECT_EQ(sequence_numbers(messages[1].batch), count_from(event_batch::max_size, event_batch::max_size));
    EXPECT_EQ(sequence_numbers(messages[2].batch), count_from(2 * event_batch::max_size, 3));
    for (const auto& [error, batch] : messages)
        EXPECT_FALSE(error);
}

// The first batch holds its block; the second cannot be made. The event it
// was for stays with the cursor, and comes once memory is there again.
TEST(batch_cursor, a_block_that_cannot_be_made_leaves_the_rest_for_the_next_call)
{
    datagram_receiver socket(1 << 20);
    detail::batch_cursor cursor;
    const std::uint32_t count = event_batch::max_size + 1;
    cursor.reset(socket.receive(logged_udps(0, count)), arrival, 0);
    error_code error;
    event_batch first;
    ASSERT_TRUE(cursor.next(error, first));
    EXPECT_EQ(first.size(), event_batch::max_size);
    {
        failing_allocations no_blocks(sizeof(detail::event_block));
        event_batch second;
        EXPECT_THROW(cursor.next(error, second), std::bad_alloc);
        EXPECT_EQ(no_blocks.failed(), 1u);
    }
    EXPECT_EQ(cursor.remaining(), 1u);
    event_batch rest;
    ASSERT_TRUE(cursor.next(error, rest));
    EXPECT_FALSE(error);
    EXPECT_EQ(sequence_numbers(rest), count_from(event_batch::max_size, 1));
    EXPECT_FALSE(cursor.next(error, rest));
}

TEST(batch_cursor, a_malformed_message_ends_the_batch_before_it_and_is_reported_alone)
{
    datagram_receiver socket(1 << 20);
    detail::batch_cursor cursor;
    cursor.reset(
        socket.receive(concat({logged_udps(0, 2), headerless_packet(), headerless_packet(), logged_udps(2, 3)})),
        arrival, 8);
    EXPECT_EQ(cursor.remaining(), 7u);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 4u);
    EXPECT_FALSE(messages[0].error);
    EXPECT_EQ(sequence_numbers(messages[0].batch), count_from(0, 2));
    for (int report : {1, 2}) {
        EXPECT_EQ(messages[report].error, errc::missing_packet_header);
        EXPECT_TRUE(messages[report].batch.empty());
        EXPECT_EQ(messages[report].batch.source(), 8u);
    }
    EXPECT_FALSE(messages[3].error);
    EXPECT_EQ(sequence_numbers(messages[3].batch), count_from(2, 3));
}

TEST(batch_cursor, a_truncated_datagram_ends_with_a_truncation_report)
{
    const auto datagram = logged_udps(0, 3);
    // Room for two messages and half of the third.
    datagram_receiver socket(2 * logged_udp(0).size() + 20);
    detail::batch_cursor cursor;
    cursor.reset(socket.receive(datagram), arrival, 2);
    const auto messages = drain(cursor);
    // One report for the cut: the message it fell in is not malformed.
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_FALSE(messages[0].error);
    EXPECT_EQ(sequence_numbers(messages[0].batch), count_from(0, 2));
    EXPECT_EQ(messages[1].error, errc::datagram_truncated);
    EXPECT_TRUE(messages[1].batch.empty());
    EXPECT_EQ(messages[1].batch.source(), 2u);
}

TEST(batch_cursor, the_loss_before_a_datagram_goes_on_its_first_event_only)
{
    datagram_receiver socket(1 << 20);
    detail::batch_cursor cursor;
    cursor.reset(socket.receive(logged_udp(0)), arrival, 0);
    ASSERT_EQ(drain(cursor).size(), 1u);
    // Sequence numbers 1..4 never arrived.
    cursor.reset(socket.receive(logged_udps(5, 2)), arrival, 0);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 1u);
    ASSERT_EQ(messages[0].batch.size(), 2u);
    EXPECT_EQ(messages[0].batch[0].lost_before, 4u);
    EXPECT_EQ(messages[0].batch[1].lost_before, 0u);
}

TEST(batch_cursor, remaining_counts_events_and_reports_not_taken)
{
    datagram_receiver socket(1 << 20);
    detail::batch_cursor cursor;
    cursor.reset(socket.receive(concat({logged_udps(0, 2), headerless_packet(), logged_udps(2, 1)})), arrival, 0);
    error_code error;
    event_batch batch;
    ASSERT_TRUE(cursor.next(error, batch));
    EXPECT_EQ(batch.size(), 2u);
    // The report is held, the last event not read yet.
    EXPECT_EQ(cursor.remaining(), 2u);
    cursor.clear();
    EXPECT_EQ(cursor.remaining(), 0u);
    EXPECT_FALSE(cursor.next(error, batch));
}

TEST(batch_cursor, a_report_batch_is_empty_with_its_source)
{
    const auto report = detail::batch_cursor::report(12, arrival);
    EXPECT_TRUE(report.empty());
    EXPECT_EQ(report.source(), 12u);
}

TEST(batch_cursor, the_steady_state_allocates_nothing)
{
    datagram_receiver socket(1 << 20);
    detail::batch_cursor cursor;
    const auto datagram = logged_udps(0, 100);
    const auto one_round = [&] {
        cursor.reset(socket.receive(datagram), arrival, 0);
        error_code error;
        event_batch batch;
        std::size_t events = 0;
        while (cursor.next(error, batch))
            events += batch.size();
        return events;
    };
    // Warm up: a receive buffer is taken while the cursor still holds the
    // previous one, and a block while the last batch still holds its own.
    EXPECT_EQ(one_round(), 100u);
    EXPECT_EQ(one_round(), 100u);
    allocation_scope scope;
    std::size_t events = 0;
    for (int round = 0; round < 50; ++round)
        events += one_round();
    EXPECT_EQ(scope.count(), 0u);
    EXPECT_EQ(events, 5000u);
}

} // namespace
