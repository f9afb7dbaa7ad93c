#ifndef NFLOG_TEST_SUPPORT_COUNTING_ALLOCATOR_HPP
#define NFLOG_TEST_SUPPORT_COUNTING_ALLOCATOR_HPP

#include <cstddef>

namespace nflog::test {

/// Heap allocations made by the calling thread since it started, through any
/// form of global operator new (the test binary replaces them all).
std::size_t allocations_on_this_thread() noexcept;

/// Counts the calling thread's allocations while it lives.
class allocation_scope {
public:
    allocation_scope() noexcept : start_(allocations_on_this_thread()) {}
    std::size_t count() const noexcept { return allocations_on_this_thread() - start_; }

private:
    std::size_t start_;
};

/// While it lives, every allocation of exactly `size` bytes on the calling
/// thread fails (`operator new` throws `std::bad_alloc`): memory that runs
/// out exactly where a test wants it to. Not nested.
class failing_allocations {
public:
    explicit failing_allocations(std::size_t size) noexcept;
    ~failing_allocations();
    failing_allocations(const failing_allocations&) = delete;
    failing_allocations& operator=(const failing_allocations&) = delete;

    /// Allocations that failed so far.
    std::size_t failed() const noexcept;
};

} // namespace nflog::test

#endif
