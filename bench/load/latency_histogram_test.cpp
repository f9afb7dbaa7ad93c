#include "latency_histogram.hpp"

#include <gtest/gtest.h>

#include <cstdint>

namespace {

using nflog::load::latency_histogram;

constexpr std::uint64_t two_to(unsigned exponent)
{
    return std::uint64_t{1} << exponent;
}

// A quantile is the upper edge of its bucket: at most 1/32 above the value.
TEST(latency_histogram, a_quantile_is_within_a_thirty_second_of_the_value)
{
    for (const std::uint64_t ns : {std::uint64_t{0}, std::uint64_t{31}, std::uint64_t{32}, std::uint64_t{1000},
                                   std::uint64_t{123456789}, two_to(40) + 12345}) {
        latency_histogram histogram;
        histogram.record(ns);
        histogram.record(two_to(45));
        const auto median = histogram.quantile(0.5);
        EXPECT_GE(median, ns);
        EXPECT_LE(median, ns + ns / 32) << ns;
    }
}

// The histogram's range ends at 2^41 ns: the longest values share its last
// bucket, whose neighbours in memory are the histogram's own counters.
TEST(latency_histogram, values_past_its_range_land_in_its_last_bucket)
{
    for (const std::uint64_t ns : {two_to(41) - 1, two_to(41), two_to(41) + two_to(40), two_to(42) - 1, two_to(42),
                                   ~std::uint64_t{0}}) {
        latency_histogram histogram;
        histogram.record(1000, 3);
        histogram.record(ns);
        EXPECT_EQ(histogram.count(), 4u) << ns;
        EXPECT_EQ(histogram.max(), ns) << ns;
        EXPECT_EQ(histogram.quantile(0.5), 1007u) << ns;
        EXPECT_GE(histogram.quantile(1.0), two_to(41) - two_to(41) / 32) << ns;
        EXPECT_LE(histogram.quantile(1.0), ns) << ns;
    }
}

} // namespace
