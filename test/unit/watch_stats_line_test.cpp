#include "stats_line.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <string>

namespace {

using nflog::watch::watch_totals;
using nflog::watch::write_stats;

TEST(write_stats, members_in_order)
{
    std::string line = "left over";
    write_stats(line, {});
    EXPECT_EQ(line, R"({"events":0,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                    R"("dropped_datagrams":0})");
    write_stats(line, {1, 2, 3, 4, 5, std::numeric_limits<std::uint64_t>::max(), 7});
    EXPECT_EQ(line, R"({"events":1,"lost":2,"overruns":3,"malformed":4,"truncated":5,"discarded":18446744073709551615,)"
                    R"("dropped_datagrams":7})");
}

TEST(watch_totals, sums_the_sockets_but_counts_events_itself)
{
    watch_totals totals;
    totals.events = 7;
    nflog::stats first;
    first.datagrams = 100;
    first.packets = 50;
    first.lost = 1;
    first.overruns = 2;
    first.malformed = 3;
    first.truncated = 4;
    first.discarded = 5;
    first.dropped_datagrams = 6;
    nflog::stats second = first;
    second.lost = 10;
    totals.add(first);
    totals.add(second);
    EXPECT_EQ(totals.events, 7u);
    EXPECT_EQ(totals.lost, 11u);
    EXPECT_EQ(totals.overruns, 4u);
    EXPECT_EQ(totals.malformed, 6u);
    EXPECT_EQ(totals.truncated, 8u);
    EXPECT_EQ(totals.discarded, 10u);
    EXPECT_EQ(totals.dropped_datagrams, 12u);
}

} // namespace
