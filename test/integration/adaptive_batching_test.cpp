#include <nflog/socket.hpp>

#include "nflog_fixture.hpp"

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <thread>

namespace {

using namespace nflog;
using namespace nflog::test;

constexpr std::uint16_t flood_group = 44; // the fixture's "udp dport 11" rule
constexpr std::uint16_t held_group = 45;  // "udp dport 12", whose rule holds batches to 8
constexpr std::uint32_t rule_threshold = 8;

/// Sends bounded bursts into the fixture's flood rule and reads between
/// them, keeping what the kernel's batching shows: how many packets each
/// datagram held.
class adaptive_batching : public nflog_fixture {
protected:
    void SetUp() override
    {
        nflog_fixture::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        sender.emplace(netns->path(), AF_INET, SOCK_DGRAM);
    }

    /// The library's defaults, in the fixture's namespace.
    options defaults() const
    {
        options opts;
        opts.groups = {flood_group};
        opts.netns = netns->path();
        return opts;
    }

    nflog::socket open(const options& opts)
    {
        auto opened = nflog::socket::open(io, opts);
        EXPECT_TRUE(opened) << opened.error().message();
        return std::move(opened).value();
    }

    struct drained {
        std::size_t packets = 0;
        std::size_t datagrams = 0;
        std::size_t largest = 0;
    };

    /// Reads until the socket stays empty for a while (the kernel's timer
    /// flushes a partial batch within a few jiffies).
    drained drain(nflog::socket& watcher)
    {
        drained out;
        for (int idle = 0; idle < 20;) {
            auto next = watcher.try_receive();
            if (next) {
                // The kernel's answers to adaptive changes are counted, not handed out.
                EXPECT_GT(next.value().packet_count(), 0u) << "an empty batch was handed out";
                out.packets += next.value().packet_count();
                ++out.datagrams;
                out.largest = std::max(out.largest, next.value().packet_count());
                received += next.value().packet_count();
                idle = 0;
                continue;
            }
            EXPECT_EQ(next.error(), net::error::would_block) << next.error().message();
            ++idle;
            ::usleep(5000);
        }
        return out;
    }

    /// Bursts of `burst` packets, each drained, until `done` or `rounds` ran out.
    template <class Done>
    drained flood(nflog::socket& watcher, std::size_t burst, int rounds, Done done)
    {
        drained total;
        for (int round = 0; round < rounds && !done(); ++round) {
            sent += sender->send_udp("127.0.0.1", 11, burst);
            const auto got = drain(watcher);
            total.packets += got.packets;
            total.datagrams += got.datagrams;
            total.largest = std::max(total.largest, got.largest);
        }
        return total;
    }

    /// Every event the rule logged was received or counted lost.
    void expect_accounted(nflog::socket& watcher)
    {
        // A last packet reveals any gap at the end of the flood.
        sender->send_udp("127.0.0.1", 11, 1);
        drain(watcher);
        EXPECT_EQ(static_cast<long>(received + watcher.stats().lost), netns->rule_packets("udp11"));
    }

    std::optional<namespace_socket> sender;
    std::size_t sent = 0;
    std::size_t received = 0;
};

TEST_F(adaptive_batching, binds_with_one_event_per_datagram)
{
    auto watcher = open(defaults());
    const auto status = watcher.batching(flood_group);
    EXPECT_TRUE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 1u);
    EXPECT_EQ(status.changes, 0u);
    sender->send_udp("127.0.0.1", 11, 3);
    const auto got = drain(watcher);
    EXPECT_EQ(got.packets, 3u);
    EXPECT_EQ(got.largest, 1u);
}

// The socket binds with qthresh 1, so a datagram of several packets proves
// that the kernel took a larger threshold from the receive path; and after a
// quiet spell a burst arrives one packet per datagram again.
TEST_F(adaptive_batching, a_flood_grows_the_kernels_batches_and_quiet_shrinks_them)
{
    auto watcher = open(defaults());
    const auto grown = flood(watcher, 4000, 50, [&] { return watcher.batching(flood_group).queue_threshold > 1; });
    const auto raised = watcher.batching(flood_group);
    ASSERT_GT(raised.queue_threshold, 1u) << "a flood of " << sent << " events never raised the threshold";
    EXPECT_GE(raised.changes, 1u);
    EXPECT_TRUE(raised.adaptive);
    EXPECT_FALSE(raised.error);
    EXPECT_GE(grown.packets, 1u);

    // Now the kernel batches: a burst comes in datagrams of several packets.
    const auto batched = flood(watcher, 4000, 1, [] { return false; });
    EXPECT_GT(batched.largest, 1u);
    EXPECT_LE(batched.largest, static_cast<std::size_t>(std::max(raised.queue_threshold,
                                                                  watcher.batching(flood_group).queue_threshold)));
    EXPECT_LT(batched.datagrams, batched.packets);

    // Quiet, then single probes 100 ms apart: each one arrives after a quiet
    // window, until the socket has gone back to one event per datagram.
    for (int probe = 0; probe < 20 && watcher.batching(flood_group).queue_threshold > 1; ++probe) {
        ::usleep(100000);
        sender->send_udp("127.0.0.1", 11, 1);
        sent += 1;
        const auto got = collect(watcher, 1);
        received += got.size();
    }
    ASSERT_EQ(watcher.batching(flood_group).queue_threshold, 1u) << "the socket never went back after the flood";
    const auto calm = flood(watcher, 10, 1, [] { return false; });
    EXPECT_EQ(calm.packets, 10u);
    EXPECT_EQ(calm.largest, 1u) << "the kernel still batches";

    EXPECT_EQ(watcher.stats().overruns, 0u);
    expect_accounted(watcher);
}

