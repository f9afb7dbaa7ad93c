#ifndef NFLOG_BENCH_LOAD_LATENCY_HISTOGRAM_HPP
#define NFLOG_BENCH_LOAD_LATENCY_HISTOGRAM_HPP

#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>

namespace nflog::load {

/// Latencies in nanoseconds, log-linear buckets (32 per power of two, so a
/// quantile is off by at most 1/32 of its value): fixed memory, no
/// allocation while recording, and recording costs a few instructions.
class latency_histogram {
public:
    void record(std::uint64_t ns, std::uint64_t count = 1) noexcept
    {
        buckets_[index(ns)] += count;
        total_ += count;
        max_ = std::max(max_, ns);
    }

    std::uint64_t count() const noexcept { return total_; }
    std::uint64_t max() const noexcept { return max_; }

    /// The upper edge of the bucket that holds the q-quantile (0 < q <= 1),
    /// never above the largest value seen; 0 when empty.
    std::uint64_t quantile(double q) const noexcept
    {
        if (total_ == 0)
            return 0;
        const auto rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(q * static_cast<double>(total_) + 0.5));
        std::uint64_t seen = 0;
        for (std::size_t i = 0; i < buckets_.size(); ++i) {
            seen += buckets_[i];
            if (seen >= rank)
                return std::min(upper_edge(i), max_);
        }
        return max_;
    }

private:
    static constexpr unsigned sub_bits = 5;
    static constexpr std::uint64_t sub_count = std::uint64_t{1} << sub_bits;
    // Up to 2^41 ns (36 minutes); anything longer lands in the last bucket.
    static constexpr unsigned top_exponent = 41;
    static constexpr std::size_t bucket_count = (top_exponent - sub_bits + 1) * sub_count;

    static std::size_t index(std::uint64_t ns) noexcept
    {
        if (ns < sub_count)
            return static_cast<std::size_t>(ns);
        const unsigned exponent = static_cast<unsigned>(std::bit_width(ns)) - 1;
        if (exponent >= top_exponent)
            return bucket_count - 1;
        const auto mantissa = (ns >> (exponent - sub_bits)) & (sub_count - 1);
        return static_cast<std::size_t>((exponent - sub_bits + 1) * sub_count + mantissa);
    }

    static std::uint64_t upper_edge(std::size_t i) noexcept
    {
        if (i < sub_count)
            return i;
        const unsigned exponent = static_cast<unsigned>(i / sub_count) + sub_bits - 1;
        const auto mantissa = i % sub_count;
        return ((sub_count + mantissa + 1) << (exponent - sub_bits)) - 1;
    }

    std::array<std::uint64_t, bucket_count> buckets_{};
    std::uint64_t total_ = 0;
    std::uint64_t max_ = 0;
};

} // namespace nflog::load

#endif
