#ifndef NFLOG_TEST_FUZZ_FUZZ_CHECKS_HPP
#define NFLOG_TEST_FUZZ_FUZZ_CHECKS_HPP

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>

namespace nflog::fuzz {

/// Aborts with the promise that broke, so the fuzzer keeps the input.
inline void require(bool condition, const char* promise)
{
    if (condition)
        return;
    std::fprintf(stderr, "broken promise: %s\n", promise);
    std::abort();
}

/// Whether `part` lies within `whole` (std::less_equal: the pointers may
/// belong to unrelated objects when a view is wrong).
inline bool inside(std::span<const std::byte> part, std::span<const std::byte> whole)
{
    const std::less_equal<const std::byte*> not_after;
    return not_after(whole.data(), part.data()) && not_after(part.data() + part.size(), whole.data() + whole.size());
}

} // namespace nflog::fuzz

#endif
