#include <nflog/batch.hpp>

#include "support/counting_allocator.hpp"
#include "support/logged_udp.hpp"
#include "support/message_builder.hpp"

#include <nflog/detail/buffer_pool.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;

class batch_test : public ::testing::Test {
protected:
    batch make(const bytes& datagram)
    {
        auto lease = pool->acquire();
        std::memcpy(lease.bytes().data(), datagram.data(), datagram.size());
        return batch(std::move(lease), datagram.size());
    }

    std::shared_ptr<detail::buffer_pool> pool = std::make_shared<detail::buffer_pool>(65536);
};

TEST_F(batch_test, a_default_batch_has_no_elements)
{
    const batch nothing;
    EXPECT_EQ(nothing.begin(), nothing.end());
    EXPECT_TRUE(nothing.bytes().empty());
}

TEST_F(batch_test, a_length_beyond_its_buffer_stops_at_the_buffer)
{
    auto small = std::make_shared<detail::buffer_pool>(64);
    auto lease = small->acquire();
    const auto capacity = lease.bytes().size();
    std::memset(lease.bytes().data(), 0, capacity);
    const batch beyond(std::move(lease), capacity + 4096);
    EXPECT_EQ(beyond.bytes().size(), capacity);
}

TEST_F(batch_test, its_elements_are_the_walk_of_its_datagram)
{
    // A packet, a malformed packet, an error answer, a packet, then the end.
    const auto datagram =
        concat({logged_udp(0, "first"), headerless_packet(), error_message(EPERM), logged_udp(0, "last"), done_message()});
    const auto received = make(datagram);
    std::vector<result<packet_view>> walked(received.packets().begin(), received.packets().end());
    ASSERT_EQ(static_cast<std::size_t>(received.end() - received.begin()), walked.size());
    ASSERT_EQ(walked.size(), 4u);
    const auto* element = received.begin();
    for (const auto& expected : walked) {
        ASSERT_EQ(element->has_value(), expected.has_value());
        if (expected)
            EXPECT_EQ(element->value().message().data(), expected.value().message().data());
        else
            EXPECT_EQ(element->error(), expected.error());
        ++element;
    }
    EXPECT_EQ(received.begin()[0].value().prefix(), "first");
    EXPECT_EQ(received.begin()[1].error(), errc::missing_packet_header);
    EXPECT_EQ(received.begin()[2].error(), std::errc::operation_not_permitted);
    EXPECT_EQ(received.begin()[3].value().prefix(), "last");
}

TEST_F(batch_test, a_framing_error_is_the_last_element)
{
    auto datagram = concat({logged_udp(0, "whole"), logged_udp(0, "cut")});
    datagram.resize(datagram.size() - 10);
    const auto received = make(datagram);
    ASSERT_EQ(received.end() - received.begin(), 2);
    EXPECT_EQ(received.begin()[0].value().prefix(), "whole");
    EXPECT_EQ(received.begin()[1].error(), errc::bad_message_length);
}

TEST_F(batch_test, iterating_again_reads_the_same_elements)
{
    const auto received = make(concat({logged_udp(0, "a"), logged_udp(0, "b")}));
    const auto* first = &*received.begin();
    std::size_t count = 0;
    for (int pass = 0; pass < 3; ++pass) {
        EXPECT_EQ(&*received.begin(), first);
        for (const auto& item : received)
            count += item.has_value();
    }
    EXPECT_EQ(count, 6u);
}

TEST_F(batch_test, a_moved_batch_keeps_its_views_valid)
{
    auto received = make(concat({logged_udp(0, "moved")}));
    const auto* data = received.bytes().data();
    const batch moved = std::move(received);
    ASSERT_EQ(moved.end() - moved.begin(), 1);
    EXPECT_EQ(moved.bytes().data(), data);
    EXPECT_EQ(moved.begin()->value().prefix(), "moved");
}

TEST_F(batch_test, a_reused_buffer_parses_without_allocating)
{
    const auto large = concat({logged_udp(0, "a"), logged_udp(0, "b"), logged_udp(0, "c"), logged_udp(0, "d")});
    const auto small = concat({logged_udp(0, "e"), logged_udp(0, "f")});
    // The buffer and its element vector grow to the largest datagram once.
    make(large);
    allocation_scope scope;
    for (int round = 0; round < 100; ++round) {
        EXPECT_EQ(make(round % 2 == 0 ? small : large).begin()->value().group(), 41);
    }
    EXPECT_EQ(scope.count(), 0u);
    EXPECT_EQ(pool->allocated(), 1u);
}

