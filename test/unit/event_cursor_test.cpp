#include <nflog/detail/event_cursor.hpp>

#include "support/datagram_receiver.hpp"
#include "support/logged_udp.hpp"
#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"

#include <gtest/gtest.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <netinet/in.h>

#include <chrono>
#include <cstring>
#include <string>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace nflog::test::packets;
using namespace std::chrono_literals;
using boost::system::error_code;

const auto arrival = std::chrono::system_clock::time_point(1'650'000'000s);

struct message {
    error_code error;
    event value;
};

std::vector<message> drain(detail::event_cursor& cursor)
{
    std::vector<message> out;
    message next;
    for (int guard = 0; guard < 100 && cursor.next(next.error, next.value); ++guard)
        out.push_back(next);
    return out;
}

TEST(event_cursor, an_empty_cursor_yields_nothing)
{
    detail::event_cursor cursor;
    error_code error;
    event value;
    EXPECT_FALSE(cursor.next(error, value));
    EXPECT_EQ(cursor.remaining(), 0u);
}

TEST(event_cursor, yields_one_event_per_packet_in_order)
{
    datagram_receiver socket(65536);
    detail::event_cursor cursor;
    cursor.reset(socket.receive(concat({logged_udp(0, "DENIED a"), logged_udp(1, "DENIED b"), done_message()})),
                 arrival, 3);
    EXPECT_EQ(cursor.remaining(), 2u);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 2u);
    for (const auto& [error, value] : messages) {
        EXPECT_FALSE(error);
        EXPECT_EQ(value.source, 3u);
        EXPECT_EQ(value.group, 41);
        EXPECT_EQ(value.time_source, timestamp_source::local);
        EXPECT_EQ(value.timestamp, arrival);
        EXPECT_EQ(value.flow.dst_port, 9);
        EXPECT_EQ(value.lost_before, 0u);
    }
    EXPECT_EQ(messages[0].value.prefix(), "DENIED a");
    EXPECT_EQ(messages[1].value.prefix(), "DENIED b");
    EXPECT_EQ(cursor.remaining(), 0u);
}

TEST(event_cursor, a_malformed_message_is_reported_in_its_place)
{
    datagram_receiver socket(65536);
    detail::event_cursor cursor;
    cursor.reset(socket.receive(concat({logged_udp(0, "first"), headerless_packet(41), logged_udp(1, "last")})),
                 arrival, 8);
    EXPECT_EQ(cursor.remaining(), 3u);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 3u);
    EXPECT_FALSE(messages[0].error);
    EXPECT_EQ(messages[0].value.prefix(), "first");
    EXPECT_EQ(messages[1].error, errc::missing_packet_header);
    EXPECT_EQ(messages[1].error, condition::malformed);
    EXPECT_EQ(messages[1].value.source, 8u);
    EXPECT_EQ(messages[1].value.timestamp, arrival);
    EXPECT_EQ(messages[1].value.group, 0);
    EXPECT_EQ(messages[1].value.prefix(), "");
    EXPECT_FALSE(messages[2].error);
    EXPECT_EQ(messages[2].value.prefix(), "last");
}

TEST(event_cursor, the_loss_before_a_batch_goes_on_its_first_event_only)
{
    datagram_receiver socket(65536);
    detail::event_cursor cursor;
    cursor.reset(socket.receive(logged_udp(0, "a")), arrival, 0);
    ASSERT_EQ(drain(cursor).size(), 1u);
    // Sequence numbers 1..4 never arrived.
    cursor.reset(socket.receive(concat({logged_udp(5, "b"), logged_udp(6, "c")})), arrival, 0);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_EQ(messages[0].value.lost_before, 4u);
    EXPECT_EQ(messages[1].value.lost_before, 0u);
}

TEST(event_cursor, a_truncated_datagram_ends_with_a_truncation_report)
{
    const auto datagram = concat({logged_udp(0, "whole"), logged_udp(1, "cut")});
    // Room for the first message and half of the second.
    datagram_receiver socket(logged_udp(0, "whole").size() + 20);
    detail::event_cursor cursor;
    cursor.reset(socket.receive(datagram), arrival, 2);
    // One report for the cut: the message it fell in is not malformed.
    EXPECT_EQ(cursor.remaining(), 2u);
    const auto messages = drain(cursor);
    ASSERT_EQ(messages.size(), 2u);
    EXPECT_FALSE(messages[0].error);
    EXPECT_EQ(messages[0].value.prefix(), "whole");
    EXPECT_EQ(messages[1].error, errc::datagram_truncated);
    EXPECT_EQ(messages[1].error, condition::overrun);
    EXPECT_EQ(messages[1].value.source, 2u);
}

TEST(event_cursor, clear_drops_what_was_not_taken)
{
    datagram_receiver socket(65536);
    detail::event_cursor cursor;
    cursor.reset(socket.receive(concat({logged_udp(0, "a"), logged_udp(1, "b")})), arrival, 0);
    error_code error;
    event value;
    ASSERT_TRUE(cursor.next(error, value));
    EXPECT_EQ(cursor.remaining(), 1u);
    cursor.clear();
    EXPECT_EQ(cursor.remaining(), 0u);
    EXPECT_FALSE(cursor.next(error, value));
}

TEST(event_cursor, a_report_names_only_its_source_and_time)
{
    const auto report = detail::event_cursor::report(12, arrival);
    EXPECT_EQ(report.source, 12u);
    EXPECT_EQ(report.timestamp, arrival);
    EXPECT_EQ(report.time_source, timestamp_source::local);
    EXPECT_EQ(report.group, 0);
    EXPECT_EQ(report.prefix(), "");
    EXPECT_EQ(report.action, "nflog");
}

} // namespace
