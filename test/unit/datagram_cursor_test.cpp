#include <nflog/detail/datagram_cursor.hpp>

#include "support/datagram_receiver.hpp"
#include "support/logged_udp.hpp"
#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <ranges>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;
using boost::system::error_code;

const auto arrival = std::chrono::system_clock::time_point(1'650'000'000s);

TEST(datagram_cursor, an_empty_cursor_yields_nothing)
{
    detail::datagram_cursor cursor;
    error_code error;
    batch out;
    EXPECT_FALSE(cursor.next(error, out));
    EXPECT_EQ(cursor.remaining(), 0u);
}

TEST(datagram_cursor, yields_the_datagram_once_marked_with_its_source)
{
    datagram_receiver socket(65536);
    detail::datagram_cursor cursor;
    cursor.reset(socket.receive(concat({logged_udp(0), logged_udp(1), done_message()})), arrival, 4);
    EXPECT_EQ(cursor.remaining(), 2u);
    error_code error = make_error_code(errc::kernel_overrun);
    batch out;
    ASSERT_TRUE(cursor.next(error, out));
    EXPECT_FALSE(error);
    EXPECT_EQ(out.source(), 4u);
    EXPECT_EQ(out.packet_count(), 2u);
    EXPECT_EQ(out.begin()[1].value().seq(), 1u);
    EXPECT_EQ(cursor.remaining(), 0u);
    EXPECT_FALSE(cursor.next(error, out));
}

TEST(datagram_cursor, malformed_messages_and_truncation_travel_inside_the_batch)
{
    const auto datagram = concat({logged_udp(0), headerless_packet(), logged_udp(1), logged_udp(2)});
    // Room for everything but half of the last message.
    datagram_receiver socket(datagram.size() - 20);
    detail::datagram_cursor cursor;
    cursor.reset(socket.receive(datagram), arrival, 0);
    // Two packets, one malformed message, the truncation; the message the
    // cut fell in is no element.
    EXPECT_EQ(cursor.remaining(), 4u);
    error_code error;
    batch out;
    ASSERT_TRUE(cursor.next(error, out));
    EXPECT_FALSE(error);
    EXPECT_TRUE(out.truncated());
    EXPECT_EQ(out.packet_count(), 2u);
    EXPECT_EQ(out.malformed(), 1u);
    ASSERT_EQ(out.end() - out.begin(), 3);
    // As a range its size is its element count, not its packet count.
    static_assert(std::ranges::sized_range<batch>);
    EXPECT_EQ(std::ranges::size(out), 3u);
    EXPECT_FALSE(std::ranges::empty(out));
    EXPECT_EQ(out.begin()[1].error(), errc::missing_packet_header);
    EXPECT_EQ(out.bytes().size(), datagram.size() - logged_udp(2).size());
}

TEST(datagram_cursor, a_datagram_without_packets_is_not_sent)
{
    datagram_receiver socket(65536);
    detail::datagram_cursor cursor;
    cursor.reset(socket.receive(concat({noop_message(), done_message()})), arrival, 0);
    error_code error;
    batch out;
    EXPECT_FALSE(cursor.next(error, out));
    EXPECT_EQ(cursor.remaining(), 0u);
}

TEST(datagram_cursor, an_error_answer_alone_is_sent_as_an_element)
{
    datagram_receiver socket(65536);
    detail::datagram_cursor cursor;
    cursor.reset(socket.receive(error_message(EPERM)), arrival, 0);
    // A report like any other: a closing watcher counts it as discarded.
    EXPECT_EQ(cursor.remaining(), 1u);
    error_code error;
    batch out;
    ASSERT_TRUE(cursor.next(error, out));
    ASSERT_EQ(out.end() - out.begin(), 1);
    EXPECT_EQ(out.begin()->error(), std::errc::operation_not_permitted);
}

TEST(datagram_cursor, clear_drops_what_was_not_taken)
{
    datagram_receiver socket(65536);
    detail::datagram_cursor cursor;
    cursor.reset(socket.receive(logged_udp(0)), arrival, 0);
    cursor.clear();
    EXPECT_EQ(cursor.remaining(), 0u);
    error_code error;
    batch out;
    EXPECT_FALSE(cursor.next(error, out));
}

TEST(datagram_cursor, a_report_is_an_empty_batch_with_its_source)
{
    const auto report = detail::datagram_cursor::report(12, arrival);
    EXPECT_EQ(report.begin(), report.end());
    EXPECT_EQ(report.source(), 12u);
    EXPECT_FALSE(report.truncated());
}

} // namespace