// A burst can end at any moment, and its last partial batch then waits for
// the kernel's timer: a burst of 1000 may earn batches of 4 (1000 / 128),
// however fast it came. The bursts are read after they were sent, back to
// back, so each asks for more.
TEST_F(adaptive_batching, a_burst_earns_only_batches_its_length_allows)
{
    auto watcher = open(defaults());
    std::uint32_t highest = 1;
    for (int round = 0; round < 10; ++round) {
        sent += sender->send_udp("127.0.0.1", 11, 1000);
        const auto got = drain(watcher);
        const auto status = watcher.batching(flood_group);
        highest = std::max(highest, status.queue_threshold);
        EXPECT_LE(status.queue_threshold, 4u) << "after burst " << round;
        EXPECT_LE(got.largest, 4u) << "burst " << round;
    }
    EXPECT_GT(highest, 1u) << "no burst asked for batches: the reader was too slow to tell";
    EXPECT_EQ(watcher.stats().overruns, 0u);
    expect_accounted(watcher);
}

// Bursts of 1001: the last partial batch of each waits for the kernel's
// timer, and once the kernel acknowledged the threshold in force, the socket
// sees that. Each answer is a datagram of its own, which `drain` never sees.
TEST_F(adaptive_batching, the_end_of_a_burst_is_seen_as_a_timer_flush)
{
    auto watcher = open(defaults());
    std::size_t handed_out = 0;
    for (int round = 0; round < 30 && watcher.batching(flood_group).timer_flushes == 0; ++round) {
        sent += sender->send_udp("127.0.0.1", 11, 1001);
        handed_out += drain(watcher).datagrams;
    }
    const auto status = watcher.batching(flood_group);
    EXPECT_GE(status.changes, 1u) << "no burst asked for batches: the reader was too slow to tell";
    EXPECT_GE(status.timer_flushes, 1u);
    EXPECT_TRUE(status.adaptive);
    EXPECT_FALSE(status.error);
    EXPECT_EQ(watcher.stats().datagrams - handed_out, status.changes)
        << "one answer per change, counted among the datagrams and not handed out";
    expect_accounted(watcher);
}

// The answers to the changes reach the socket among the data; an
// asynchronous receive goes on past them instead of completing empty.
TEST_F(adaptive_batching, an_asynchronous_receive_hands_out_no_answer)
{
    auto watcher = open(defaults());
    std::size_t handed_out = 0;
    std::size_t empty = 0;
    // Reads until nothing came for 100 ms. The timer is not moved per
    // datagram: that would slow the reader down too far to ask for batches.
    const auto read_all = [&] {
        net::steady_timer idle(io);
        std::size_t seen_at_check = handed_out;
        std::function<void()> check = [&] {
            idle.expires_after(std::chrono::milliseconds(100));
            idle.async_wait([&](boost::system::error_code error) {
                if (error)
                    return;
                if (handed_out == seen_at_check)
                    return watcher.cancel();
                seen_at_check = handed_out;
                check();
            });
        };
        std::function<void()> next = [&] {
            watcher.async_receive([&](boost::system::error_code error, batch received) {
                if (error) {
                    EXPECT_EQ(error, net::error::operation_aborted) << error.message();
                    return;
                }
                ++handed_out;
                if (received.packet_count() == 0)
                    ++empty;
                this->received += received.packet_count();
                next();
            });
        };
        check();
        next();
        io.restart();
        io.run();
    };
    for (int round = 0; round < 40 && watcher.batching(flood_group).changes < 2; ++round) {
        sent += sender->send_udp("127.0.0.1", 11, 2000);
        read_all();
    }
    const auto status = watcher.batching(flood_group);
    ASSERT_GE(status.changes, 1u) << "no burst asked for batches: the reader was too slow to tell";
    EXPECT_EQ(empty, 0u);
    EXPECT_EQ(watcher.stats().datagrams - handed_out, status.changes)
        << "one answer per change, counted and not handed out";
    EXPECT_EQ(watcher.stats().overruns, 0u);
    expect_accounted(watcher);
}

