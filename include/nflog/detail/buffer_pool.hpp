#ifndef NFLOG_DETAIL_BUFFER_POOL_HPP
#define NFLOG_DETAIL_BUFFER_POOL_HPP

#include <nflog/packet.hpp>
#include <nflog/result.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <utility>
#include <vector>

namespace nflog::detail {

class buffer_pool;

/// One receive buffer and the parse of the datagram it holds: the elements
/// of its batch, made once. The first `element_count` elements are the
/// current datagram's; the slots after them are kept from earlier datagrams,
/// so that a parse refills slots instead of making them, and the vector
/// stops allocating once it held the most messages a datagram brought.
struct receive_buffer {
    receive_buffer(std::unique_ptr<std::byte[]> storage, std::size_t storage_size) noexcept
        : bytes(std::move(storage)), size(storage_size)
    {
    }

    std::unique_ptr<std::byte[]> bytes;
    std::size_t size;
    std::vector<result<packet_view>> elements;
    std::size_t element_count = 0;
    // Leases sharing the buffer; the last one gives it back.
    std::atomic<std::uint32_t> references{0};
};

/// Use of one pool buffer, shared by its copies; the last copy gives it
/// back. Only the first holder writes (the datagram, then its elements):
/// copies are made to share what was received, read-only. Keeps the pool
/// alive, so a batch may outlive the socket that produced it.
class buffer_lease {
public:
    buffer_lease() = default;
    buffer_lease(std::shared_ptr<buffer_pool> pool, std::unique_ptr<receive_buffer> data) noexcept
        : pool_(std::move(pool)), data_(data.release())
    {
        data_->references.store(1, std::memory_order_relaxed);
    }
    buffer_lease(const buffer_lease& other) noexcept : pool_(other.pool_), data_(other.data_)
    {
        if (data_ != nullptr)
            data_->references.fetch_add(1, std::memory_order_relaxed);
    }
    buffer_lease(buffer_lease&& other) noexcept
        : pool_(std::move(other.pool_)), data_(std::exchange(other.data_, nullptr))
    {
    }
    // Two assignments rather than one taking its argument by value: with
    // clang 14 and AddressSanitizer, `lease = {}` in the socket's receive
    // operation was seen to leave such an argument undestroyed, and a lease
    // that is never destroyed never gives its buffer back.
    buffer_lease& operator=(const buffer_lease& other) noexcept
    {
        if (this != &other) {
            buffer_lease copy(other);
            swap(copy);
        }
        return *this;
    }
    buffer_lease& operator=(buffer_lease&& other) noexcept
    {
        if (this != &other) {
            give_back();
            pool_ = std::move(other.pool_);
            data_ = std::exchange(other.data_, nullptr);
        }
        return *this;
    }
    ~buffer_lease() { give_back(); }

    std::span<std::byte> bytes() const noexcept;
    /// The buffer with its parse: the batch made from it writes the
    /// elements and their count once, before any copy of the lease exists.
    receive_buffer& data() const noexcept { return *data_; }
    explicit operator bool() const noexcept { return data_ != nullptr; }

private:
    void give_back() noexcept;
    void swap(buffer_lease& other) noexcept
    {
        std::swap(pool_, other.pool_);
        std::swap(data_, other.data_);
    }

    std::shared_ptr<buffer_pool> pool_;
    receive_buffer* data_ = nullptr;
};

/// Receive buffers of one size, reused. A buffer is only handed out again
/// after its lease (and so every view into it) is gone; buffers are only
/// allocated while the caller holds more leases than ever before, so the
/// steady state allocates nothing. Leases may be released from any thread.
/// The size can grow (when the kernel is told to send larger datagrams):
/// smaller buffers still leased keep their size and are freed on return.
class buffer_pool : public std::enable_shared_from_this<buffer_pool> {
public:
    explicit buffer_pool(std::size_t buffer_size) : buffer_size_(buffer_size) {}

    std::size_t buffer_size() const
    {
        std::lock_guard lock(mutex_);
        return buffer_size_;
    }

    /// Buffers handed out from now on hold at least `size` bytes.
    void grow(std::size_t size)
    {
        std::vector<std::unique_ptr<receive_buffer>> smaller;
        {
            std::lock_guard lock(mutex_);
            if (size <= buffer_size_)
                return;
            buffer_size_ = size;
            allocated_ -= free_.size();
            smaller.swap(free_);
        }
    }

    buffer_lease acquire()
    {
        std::unique_ptr<receive_buffer> data;
        std::size_t size = 0;
        {
            std::lock_guard lock(mutex_);
            size = buffer_size_;
            if (!free_.empty()) {
                data = std::move(free_.back());
                free_.pop_back();
            }
            else {
                ++allocated_;
                // Room for every buffer in existence, so release never allocates.
                free_.reserve(allocated_);
            }
        }
        if (!data) {
            try {
                data = std::make_unique<receive_buffer>(std::make_unique_for_overwrite<std::byte[]>(size), size);
            }
            catch (...) {
                std::lock_guard lock(mutex_);
                --allocated_; // counted above, never made
                throw;
            }
        }
        return {shared_from_this(), std::move(data)};
    }

    /// Frees the buffers no lease holds; returns how many. They are freed
    /// under the lock, so that the free list keeps its room for every buffer
    /// still leased (a release never allocates).
    std::size_t release_spare() noexcept
    {
        std::lock_guard lock(mutex_);
        const auto spare = free_.size();
        allocated_ -= spare;
        free_.clear();
        return spare;
    }

    std::size_t allocated() const
    {
        std::lock_guard lock(mutex_);
        return allocated_;
    }

private:
    friend class buffer_lease;

    void release(std::unique_ptr<receive_buffer> data) noexcept
    {
        std::lock_guard lock(mutex_);
        if (data->size < buffer_size_) {
            --allocated_;
            return; // freed outside the lock, by `data`
        }
        free_.push_back(std::move(data));
    }

    std::size_t buffer_size_;
    mutable std::mutex mutex_;
    std::vector<std::unique_ptr<receive_buffer>> free_;
    std::size_t allocated_ = 0;
};

inline std::span<std::byte> buffer_lease::bytes() const noexcept
{
    return data_ ? std::span<std::byte>(data_->bytes.get(), data_->size) : std::span<std::byte>();
}

inline void buffer_lease::give_back() noexcept
{
    if (data_ != nullptr && data_->references.fetch_sub(1, std::memory_order_acq_rel) == 1)
        pool_->release(std::unique_ptr<receive_buffer>(data_));
    data_ = nullptr;
    pool_.reset();
}

} // namespace nflog::detail

#endif
