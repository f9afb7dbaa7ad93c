#ifndef NFLOG_DETAIL_RECYCLING_QUEUE_HPP
#define NFLOG_DETAIL_RECYCLING_QUEUE_HPP

#include <algorithm>
#include <cstddef>
#include <optional>
#include <utility>
#include <vector>

namespace nflog::detail {

/// A FIFO over a ring of slots that only ever grows: memory is allocated
/// while the queue holds more elements than ever before, and never again
/// after that. It replaces the std::deque of Asio's channel buffer, which
/// allocates and frees a node for every element as large as an event.
///
/// Offers exactly what Asio's channel service uses of its container.
template <class T>
class recycling_queue {
public:
    recycling_queue() = default;
    recycling_queue(recycling_queue&& other) noexcept
        : slots_(std::move(other.slots_)), head_(std::exchange(other.head_, 0)), size_(std::exchange(other.size_, 0))
    {
    }
    recycling_queue& operator=(recycling_queue&& other) noexcept
    {
        if (this != &other) {
            slots_ = std::move(other.slots_);
            head_ = std::exchange(other.head_, 0);
            size_ = std::exchange(other.size_, 0);
            other.slots_.clear();
        }
        return *this;
    }
    recycling_queue(const recycling_queue&) = delete;
    recycling_queue& operator=(const recycling_queue&) = delete;

    std::size_t size() const noexcept { return size_; }
    bool empty() const noexcept { return size_ == 0; }
    /// Slots allocated so far.
    std::size_t capacity() const noexcept { return slots_.size(); }

    T& front() noexcept { return *slots_[head_]; }

    void push_back(T&& value)
    {
        grow_if_full();
        slots_[(head_ + size_) % slots_.size()].emplace(std::move(value));
        ++size_;
    }
    void push_back(const T& value)
    {
        grow_if_full();
        slots_[(head_ + size_) % slots_.size()].emplace(value);
        ++size_;
    }

    void pop_front() noexcept
    {
        slots_[head_].reset();
        head_ = (head_ + 1) % slots_.size();
        --size_;
    }

    void clear() noexcept
    {
        while (size_ > 0)
            pop_front();
        head_ = 0;
    }

private:
    void grow_if_full()
    {
        if (size_ < slots_.size())
            return;
        std::vector<std::optional<T>> larger(std::max<std::size_t>(8, 2 * slots_.size()));
        for (std::size_t i = 0; i < size_; ++i)
            larger[i].emplace(std::move(*slots_[(head_ + i) % slots_.size()]));
        slots_ = std::move(larger);
        head_ = 0;
    }

    std::vector<std::optional<T>> slots_;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

} // namespace nflog::detail

#endif
