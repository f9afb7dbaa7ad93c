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

} // namespace nflog::test

#endif
