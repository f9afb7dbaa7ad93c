#ifndef NFLOG_DETAIL_EVENT_BLOCK_POOL_HPP
#define NFLOG_DETAIL_EVENT_BLOCK_POOL_HPP

#include <nflog/event.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <vector>

namespace nflog::detail {

class event_block_pool;

/// The storage of one `event_batch`: a fixed array of events, filled once by
/// a watcher and then shared read-only by every copy of the batch. The last
/// reference gives it back to its pool.
struct event_block {
    static constexpr std::size_t capacity = 64;

    std::atomic<std::uint32_t> references{0};
    std::uint32_t size = 0;
    // Set while the block is in use, so that batches may outlive the watcher
    // whose pool they came from; cleared in the pool's free list, where it
    // would keep the pool alive through its own blocks.
    std::shared_ptr<event_block_pool> owner;
    std::array<event, capacity> events{};
};

/// Event blocks, reused. A block is only handed out again once every batch
/// that refers to it is gone; blocks are only allocated while more of them
/// are in use than ever before, so the steady state allocates nothing.
/// Blocks may be given back from any thread.
class event_block_pool : public std::enable_shared_from_this<event_block_pool> {
public:
    /// An empty block with one reference, owned by the caller.
    event_block* acquire()
    {
        std::unique_ptr<event_block> block;
        {
            std::lock_guard lock(mutex_);
            if (!free_.empty()) {
                block = std::move(free_.back());
                free_.pop_back();
            }
            else {
                // Room for every block in existence, so giving back never
                // allocates; counted once that room is there.
                free_.reserve(allocated_ + 1);
                ++allocated_;
            }
        }
        if (!block) {
            try {
                block = std::make_unique<event_block>();
            }
            catch (...) {
                std::lock_guard lock(mutex_);
                --allocated_; // counted above, never made
                throw;
            }
        }
        block->owner = shared_from_this();
        block->size = 0;
        block->references.store(1, std::memory_order_relaxed);
        return block.release();
    }

    /// Blocks allocated so far.
    std::size_t allocated() const
    {
        std::lock_guard lock(mutex_);
        return allocated_;
    }

    static void add_reference(event_block* block) noexcept
    {
        block->references.fetch_add(1, std::memory_order_relaxed);
    }

    /// Drops one reference; the last one returns the block to its pool.
    static void drop_reference(event_block* block) noexcept
    {
        if (block->references.fetch_sub(1, std::memory_order_acq_rel) != 1)
            return;
        // Taken out first: when this was the pool's last user, the pool (and
        // with it the block) goes away as `owner` is destroyed.
        const auto owner = std::move(block->owner);
        owner->give_back(block);
    }

private:
    void give_back(event_block* block) noexcept
    {
        std::lock_guard lock(mutex_);
        // Cannot allocate: acquire reserved a place for every block.
        free_.emplace_back(block);
    }

    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<event_block>> free_;
    std::size_t allocated_ = 0;
};

} // namespace nflog::detail

#endif
