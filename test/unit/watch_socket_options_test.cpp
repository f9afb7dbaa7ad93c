#include "socket_options.hpp"

#include <gtest/gtest.h>

#include <chrono>

namespace {

using nflog::watch::socket_options;

void expect_library_defaults_but_groups_and_netns(const nflog::options& actual)
{
    const nflog::options defaults;
    EXPECT_EQ(actual.mode, defaults.mode);
    EXPECT_EQ(actual.copy_range, defaults.copy_range);
    EXPECT_EQ(actual.nlbufsiz, defaults.nlbufsiz);
    EXPECT_EQ(actual.flush_timeout, defaults.flush_timeout);
    EXPECT_EQ(actual.queue_threshold, defaults.queue_threshold);
    EXPECT_EQ(actual.sequence_numbers, defaults.sequence_numbers);
    EXPECT_EQ(actual.global_sequence_numbers, defaults.global_sequence_numbers);
    EXPECT_EQ(actual.conntrack, defaults.conntrack);
    EXPECT_EQ(actual.receive_buffer_size, defaults.receive_buffer_size);
    EXPECT_EQ(actual.netns_fd, defaults.netns_fd);
}

TEST(socket_options, no_flag_keeps_every_library_default)
{
    nflog::watch::options opts;
    opts.groups = {5, 9};
    const auto result = socket_options(opts, "web");
    EXPECT_EQ(result.groups, (std::vector<std::uint16_t>{5, 9}));
    EXPECT_EQ(result.netns, "web");
    expect_library_defaults_but_groups_and_netns(result);
    EXPECT_EQ(socket_options(opts, "").netns, "");
}

TEST(socket_options, flags_replace_their_fields_only)
{
    nflog::watch::options opts;
    opts.groups = {5};
    opts.copy_range = 96;
    opts.kernel.receive_buffer = 0;
    opts.kernel.queue_threshold = 1;
    opts.kernel.timeout = std::chrono::milliseconds(0);
    opts.kernel.nlbufsiz = 16384;
    const auto result = socket_options(opts, "");
    EXPECT_EQ(result.mode, nflog::copy_mode::packet);
    EXPECT_EQ(result.copy_range, 96u);
    EXPECT_EQ(result.receive_buffer_size, 0u);
    EXPECT_EQ(result.queue_threshold, 1u);
    EXPECT_EQ(result.flush_timeout, std::chrono::milliseconds(0));
    EXPECT_EQ(result.nlbufsiz, 16384u);
    EXPECT_TRUE(nflog::validate(result));
}

TEST(socket_options, copy_range_zero_is_metadata_only)
{
    nflog::watch::options opts;
    opts.groups = {5};
    opts.copy_range = 0;
    const auto result = socket_options(opts, "");
    EXPECT_EQ(result.mode, nflog::copy_mode::meta);
    EXPECT_TRUE(nflog::validate(result));
}

} // namespace
