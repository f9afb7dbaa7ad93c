#include "option_values.hpp"

#include <gtest/gtest.h>

#include <limits>

namespace {

using namespace std::chrono_literals;
using nflog::watch::parse_seconds;
using nflog::watch::parse_whole_number;

TEST(parse_whole_number, inside_the_bounds)
{
    EXPECT_EQ(parse_whole_number("0", 0, 10), 0u);
    EXPECT_EQ(parse_whole_number("10", 0, 10), 10u);
    EXPECT_EQ(parse_whole_number("007", 0, 10), 7u);
    const auto max = std::numeric_limits<std::uint64_t>::max();
    EXPECT_EQ(parse_whole_number("18446744073709551615", 0, max), max);
}

TEST(parse_whole_number, anything_else_is_refused)
{
    for (const char* text : {"", "11", "-1", "+1", " 1", "1 ", "1.0", "0x1", "ten", "18446744073709551616"})
        EXPECT_FALSE(parse_whole_number(text, 0, 10)) << text;
    EXPECT_FALSE(parse_whole_number("4", 5, 10));
}

TEST(parse_seconds, rounded_up_to_milliseconds)
{
    EXPECT_EQ(parse_seconds("2"), 2000ms);
    EXPECT_EQ(parse_seconds("0.5"), 500ms);
    EXPECT_EQ(parse_seconds(".25"), 250ms);
    EXPECT_EQ(parse_seconds("0.0001"), 1ms);
    EXPECT_EQ(parse_seconds("10000000"), std::chrono::milliseconds(nflog::watch::longest_duration));
}

TEST(parse_seconds, anything_else_is_refused)
{
    for (const char* text : {"", "0", "0.0", "-1", "1e3", "inf", "nan", "1s", " 1", "10000000.5", "1,5"})
        EXPECT_FALSE(parse_seconds(text)) << text;
}

} // namespace
