#include <nflog/detail/buffer_pool.hpp>

#include <gtest/gtest.h>

#include <memory>

namespace {

using nflog::detail::buffer_pool;

TEST(buffer_pool, a_returned_buffer_is_handed_out_again)
{
    const auto pool = std::make_shared<buffer_pool>(4096);
    const auto* first = pool->acquire().bytes().data();
    const auto again = pool->acquire();
    EXPECT_EQ(again.bytes().data(), first);
    EXPECT_EQ(again.bytes().size(), 4096u);
    EXPECT_EQ(pool->allocated(), 1u);
}

TEST(buffer_pool, growing_gives_larger_buffers_and_lets_leased_ones_keep_their_size)
{
    const auto pool = std::make_shared<buffer_pool>(4096);
    auto small = pool->acquire();
    { auto spare = pool->acquire(); } // one small buffer waits in the pool
    ASSERT_EQ(pool->allocated(), 2u);

    pool->grow(16384);
    EXPECT_EQ(pool->buffer_size(), 16384u);
    EXPECT_EQ(pool->allocated(), 1u) << "the waiting small buffer is freed";
    EXPECT_EQ(small.bytes().size(), 4096u) << "a leased buffer keeps its size";
    const auto large = pool->acquire();
    EXPECT_EQ(large.bytes().size(), 16384u);
    EXPECT_EQ(pool->allocated(), 2u);

    small = {};
    EXPECT_EQ(pool->allocated(), 1u) << "a small buffer that comes back is freed, not handed out again";
    EXPECT_EQ(pool->acquire().bytes().size(), 16384u);
}

TEST(buffer_pool, spare_buffers_are_freed_and_leased_ones_come_back_as_before)
{
    const auto pool = std::make_shared<buffer_pool>(4096);
    auto held = pool->acquire();
    {
        auto second = pool->acquire();
        auto third = pool->acquire();
    }
    ASSERT_EQ(pool->allocated(), 3u);
    EXPECT_EQ(pool->release_spare(), 2u);
    EXPECT_EQ(pool->allocated(), 1u);
    EXPECT_EQ(pool->release_spare(), 0u);
    const auto* kept = held.bytes().data();
    held = {};
    EXPECT_EQ(pool->allocated(), 1u) << "a leased buffer comes back to the pool";
    EXPECT_EQ(pool->acquire().bytes().data(), kept);
}

TEST(buffer_pool, growing_to_a_size_it_has_changes_nothing)
{
    const auto pool = std::make_shared<buffer_pool>(8192);
    { auto spare = pool->acquire(); }
    pool->grow(4096);
    pool->grow(8192);
    EXPECT_EQ(pool->buffer_size(), 8192u);
    EXPECT_EQ(pool->allocated(), 1u);
}

} // namespace
