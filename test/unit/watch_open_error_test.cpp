#include "open_error.hpp"

#include "exit_status.hpp"

#include <nflog/error.hpp>

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdint>
#include <vector>

namespace {

using nflog::errc;
using nflog::watch::describe_open_error;

const std::vector<std::uint16_t> one_group{41};
const std::vector<std::uint16_t> two_groups{41, 42};

TEST(describe_open_error, missing_capability_here_and_in_a_namespace)
{
    const auto here = describe_open_error(errc::permission_denied, "", one_group, std::nullopt, "");
    EXPECT_EQ(here.status, nflog::watch::exit_permission);
    EXPECT_EQ(here.message, "permission denied: watching NFLOG needs CAP_NET_ADMIN (run as root)");
    const auto there = describe_open_error(errc::permission_denied, "web", one_group, std::nullopt, "");
    EXPECT_EQ(there.status, nflog::watch::exit_permission);
    EXPECT_EQ(there.message, "network namespace web: permission denied: entering a network namespace needs "
                             "CAP_SYS_ADMIN (a /proc/PID/ns/net file also the right to trace PID), watching NFLOG "
                             "CAP_NET_ADMIN (run as root)");
}

TEST(describe_open_error, busy_group_named_when_known)
{
    const auto known = describe_open_error(errc::group_busy, "", two_groups, 42, "");
    EXPECT_EQ(known.status, nflog::watch::exit_group_busy);
    EXPECT_EQ(known.message, "NFLOG group 42 is already bound by another program (another nflog-watch? ulogd?)");
    const auto single = describe_open_error(errc::group_busy, "/run/netns/a", one_group, std::nullopt, "");
    EXPECT_EQ(single.message, "network namespace /run/netns/a: NFLOG group 41 is already bound by another program "
                              "(another nflog-watch? ulogd?)");
    const auto unknown = describe_open_error(errc::group_busy, "", two_groups, std::nullopt, "");
    EXPECT_EQ(unknown.message,
              "one of the NFLOG groups 41, 42 is already bound by another program (another nflog-watch? ulogd?)");
}

TEST(describe_open_error, missing_namespace)
{
    const auto failure = describe_open_error(errc::namespace_not_found, "gone", one_group, std::nullopt, "");
    EXPECT_EQ(failure.status, nflog::watch::exit_namespace_not_found);
    EXPECT_EQ(failure.message,
              "--netns gone does not exist or is not a network namespace (ip netns list shows the names)");
}

TEST(describe_open_error, nflog_unavailable)
{
    const auto failure = describe_open_error(errc::nflog_unavailable, "", one_group, std::nullopt, "");
    EXPECT_EQ(failure.status, nflog::watch::exit_nflog_unavailable);
    EXPECT_EQ(failure.message, "nfnetlink_log is not available: no netlink here, or the kernel lacks the "
                               "nfnetlink_log module (modprobe nfnetlink_log)");
}

TEST(describe_open_error, settings_the_kernel_would_not_take_are_a_usage_error)
{
    const auto failure = describe_open_error(errc::invalid_option, "", one_group, std::nullopt, "");
    EXPECT_EQ(failure.status, nflog::watch::exit_usage);
    EXPECT_EQ(failure.message, "the kernel would refuse or ignore these settings (see --help for the ranges)");
    const auto named = describe_open_error(errc::invalid_option, "web", one_group, std::nullopt,
                                           "nlbufsiz: one page to 131072 bytes");
    EXPECT_EQ(named.status, nflog::watch::exit_usage);
    EXPECT_EQ(named.message, "network namespace web: the kernel would refuse or ignore these settings (nlbufsiz: "
                             "one page to 131072 bytes; see --help for the ranges)");
}

TEST(describe_open_error, any_other_kernel_error_keeps_its_text_and_the_kernels_diagnostic)
{
    const boost::system::error_code error(ENOMEM, boost::system::generic_category());
    const auto failure = describe_open_error(error, "web", two_groups, std::nullopt, "no room");
    EXPECT_EQ(failure.status, nflog::watch::exit_kernel_error);
    EXPECT_EQ(failure.message,
              "network namespace web: cannot watch NFLOG groups 41, 42: " + error.message() + " (no room)");
    const auto plain = describe_open_error(error, "", one_group, std::nullopt, "");
    EXPECT_EQ(plain.message, "cannot watch NFLOG groups 41: " + error.message());
}

} // namespace