TEST_F(batch_test, a_reused_buffer_shows_only_the_new_datagrams_elements)
{
    // Slots left by a longer datagram, one of them an error, are refilled
    // or left behind, never shown.
    make(concat({headerless_packet(), logged_udp(0, "old 2"), logged_udp(0, "old 3")}));
    const auto received = make(concat({logged_udp(0, "new"), headerless_packet()}));
    ASSERT_EQ(pool->allocated(), 1u);
    ASSERT_EQ(received.end() - received.begin(), 2);
    EXPECT_EQ(received.begin()[0].value().prefix(), "new");
    EXPECT_EQ(received.begin()[1].error(), errc::missing_packet_header);

    const auto empty = make(done_message());
    EXPECT_EQ(empty.begin(), empty.end());
}

TEST_F(batch_test, each_element_is_shown_to_the_inspector_in_order_as_it_is_parsed)
{
    const auto datagram = concat({logged_udp(0, "one"), headerless_packet(), logged_udp(0, "two"), done_message()});
    auto lease = pool->acquire();
    std::memcpy(lease.bytes().data(), datagram.data(), datagram.size());
    // Copies: a slot may move while the vector grows.
    std::vector<result<packet_view>> shown;
    detail::packet_layout layout;
    const batch received(std::move(lease), datagram.size(), layout,
                         [&](const result<packet_view>& element) { shown.push_back(element); });
    ASSERT_EQ(shown.size(), 3u);
    ASSERT_EQ(received.end() - received.begin(), 3);
    EXPECT_EQ(shown[0].value().message().data(), received.begin()[0].value().message().data());
    EXPECT_EQ(shown[0].value().prefix(), "one");
    EXPECT_EQ(shown[1].error(), errc::missing_packet_header);
    EXPECT_EQ(shown[2].value().message().data(), received.begin()[2].value().message().data());
    EXPECT_EQ(shown[2].value().prefix(), "two");
}

TEST_F(batch_test, copies_share_the_buffer_and_the_last_one_gives_it_back)
{
    std::optional<batch> copy;
    {
        const auto received = make(concat({logged_udp(0, "shared")}));
        copy = received;
        EXPECT_EQ(copy->bytes().data(), received.bytes().data());
        EXPECT_EQ(copy->begin(), received.begin()) << "a copy reads the same elements";
    }
    ASSERT_EQ(copy->end() - copy->begin(), 1);
    EXPECT_EQ(copy->begin()->value().prefix(), "shared");
    // Still in use: the next datagram needs a second buffer.
    make(concat({logged_udp(0, "other")}));
    EXPECT_EQ(pool->allocated(), 2u);
    copy.reset();
    for (int i = 0; i < 3; ++i)
        make(concat({logged_udp(0, "again")}));
    EXPECT_EQ(pool->allocated(), 2u);
}

TEST_F(batch_test, assigning_copies_keeps_the_buffer_alive_exactly_as_long_as_needed)
{
    auto first = make(concat({logged_udp(0, "first")}));
    auto second = make(concat({logged_udp(0, "second")}));
    second = first;
    EXPECT_EQ(second.begin()->value().prefix(), "first");
    const auto& same = second;
    second = same;
    EXPECT_EQ(second.begin()->value().prefix(), "first");
    first = batch{};
    EXPECT_EQ(first.begin(), first.end());
    EXPECT_TRUE(first.bytes().empty());
    EXPECT_EQ(second.begin()->value().prefix(), "first");
    second = batch{};
    // Both buffers are free again.
    const auto a = make(concat({logged_udp(0, "a")}));
    const auto b = make(concat({logged_udp(0, "b")}));
    EXPECT_EQ(pool->allocated(), 2u);
}

TEST_F(batch_test, copies_may_be_dropped_on_other_threads)
{
    for (int round = 0; round < 50; ++round) {
        const auto received = make(concat({logged_udp(0, "threads")}));
        std::vector<batch> copies(8, received);
        std::thread first([moved = std::vector<batch>(copies.begin(), copies.begin() + 4)]() mutable { moved.clear(); });
        std::thread second([moved = std::vector<batch>(copies.begin() + 4, copies.end())]() mutable { moved.clear(); });
        copies.clear();
        first.join();
        second.join();
    }
    EXPECT_EQ(pool->allocated(), 1u) << "every buffer came back";
}

TEST_F(batch_test, a_batch_outlives_its_pool_owner)
{
    auto received = make(concat({logged_udp(0, "kept")}));
    pool.reset();
    ASSERT_EQ(received.end() - received.begin(), 1);
    EXPECT_EQ(received.begin()->value().prefix(), "kept");
}

TEST_F(batch_test, the_source_is_the_watchers_to_set)
{
    auto received = make(concat({logged_udp(0, "a")}));
    EXPECT_EQ(received.source(), 0u);
    received.set_source(9);
    const auto copy = received;
    EXPECT_EQ(copy.source(), 9u);
}

} // namespace
