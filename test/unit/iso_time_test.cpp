#include "iso_time.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <string>

namespace {

using namespace std::chrono;
using nflog::watch::format_iso_time;
using nflog::watch::iso_time_buffer;

std::string formatted(system_clock::time_point time)
{
    iso_time_buffer buffer;
    return std::string(format_iso_time(time, buffer));
}

system_clock::time_point at(sys_days day, system_clock::duration time_of_day = {})
{
    return system_clock::time_point(day) + time_of_day;
}

TEST(format_iso_time, epoch)
{
    EXPECT_EQ(formatted(system_clock::time_point{}), "1970-01-01T00:00:00.000000+00:00");
}

TEST(format_iso_time, fields_are_zero_padded)
{
    EXPECT_EQ(formatted(at(2024y / May / 1, hours{2} + minutes{3} + seconds{4} + microseconds{789})),
              "2024-05-01T02:03:04.000789+00:00");
}

TEST(format_iso_time, seconds_since_epoch_give_the_calendar_date)
{
    EXPECT_EQ(formatted(system_clock::time_point{seconds{1714566896}}), "2024-05-01T12:34:56.000000+00:00");
    EXPECT_EQ(formatted(system_clock::time_point{seconds{951782400}}), "2000-02-29T00:00:00.000000+00:00");
}

TEST(format_iso_time, last_microsecond_of_a_year)
{
    EXPECT_EQ(formatted(system_clock::time_point{seconds{1704067199} + microseconds{999999}}),
              "2023-12-31T23:59:59.999999+00:00");
}

TEST(format_iso_time, sub_microseconds_are_cut_not_rounded)
{
    EXPECT_EQ(formatted(system_clock::time_point{seconds{59} + nanoseconds{999'999'999}}),
              "1970-01-01T00:00:59.999999+00:00");
}

TEST(format_iso_time, before_the_epoch)
{
    EXPECT_EQ(formatted(system_clock::time_point{-microseconds{1}}), "1969-12-31T23:59:59.999999+00:00");
}

TEST(format_iso_time, extremes_of_a_nanosecond_clock_format_without_wrapping)
{
    using nanosecond_time = time_point<system_clock, nanoseconds>;
    EXPECT_EQ(formatted(floor<system_clock::duration>(nanosecond_time::min())),
              "1677-09-21T00:12:43.145224+00:00");
    EXPECT_EQ(formatted(floor<system_clock::duration>(nanosecond_time::max())),
              "2262-04-11T23:47:16.854775+00:00");
}

} // namespace
