#include "support/counting_allocator.hpp"

#include <cstdlib>
#include <new>

namespace {
thread_local std::size_t thread_allocations = 0;
// 0: nothing fails.
thread_local std::size_t failing_size = 0;
thread_local std::size_t failures = 0;

void* counted_allocate(std::size_t size, std::size_t alignment)
{
    ++thread_allocations;
    if (failing_size != 0 && size == failing_size) {
        ++failures;
        return nullptr;
    }
    if (size == 0)
        size = 1;
    if (alignment <= alignof(std::max_align_t))
        return std::malloc(size);
    void* memory = nullptr;
    return posix_memalign(&memory, alignment, size) == 0 ? memory : nullptr;
}
} // namespace

// Asio takes its operations' memory with std::aligned_alloc, not operator
// new: counted too, or a test could not see a handler allocated per event.
extern "C" void* aligned_alloc(std::size_t alignment, std::size_t size) noexcept
{
    return counted_allocate(size, alignment < sizeof(void*) ? sizeof(void*) : alignment);
}

std::size_t nflog::test::allocations_on_this_thread() noexcept { return thread_allocations; }

nflog::test::failing_allocations::failing_allocations(std::size_t size) noexcept
{
    failing_size = size;
    failures = 0;
}
nflog::test::failing_allocations::~failing_allocations() { failing_size = 0; }
std::size_t nflog::test::failing_allocations::failed() const noexcept { return failures; }

void* operator new(std::size_t size)
{
    if (void* memory = counted_allocate(size, alignof(std::max_align_t)))
        return memory;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void* operator new(std::size_t size, const std::nothrow_t&) noexcept { return counted_allocate(size, alignof(std::max_align_t)); }
void* operator new[](std::size_t size, const std::nothrow_t&) noexcept { return counted_allocate(size, alignof(std::max_align_t)); }
void* operator new(std::size_t size, std::align_val_t alignment)
{
    if (void* memory = counted_allocate(size, static_cast<std::size_t>(alignment)))
        return memory;
    throw std::bad_alloc();
}
void* operator new[](std::size_t size, std::align_val_t alignment) { return operator new(size, alignment); }
void operator delete(void* memory) noexcept { std::free(memory); }
void operator delete[](void* memory) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t) noexcept { std::free(memory); }
void operator delete(void* memory, std::align_val_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::align_val_t) noexcept { std::free(memory); }
void operator delete(void* memory, std::size_t, std::align_val_t) noexcept { std::free(memory); }
void operator delete[](void* memory, std::size_t, std::align_val_t) noexcept { std::free(memory); }