// A rule's own queue threshold, lower than the socket's, wins in the kernel,
// and the socket cannot see it. Once the socket's threshold is well above
// the rule's, the rule's full batches look timer-sent, and the socket halves
// its own back: it stays near the rule's instead of climbing to a flood's.
TEST_F(adaptive_batching, a_rules_own_threshold_keeps_the_socket_near_it)
{
    auto opts = defaults();
    opts.groups = {held_group};
    // So that the rate one sender reaches here asks for batches far above the rule's.
    opts.batching_rate = 10000;
    auto watcher = open(opts);
    std::size_t largest = 0;
    std::uint32_t highest = 1;
    for (int round = 0; round < 2; ++round) {
        std::atomic<bool> sending = true;
        std::thread flooder([&] {
            sent += sender->send_udp("127.0.0.1", 12, 100000);
            sending = false;
        });
        for (int idle = 0; sending || idle < 20;) {
            auto next = watcher.try_receive();
            if (!next) {
                ++idle;
                ::usleep(1000);
                continue;
            }
            idle = 0;
            largest = std::max(largest, next.value().packet_count());
            received += next.value().packet_count();
            highest = std::max(highest, watcher.batching(held_group).queue_threshold);
        }
        flooder.join();
    }
    const auto status = watcher.batching(held_group);
    EXPECT_LE(largest, rule_threshold) << "the kernel batched past the rule's threshold";
    EXPECT_GE(status.timer_flushes, 1u) << "the rule's batches were never taken for the timer's";
    // An overrun raises the batches at once (and a slow build may see some).
    if (watcher.stats().overruns == 0) {
        EXPECT_LE(highest, 4 * rule_threshold) << "the socket's batches climbed away from the rule's";
    }
    EXPECT_TRUE(status.adaptive);
    sender->send_udp("127.0.0.1", 12, 1);
    drain(watcher);
    EXPECT_EQ(static_cast<long>(received + watcher.stats().lost), netns->rule_packets("udp12"));
}

TEST_F(adaptive_batching, fixed_batching_is_left_alone)
{
    auto opts = defaults();
    opts.adaptive_batching = false;
    opts.queue_threshold = 1;
    auto watcher = open(opts);
    const auto got = flood(watcher, 4000, 3, [] { return false; });
    EXPECT_EQ(got.largest, 1u);
    const auto status = watcher.batching(flood_group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 1u);
    EXPECT_EQ(status.changes, 0u);
    expect_accounted(watcher);
}

TEST_F(adaptive_batching, configure_takes_the_batching_over)
{
    auto watcher = open(defaults());
    flood(watcher, 4000, 50, [&] { return watcher.batching(flood_group).queue_threshold > 1; });
    ASSERT_GT(watcher.batching(flood_group).queue_threshold, 1u);

    group_settings settings;
    settings.queue_threshold = 1;
    ASSERT_TRUE(watcher.configure(flood_group, settings));
    drain(watcher);
    const auto status = watcher.batching(flood_group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 1u);

    // However hard the flood, the socket no longer changes what was set.
    const auto changes = status.changes;
    const auto got = flood(watcher, 4000, 3, [] { return false; });
    EXPECT_EQ(got.largest, 1u);
    EXPECT_EQ(watcher.batching(flood_group).changes, changes);
    expect_accounted(watcher);
}

// Setting the threshold alone must not leave the buffer size at what a
// quiet time had chosen (a page): the kernel would then flush at the page,
// long before the threshold set. The buffer goes back to the options' size.
TEST_F(adaptive_batching, configure_with_the_threshold_alone_sends_the_options_buffer_size)
{
    auto opts = defaults();
    auto watcher = open(opts);
    ASSERT_LT(watcher.batching(flood_group).nlbufsiz, 8192u) << "a quiet group starts with a small buffer";

    group_settings settings;
    settings.queue_threshold = 50;
    settings.flush_timeout = std::chrono::seconds(60);
    ASSERT_TRUE(watcher.configure(flood_group, settings));
    const auto status = watcher.batching(flood_group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 50u);
    EXPECT_EQ(status.nlbufsiz, opts.nlbufsiz);

    // Fifty events of about 150 bytes each: one datagram only if the
    // kernel's buffer holds more than a page.
    sender->send_udp("127.0.0.1", 11, 50);
    auto received = watcher.receive();
    ASSERT_TRUE(received) << received.error().message();
    EXPECT_EQ(received.value().packet_count(), 50u);
}

// The buffer size alone keeps the threshold adaptation had reached: the
// options' threshold is the ceiling, with which every quiet event would
// wait for the flush timer.
TEST_F(adaptive_batching, configure_with_the_buffer_size_alone_keeps_the_threshold_reached)
{
    auto watcher = open(defaults());
    ASSERT_EQ(watcher.batching(flood_group).queue_threshold, 1u) << "a quiet group starts with one event per datagram";
    group_settings settings;
    settings.nlbufsiz = 65536;
    ASSERT_TRUE(watcher.configure(flood_group, settings));
    const auto status = watcher.batching(flood_group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 1u);
    EXPECT_EQ(status.nlbufsiz, 65536u);
}

TEST_F(adaptive_batching, the_ceiling_is_the_queue_threshold_option)
{
    auto opts = defaults();
    opts.queue_threshold = 2;
    auto watcher = open(opts);
    const auto got = flood(watcher, 4000, 5, [] { return false; });
    EXPECT_LE(got.largest, 2u);
    EXPECT_LE(watcher.batching(flood_group).queue_threshold, 2u);
    expect_accounted(watcher);
}

} // namespace
