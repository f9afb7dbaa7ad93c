#include <nflog/detail/recycling_queue.hpp>

#include "support/counting_allocator.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>

namespace {

using nflog::detail::recycling_queue;
using nflog::test::allocation_scope;

TEST(recycling_queue, is_first_in_first_out_across_wrap_and_growth)
{
    recycling_queue<int> queue;
    int next_in = 0;
    int next_out = 0;
    // Interleave so that the ring wraps before it grows, and grows while wrapped.
    for (int round = 0; round < 50; ++round) {
        for (int i = 0; i < round % 7 + 3; ++i)
            queue.push_back(next_in++);
        for (int i = 0; i < round % 5 + 1 && !queue.empty(); ++i) {
            EXPECT_EQ(queue.front(), next_out++);
            queue.pop_front();
        }
    }
    EXPECT_EQ(queue.size(), static_cast<std::size_t>(next_in - next_out));
    while (!queue.empty()) {
        EXPECT_EQ(queue.front(), next_out++);
        queue.pop_front();
    }
    EXPECT_EQ(next_out, next_in);
}

TEST(recycling_queue, allocates_only_to_reach_a_new_high_water_mark)
{
    recycling_queue<std::string> queue;
    const std::string text(100, 't'); // beyond the small-string buffer: copies would allocate
    for (int i = 0; i < 20; ++i)
        queue.push_back(std::string(text));
    const auto slots = queue.capacity();
    queue.clear();
    EXPECT_EQ(queue.size(), 0u);
    EXPECT_EQ(queue.capacity(), slots);
    std::size_t seen = 0;
    allocation_scope scope;
    for (int round = 0; round < 1000; ++round) {
        for (int i = 0; i < 20; ++i)
            queue.push_back(std::string()); // moving an empty string allocates nothing
        while (!queue.empty()) {
            seen += queue.front().size() + 1;
            queue.pop_front();
        }
    }
    EXPECT_EQ(scope.count(), 0u);
    EXPECT_EQ(seen, 20'000u);
    EXPECT_EQ(queue.capacity(), slots);
}

TEST(recycling_queue, destroys_elements_when_they_leave)
{
    recycling_queue<std::shared_ptr<int>> queue;
    auto shared = std::make_shared<int>(1);
    queue.push_back(shared);
    queue.push_back(shared);
    EXPECT_EQ(shared.use_count(), 3);
    queue.pop_front();
    EXPECT_EQ(shared.use_count(), 2);
    queue.clear();
    EXPECT_EQ(shared.use_count(), 1);
}

TEST(recycling_queue, moving_takes_the_elements_and_empties_the_source)
{
    recycling_queue<int> source;
    for (int i = 0; i < 10; ++i)
        source.push_back(int(i));
    source.pop_front();
    recycling_queue<int> target(std::move(source));
    EXPECT_EQ(source.size(), 0u);
    EXPECT_EQ(target.size(), 9u);
    EXPECT_EQ(target.front(), 1);
    recycling_queue<int> assigned;
    assigned.push_back(42);
    assigned = std::move(target);
    EXPECT_EQ(target.size(), 0u);
    EXPECT_EQ(assigned.size(), 9u);
    EXPECT_EQ(assigned.front(), 1);
    // A moved-from queue is usable again.
    target.push_back(7);
    EXPECT_EQ(target.front(), 7);
}

} // namespace
