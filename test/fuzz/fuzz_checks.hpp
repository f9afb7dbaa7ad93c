#ifndef NFLOG_TEST_FUZZ_FUZZ_CHECKS_HPP
#define NFLOG_TEST_FUZZ_FUZZ_CHECKS_HPP

#include <nflog/inet.hpp>

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

/// Whether two flows hold the same decode, member by member.
inline bool same_flow(const inet::flow& a, const inet::flow& b)
{
    return a.l3 == b.l3 && a.src == b.src && a.dst == b.dst && a.protocol == b.protocol && a.src_port == b.src_port &&
           a.dst_port == b.dst_port && a.icmp_type == b.icmp_type && a.icmp_code == b.icmp_code &&
           a.arp_op == b.arp_op && a.fragment == b.fragment && a.later_fragment == b.later_fragment &&
           a.truncated == b.truncated && a.family_mismatch == b.family_mismatch && a.error == b.error;
}

} // namespace nflog::fuzz

#endif
