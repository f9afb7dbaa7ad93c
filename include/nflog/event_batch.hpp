#ifndef NFLOG_EVENT_BATCH_HPP
#define NFLOG_EVENT_BATCH_HPP

#include <nflog/detail/event_block_pool.hpp>
#include <nflog/event.hpp>

#include <cstddef>
#include <span>
#include <utility>

namespace nflog {

namespace detail {
class event_batch_writer;
} // namespace detail

/// Up to `max_size` events of one watcher, in the order the kernel delivered
/// them: what an `event_batch_channel` carries, so that a consumer pays for
/// one channel hand-off per batch instead of one per event.
///
/// Copies share the same read-only events, like copies of a
/// `std::shared_ptr<const T>`: copying is cheap and never allocates, and the
/// events stay valid as long as any copy. Its storage is reused once the
/// last copy is gone; it may be dropped on any thread.
///
/// A batch that accompanies an error report (see `basic_watcher`) is empty
/// and tells only its `source`.
class event_batch {
public:
    using value_type = event;
    using size_type = std::size_t;
    using const_reference = const event&;
    using reference = const_reference;
    using const_iterator = const event*;
    using iterator = const_iterator;

    /// Events one batch holds at most.
    static constexpr std::size_t max_size = detail::event_block::capacity;

    event_batch() = default;
    explicit event_batch(source_id source) noexcept : source_(source) {}
    event_batch(const event_batch& other) noexcept : block_(other.block_), source_(other.source_)
    {
        if (block_ != nullptr)
            detail::event_block_pool::add_reference(block_);
    }
    event_batch(event_batch&& other) noexcept
        : block_(std::exchange(other.block_, nullptr)), source_(other.source_)
    {
    }
    // Two assignments rather than one taking its argument by value, as for
    // `detail::buffer_lease`: with clang 14 and AddressSanitizer such an
    // argument was seen left undestroyed, and its block would never go back.
    event_batch& operator=(const event_batch& other) noexcept
    {
        if (this != &other) {
            if (other.block_ != nullptr)
                detail::event_block_pool::add_reference(other.block_);
            release();
            block_ = other.block_;
            source_ = other.source_;
        }
        return *this;
    }
    event_batch& operator=(event_batch&& other) noexcept
    {
        if (this != &other) {
            release();
            block_ = std::exchange(other.block_, nullptr);
            source_ = other.source_;
        }
        return *this;
    }
    ~event_batch() { release(); }

    /// The watcher the events came from (see `basic_watcher`).
    source_id source() const noexcept { return source_; }

    std::span<const event> events() const noexcept
    {
        return block_ != nullptr ? std::span<const event>(block_->events.data(), block_->size)
                                 : std::span<const event>();
    }
    const_iterator begin() const noexcept { return events().data(); }
    const_iterator end() const noexcept { return begin() + size(); }
    size_type size() const noexcept { return block_ != nullptr ? block_->size : 0; }
    bool empty() const noexcept { return size() == 0; }
    const event& operator[](size_type index) const noexcept { return block_->events[index]; }
    const event& front() const noexcept { return block_->events.front(); }
    const event& back() const noexcept { return block_->events[size() - 1]; }

private:
    friend class detail::event_batch_writer;
    void release() noexcept
    {
        if (block_ != nullptr)
            detail::event_block_pool::drop_reference(std::exchange(block_, nullptr));
    }
    event_batch(detail::event_block* block, source_id source) noexcept : block_(block), source_(source) {}

    detail::event_block* block_ = nullptr;
    source_id source_ = 0;
};

namespace detail {

/// Fills one block at a time and hands it out as an `event_batch`. Takes a
/// block from the pool only when the first event comes, so an empty batch
/// costs nothing.
class event_batch_writer {
public:
    event_batch_writer() : pool_(std::make_shared<event_block_pool>()) {}
    event_batch_writer(const event_batch_writer&) = delete;
    event_batch_writer& operator=(const event_batch_writer&) = delete;
    // The pool is shared, not taken: a moved-from writer still works.
    event_batch_writer(event_batch_writer&& other) noexcept
        : pool_(other.pool_), block_(std::exchange(other.block_, nullptr))
    {
    }
    event_batch_writer& operator=(event_batch_writer&& other) noexcept
    {
        if (this != &other) {
            clear();
            pool_ = other.pool_;
            block_ = std::exchange(other.block_, nullptr);
        }
        return *this;
    }
    ~event_batch_writer() { clear(); }

    std::size_t size() const noexcept { return block_ != nullptr ? block_->size : 0; }
    bool full() const noexcept { return size() == event_block::capacity; }

    /// Where the next event goes; it counts once `commit` is called.
    event& slot()
    {
        if (block_ == nullptr)
            block_ = pool_->acquire();
        return block_->events[block_->size];
    }
    void commit() noexcept { ++block_->size; }
    /// After `slot()`: asks the cache for the slot two places further on, to
    /// be written. A block is used again only after the consumer let go of
    /// it, long after its events left the L1 cache, and `event::assign`
    /// reads the slot it refills (the remembered prefix and action): it
    /// waited for that on every event. Asked for two events ahead, the slot
    /// is there in time.
    void prefetch_ahead() const noexcept
    {
        constexpr std::size_t distance = 2;
        constexpr std::size_t cache_line = 64;
        const std::size_t ahead = block_->size + distance;
        if (ahead >= event_block::capacity)
            return;
        const auto* bytes = reinterpret_cast<const char*>(&block_->events[ahead]);
        for (std::size_t offset = 0; offset < sizeof(event); offset += cache_line)
            __builtin_prefetch(bytes + offset, 1);
    }

    /// The events written so far, as a batch; the writer starts over.
    event_batch finish(source_id source) noexcept { return {std::exchange(block_, nullptr), source}; }

    /// Drops what was written.
    void clear() noexcept
    {
        if (block_ != nullptr)
            event_block_pool::drop_reference(std::exchange(block_, nullptr));
    }

    const event_block_pool& pool() const noexcept { return *pool_; }

private:
    std::shared_ptr<event_block_pool> pool_;
    event_block* block_ = nullptr;
};

} // namespace detail

} // namespace nflog

#endif
