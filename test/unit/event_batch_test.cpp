#include <nflog/event_batch.hpp>

#include "support/counting_allocator.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace nflog;
using nflog::test::allocation_scope;

/// Writes events whose `group` numbers them.
event_batch write(detail::event_batch_writer& writer, std::uint16_t first, std::size_t count, source_id source)
{
    for (std::size_t i = 0; i < count; ++i) {
        writer.slot().group = static_cast<std::uint16_t>(first + i);
        writer.commit();
    }
    return writer.finish(source);
}

TEST(event_batch, a_default_batch_is_empty_and_tells_its_source)
{
    const event_batch nothing;
    EXPECT_TRUE(nothing.empty());
    EXPECT_EQ(nothing.size(), 0u);
    EXPECT_EQ(nothing.begin(), nothing.end());
    EXPECT_EQ(nothing.source(), 0u);
    EXPECT_EQ(event_batch(9).source(), 9u);
    EXPECT_TRUE(event_batch(9).events().empty());
}

TEST(event_batch, holds_what_was_written_in_order)
{
    detail::event_batch_writer writer;
    const auto batch = write(writer, 100, 3, 4);
    ASSERT_EQ(batch.size(), 3u);
    EXPECT_EQ(batch.source(), 4u);
    std::vector<std::uint16_t> groups;
    for (const auto& item : batch)
        groups.push_back(item.group);
    EXPECT_EQ(groups, (std::vector<std::uint16_t>{100, 101, 102}));
    EXPECT_EQ(batch.front().group, 100);
    EXPECT_EQ(batch.back().group, 102);
    EXPECT_EQ(batch[1].group, 101);
    EXPECT_EQ(batch.events().size(), 3u);
    EXPECT_EQ(writer.size(), 0u) << "the writer starts over after finish";
}

TEST(event_batch, an_uncommitted_slot_is_not_part_of_the_batch)
{
    detail::event_batch_writer writer;
    writer.slot().group = 1;
    writer.commit();
    writer.slot().group = 2;
    const auto batch = writer.finish(0);
    ASSERT_EQ(batch.size(), 1u);
    EXPECT_EQ(batch[0].group, 1);
}

TEST(event_batch, a_writer_is_full_at_max_size)
{
    detail::event_batch_writer writer;
    for (std::size_t i = 0; i + 1 < event_batch::max_size; ++i) {
        writer.slot();
        writer.commit();
    }
    EXPECT_FALSE(writer.full());
    writer.slot();
    writer.commit();
    EXPECT_TRUE(writer.full());
    EXPECT_EQ(writer.finish(0).size(), event_batch::max_size);
}

TEST(event_batch, copies_share_the_events_and_the_last_one_returns_them)
{
    detail::event_batch_writer writer;
    std::optional<event_batch> copy;
    {
        const auto batch = write(writer, 7, 2, 1);
        copy = batch;
        EXPECT_EQ(copy->begin(), batch.begin()) << "a copy refers to the same events";
    }
    // The original is gone; the copy still reads its events.
    ASSERT_EQ(copy->size(), 2u);
    EXPECT_EQ((*copy)[1].group, 8);
    EXPECT_EQ(writer.pool().allocated(), 1u);
    // Still in use: a new batch needs a second block.
    const auto second = write(writer, 0, 1, 1);
    EXPECT_EQ(writer.pool().allocated(), 2u);
    copy.reset();
    // The first block is free again: batches dropped right away reuse it.
    for (int i = 0; i < 3; ++i)
        EXPECT_EQ(write(writer, 0, 1, 1).size(), 1u);
    EXPECT_EQ(writer.pool().allocated(), 2u);
}

TEST(event_batch, moving_and_assigning_keep_the_count_of_references_right)
{
    detail::event_batch_writer writer;
    auto batch = write(writer, 5, 1, 2);
    auto moved = std::move(batch);
    EXPECT_TRUE(batch.empty()); // NOLINT(bugprone-use-after-move): a moved-from batch is empty
    ASSERT_EQ(moved.size(), 1u);
    event_batch assigned(3);
    assigned = moved;
    EXPECT_EQ(assigned.source(), 2u);
    const auto& same = assigned;
    assigned = same;
    EXPECT_EQ(assigned[0].group, 5);
    moved = event_batch(6);
    EXPECT_TRUE(moved.empty());
    EXPECT_EQ(moved.source(), 6u);
    EXPECT_EQ(assigned[0].group, 5);
    assigned = {};
    // Nothing refers to the block any more: the next batch reuses it.
    write(writer, 0, 1, 0);
    EXPECT_EQ(writer.pool().allocated(), 1u);
}

TEST(event_batch, a_batch_outlives_its_writer)
{
    event_batch kept;
    {
        detail::event_batch_writer writer;
        kept = write(writer, 30, 2, 1);
    }
    ASSERT_EQ(kept.size(), 2u);
    EXPECT_EQ(kept[0].group, 30);
    EXPECT_EQ(kept[1].group, 31);
}

TEST(event_batch, copies_may_be_dropped_on_other_threads)
{
    detail::event_batch_writer writer;
    for (int round = 0; round < 50; ++round) {
        const auto batch = write(writer, 0, 4, 0);
        std::vector<event_batch> copies(8, batch);
        std::thread first([moved = std::vector<event_batch>(copies.begin(), copies.begin() + 4)]() mutable {
            moved.clear();
        });
        std::thread second([moved = std::vector<event_batch>(copies.begin() + 4, copies.end())]() mutable {
            moved.clear();
        });
        copies.clear();
        first.join();
        second.join();
    }
    EXPECT_EQ(writer.pool().allocated(), 1u) << "every block came back";
}

TEST(event_batch, the_steady_state_allocates_nothing)
{
    detail::event_batch_writer writer;
    // Warm up: as many blocks in use at once as the loop below holds.
    {
        const auto a = write(writer, 0, 1, 0);
        const auto b = write(writer, 0, 1, 0);
    }
    allocation_scope scope;
    for (int round = 0; round < 1000; ++round) {
        const auto a = write(writer, 0, event_batch::max_size, 0);
        const auto copy = a;
        const auto b = write(writer, 0, 3, 0);
    }
    EXPECT_EQ(scope.count(), 0u);
    EXPECT_EQ(writer.pool().allocated(), 2u);
}

// The free list reserves a place for each new block before the block is
// made; when that fails, no block exists and none is counted.
TEST(event_batch, a_block_whose_place_could_not_be_reserved_is_not_counted)
{
    detail::event_batch_writer writer;
    {
        nflog::test::failing_allocations fail(sizeof(std::unique_ptr<detail::event_block>));
        EXPECT_THROW(writer.slot(), std::bad_alloc);
        EXPECT_EQ(fail.failed(), 1u);
    }
    EXPECT_EQ(writer.pool().allocated(), 0u);
    const auto batch = write(writer, 0, 1, 0);
    EXPECT_EQ(batch.size(), 1u);
    EXPECT_EQ(writer.pool().allocated(), 1u);
}

TEST(event_batch, clearing_a_writer_gives_its_block_back)
{
    detail::event_batch_writer writer;
    writer.slot();
    writer.commit();
    writer.clear();
    EXPECT_EQ(writer.size(), 0u);
    const auto a = write(writer, 0, 1, 0);
    EXPECT_EQ(writer.pool().allocated(), 1u);
}

} // namespace
