#include <nflog/options.hpp>

#include <nflog/error.hpp>

#include <gtest/gtest.h>

#include <unistd.h>

namespace {

using namespace nflog;

options valid()
{
    options opts;
    opts.groups = {1};
    return opts;
}

TEST(options, defaults_are_valid)
{
    EXPECT_TRUE(validate(valid()));
    auto no_group = valid();
    no_group.groups.clear();
    EXPECT_EQ(validate(no_group).error(), errc::no_group);
}

TEST(options, values_the_kernel_would_ignore_are_refused)
{
    const auto refused = [](auto change) {
        auto opts = valid();
        change(opts);
        const auto checked = validate(opts);
        return !checked && checked.error() == errc::invalid_option;
    };
    EXPECT_TRUE(refused([](options& o) { o.groups = {3, 3}; }));
    EXPECT_TRUE(refused([](options& o) { o.mode = static_cast<copy_mode>(9); }));
    EXPECT_TRUE(refused([](options& o) { o.copy_range = 0; }));
    EXPECT_TRUE(refused([](options& o) { o.copy_range = options::max_copy_range + 1; }));
    EXPECT_TRUE(refused([](options& o) { o.nlbufsiz = options::max_nlbufsiz + 1; }));
    EXPECT_TRUE(refused([](options& o) { o.nlbufsiz = 1024; }));
    EXPECT_TRUE(refused([](options& o) { o.queue_threshold = 0; }));
    EXPECT_TRUE(refused([](options& o) { o.flush_timeout = std::chrono::milliseconds(-1); }));
    EXPECT_TRUE(refused([](options& o) { o.flush_timeout = options::max_flush_timeout + std::chrono::milliseconds(1); }));
    EXPECT_TRUE(refused([](options& o) {
        o.netns = "x";
        o.netns_fd = 3;
    }));
    EXPECT_TRUE(refused([](options& o) { o.netns_fd = -2; }));
    EXPECT_FALSE(refused([](options& o) { o.netns_fd = -1; }));
    // A copy range only matters when packets are copied.
    EXPECT_FALSE(refused([](options& o) {
        o.mode = copy_mode::meta;
        o.copy_range = 0;
    }));
    EXPECT_FALSE(refused([](options& o) { o.nlbufsiz = options::max_nlbufsiz; }));
    EXPECT_FALSE(refused([](options& o) { o.flush_timeout = options::max_flush_timeout; }));
}

// What open() and configure() put in their diagnostic for invalid_option.
TEST(options, a_refusal_names_its_field)
{
    EXPECT_EQ(invalid_option_reason(valid()), "");
    EXPECT_EQ(invalid_option_reason(group_settings{}), "");
    group_settings settings;
    settings.mode = copy_mode::packet;
    settings.copy_range = options::max_copy_range + 1;
    EXPECT_EQ(invalid_option_reason(settings), "copy_range: 1 to 65531 bytes when copying packets");
    settings.copy_range = options::max_copy_range;
    EXPECT_EQ(invalid_option_reason(settings), "");
    settings.flush_timeout = options::max_flush_timeout + std::chrono::milliseconds(1);
    EXPECT_EQ(invalid_option_reason(settings), "flush_timeout: 0 to 42949670 ms");
    settings.flush_timeout.reset();
    settings.nlbufsiz = 1024;
    EXPECT_EQ(invalid_option_reason(settings), "nlbufsiz: one page to 131072 bytes");
    // The first field at fault is named; the options' own fields come after
    // those they share with group_settings.
    auto opts = valid();
    opts.queue_threshold = 0;
    opts.batching_rate = 0;
    EXPECT_EQ(invalid_option_reason(opts), "queue_threshold: at least 1");
    opts.queue_threshold = 1;
    EXPECT_EQ(invalid_option_reason(opts), "batching_rate: at least 1 event per second");
}

TEST(options, the_receive_buffer_holds_the_largest_datagram)
{
    auto opts = valid();
    opts.nlbufsiz = options::max_nlbufsiz;
    // The kernel's allocation for a full batch can nearly double nlbufsiz.
    EXPECT_GE(datagram_capacity(opts), 2u * options::max_nlbufsiz);
    opts.nlbufsiz = 4096;
    opts.copy_range = options::max_copy_range;
    EXPECT_GE(datagram_capacity(opts), 2u * options::max_copy_range) << "one whole copied packet, rounded up";
    EXPECT_EQ(datagram_capacity(opts) % 4096, 0u);
}

} // namespace
