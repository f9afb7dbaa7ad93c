#include <nflog/action.hpp>

#include <gtest/gtest.h>

#include <string_view>

namespace {

using nflog::action_from_prefix;

TEST(action_from_prefix, each_marker_names_its_action)
{
    EXPECT_EQ(action_from_prefix("DENIED"), "blocked_connection");
    EXPECT_EQ(action_from_prefix("PRIVATE"), "private_range");
    EXPECT_EQ(action_from_prefix("ALLOWED"), "allowed_connection");
    EXPECT_EQ(action_from_prefix("BYPASS"), "bypass_connection");
    EXPECT_EQ(action_from_prefix("QUEUED"), "queued_connection");
}

TEST(action_from_prefix, marker_may_appear_anywhere_in_the_prefix)
{
    EXPECT_EQ(action_from_prefix("shield: DENIED "), "blocked_connection");
    EXPECT_EQ(action_from_prefix("egress-PRIVATE-v6"), "private_range");
    EXPECT_EQ(action_from_prefix("xALLOWEDx"), "allowed_connection");
    EXPECT_EQ(action_from_prefix("  BYPASS"), "bypass_connection");
    EXPECT_EQ(action_from_prefix("nfqueue QUEUED: "), "queued_connection");
    // A first letter that starts no whole marker does not end the search.
    EXPECT_EQ(action_from_prefix("DDENIED"), "blocked_connection");
    EXPECT_EQ(action_from_prefix("PPRIVATE"), "private_range");
    EXPECT_EQ(action_from_prefix("DENIEDENIED"), "blocked_connection");
    EXPECT_EQ(action_from_prefix("ALLOWEQUEUED"), "queued_connection");
}

TEST(action_from_prefix, without_a_marker_the_action_is_nflog)
{
    EXPECT_EQ(action_from_prefix(""), "nflog");
    EXPECT_EQ(action_from_prefix("drop: "), "nflog");
    EXPECT_EQ(action_from_prefix("DENIE"), "nflog");
    EXPECT_EQ(action_from_prefix("ALLOW"), "nflog");
}

TEST(action_from_prefix, markers_are_case_sensitive)
{
    EXPECT_EQ(action_from_prefix("denied"), "nflog");
    EXPECT_EQ(action_from_prefix("Private"), "nflog");
    EXPECT_EQ(action_from_prefix("allowed"), "nflog");
    EXPECT_EQ(action_from_prefix("bypass"), "nflog");
    EXPECT_EQ(action_from_prefix("Queued"), "nflog");
}

TEST(action_from_prefix, earlier_marker_in_the_table_wins_wherever_it_stands)
{
    // Precedence follows the table, not the position in the prefix.
    EXPECT_EQ(action_from_prefix("ALLOWED DENIED"), "blocked_connection");
    EXPECT_EQ(action_from_prefix("QUEUED BYPASS ALLOWED PRIVATE DENIED"), "blocked_connection");
    EXPECT_EQ(action_from_prefix("ALLOWED-PRIVATE"), "private_range");
    EXPECT_EQ(action_from_prefix("QUEUED BYPASS ALLOWED"), "allowed_connection");
    EXPECT_EQ(action_from_prefix("QUEUED BYPASS"), "bypass_connection");
    EXPECT_EQ(action_from_prefix("PRIVATE DENIED"), "blocked_connection");
}

TEST(action_from_prefix, bytes_after_an_embedded_nul_still_count)
{
    // The caller decides where the prefix ends; this function sees every byte it is given.
    constexpr std::string_view with_nul{"x\0DENIED", 8};
    EXPECT_EQ(action_from_prefix(with_nul), "blocked_connection");
}

} // namespace
