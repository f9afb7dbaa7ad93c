#include <nflog/socket.hpp>

#include "nflog_fixture.hpp"

#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
class socket_loss : public nflog_fixture {
protected:
    /// A socket whose receive buffer a flood overruns at once.
    nflog::socket open_tiny(std::vector<std::uint16_t> groups)
    {
        auto opts = options_for(std::move(groups));
        opts.receive_buffer_size = 4096; // the kernel's minimum is about this
        auto opened = nflog::socket::open(io, opts);
        EXPECT_TRUE(opened) << opened.error().message();
        return std::move(opened).value();
    }

    /// Floods group 44 and receives what the kernel kept, overruns and all;
    /// returns the packets received. The gap shows with group 44's next packet.
    static std::size_t overrun_and_take_what_was_kept(nflog::socket& socket, const namespace_socket& udp,
                                                      std::size_t flood)
    {
        udp.send_udp("127.0.0.1", 11, flood);
        std::size_t received = 0;
        for (;;) {
            auto next = socket.try_receive();
            if (next)
                received += next.value().packet_count();
            else if (next.error() != errc::kernel_overrun)
                return received;
        }
    }

    /// The socket's drop count as /proc/net/netlink of its namespace shows
    /// it: the same kernel counter as SO_MEMINFO, read another way.
    long drops_in_proc(nflog::socket& socket) const
    {
        struct stat about {};
        EXPECT_EQ(::fstat(socket.native_socket().native_handle(), &about), 0);
        // sk Eth Pid Groups Rmem Wmem Dump Locks Drops Inode
        const auto drops = netns->exec_output("awk '$10 == " + std::to_string(about.st_ino) +
                                              " { print $9 }' /proc/net/netlink");
        EXPECT_FALSE(drops.empty()) << "socket inode " << about.st_ino << " is not in /proc/net/netlink";
        return drops.empty() ? -1 : std::stol(drops);
    }
};

// A flood against a tiny receive buffer and a consumer that is not reading
// overflows the socket: the kernel drops whole batches and says ENOBUFS.
TEST_F(socket_loss, overruns_are_counted_exactly_and_the_socket_recovers)
{
    auto opts = options_for({44});
    opts.receive_buffer_size = 4096; // the kernel's minimum is about this
    auto opened = nflog::socket::open(io, opts);
    ASSERT_TRUE(opened) << opened.error().message();
    auto watcher = std::move(opened).value();

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    constexpr std::size_t flood = 20000;
    udp.send_udp("127.0.0.1", 11, flood);

    std::size_t received = 0;
    std::size_t overrun_reports = 0;
    auto drain = [&] {
        for (int idle = 0; idle < 20;) {
            auto next = watcher.try_receive();
            if (next) {
                received += next.value().packet_count();
                idle = 0;
                continue;
            }
            if (next.error() == condition::overrun) {
                EXPECT_EQ(next.error(), errc::kernel_overrun);
                ++overrun_reports;
                continue;
            }
            ASSERT_EQ(next.error(), net::error::would_block);
            ++idle;
            ::usleep(5000);
        }
    };
    drain();
    EXPECT_GT(overrun_reports, 0u) << "the flood did not overrun a 4 KiB buffer";
    EXPECT_EQ(watcher.stats().overruns, overrun_reports);
    // Read at each overrun; the kernel drops more while it says nothing new.
    const auto dropped = drops_in_proc(watcher);
    EXPECT_GE(watcher.stats().dropped_datagrams, overrun_reports);
    EXPECT_LE(watcher.stats().dropped_datagrams, static_cast<std::uint64_t>(dropped));

    // A later packet reveals the gap of the batches dropped last.
    udp.send_udp("127.0.0.1", 11, 1);
    drain();
    const auto logged = netns->rule_packets("udp11");
    EXPECT_EQ(logged, static_cast<long>(flood + 1));
    EXPECT_EQ(received + watcher.stats().lost, static_cast<std::size_t>(logged));
    EXPECT_EQ(watcher.stats().packets, received);
    EXPECT_GT(watcher.stats().lost, 0u);

    // The socket keeps working.
    udp.send_udp("127.0.0.1", 11, 3);
    const auto after = collect(watcher, 3);
    EXPECT_EQ(after.size(), 3u);
    watcher.close();
    EXPECT_EQ(watcher.stats().dropped_datagrams, static_cast<std::uint64_t>(dropped));
}

// The events of datagrams dropped after the last one received have no later
// message to count them: `lost` cannot, and `dropped_datagrams` still shows
// that the kernel dropped some.
TEST_F(socket_loss, closing_after_an_overrun_shows_drops_that_lost_cannot_count)
{
    auto socket = open_tiny({44});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    constexpr std::size_t flood = 20000;
    udp.send_udp("127.0.0.1", 11, flood);
    const auto dropped = drops_in_proc(socket);
    ASSERT_GT(dropped, 0) << "the flood did not overrun a 4 KiB buffer";
    EXPECT_EQ(socket.stats().dropped_datagrams, 0u) << "nothing was received yet";
    socket.close();
    const auto counted = socket.stats();
    EXPECT_EQ(netns->rule_packets("udp11"), static_cast<long>(flood));
    EXPECT_LT(counted.discarded + counted.lost, flood) << "every drop was followed by a message";
    // Unbinding may have sent one more batch into the full queue.
    EXPECT_GE(counted.dropped_datagrams, static_cast<std::uint64_t>(dropped));
    EXPECT_LE(counted.dropped_datagrams, static_cast<std::uint64_t>(dropped) + 1);
    EXPECT_GE(counted.overruns, 1u);
}

TEST_F(socket_loss, a_batch_reports_the_events_lost_right_before_it)
{
    auto opts = options_for({44});
    opts.receive_buffer_size = 4096;
    auto opened = nflog::socket::open(io, opts);
    ASSERT_TRUE(opened);
    auto watcher = std::move(opened).value();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 11, 5000);
    std::uint64_t lost_in_batches = 0;
    std::size_t received = 0;
    for (int idle = 0; idle < 20;) {
        auto next = watcher.try_receive();
        if (next) {
            lost_in_batches += next.value().lost_before();
            received += next.value().packet_count();
            idle = 0;
        }
        else if (next.error() != errc::kernel_overrun) {
            ++idle;
            ::usleep(5000);
        }
    }
    udp.send_udp("127.0.0.1", 11, 1);
    auto last = watcher.receive();
    ASSERT_TRUE(last);
    lost_in_batches += last.value().lost_before();
    received += last.value().packet_count();
    EXPECT_EQ(lost_in_batches, watcher.stats().lost);
    EXPECT_EQ(received + lost_in_batches, 5001u);
}

// Closing a socket that did not read counts what was queued for it: nothing
// the kernel delivered vanishes with the descriptor.
TEST_F(socket_loss, closing_counts_what_is_still_queued_as_discarded)
{
    auto socket = open_socket({44});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 11, 50);
    ASSERT_EQ(netns->rule_packets("udp11"), 50);
    socket.close();
    const auto counted = socket.stats();
    EXPECT_EQ(counted.discarded, 50u);
    EXPECT_EQ(counted.datagrams, 50u) << "queue threshold 1: a datagram per event";
    EXPECT_EQ(counted.packets, 0u);
    EXPECT_EQ(counted.lost, 0u);
    EXPECT_EQ(counted.overruns, 0u);
}

// Unbinding makes the kernel send the batch it was still filling, so events
// that never reached the socket's queue are counted too.
TEST_F(socket_loss, closing_counts_the_batch_the_kernel_still_held)
{
    auto opts = options_for({44});
    opts.adaptive_batching = false;
    opts.queue_threshold = 100;
    opts.flush_timeout = std::chrono::minutes(10);
    auto opened = nflog::socket::open(io, opts);
    ASSERT_TRUE(opened) << opened.error().message();
    auto socket = std::move(opened).value();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 11, 5);
    ASSERT_EQ(netns->rule_packets("udp11"), 5);
    const auto nothing_queued = socket.try_receive();
    ASSERT_FALSE(nothing_queued) << "the kernel flushed early";
    ASSERT_EQ(nothing_queued.error(), net::error::would_block);
    socket.close();
    EXPECT_EQ(socket.stats().discarded, 5u);
    EXPECT_EQ(socket.stats().datagrams, 1u);
    EXPECT_EQ(socket.stats().lost, 0u);
}

// A receive that waits consumes nothing: closing completes it with
// operation_aborted and counts the queue as discarded.
TEST_F(socket_loss, closing_with_a_waiting_receive_discards_the_queue_and_aborts_it)
{
    auto socket = open_socket({44});
    std::optional<boost::system::error_code> completed;
    std::size_t delivered = 0;
    socket.async_receive([&](boost::system::error_code error, batch received) {
        completed = error;
        delivered = received.packet_count();
    });
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 11, 3);
    socket.close();
    io.run();
    ASSERT_TRUE(completed.has_value());
    EXPECT_EQ(*completed, net::error::operation_aborted);
    EXPECT_EQ(delivered, 0u);
    EXPECT_EQ(socket.stats().discarded, 3u);
    EXPECT_EQ(socket.stats().packets, 0u);
    EXPECT_EQ(socket.stats().lost, 0u);
}

// A receive started with data queued takes its datagram at once; its
// handler still runs after close() and delivers it. The datagrams after it
// are discarded, and their sequence numbers, which jump over the delivered
// one when close() counts them, must not show that one as lost as well.
TEST_F(socket_loss, a_datagram_taken_before_close_is_delivered_and_counted_once)
{
    auto socket = open_socket({44});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 11, 3);
    std::optional<boost::system::error_code> completed;
    std::size_t delivered = 0;
    socket.async_receive([&](boost::system::error_code error, batch received) {
        completed = error;
        delivered = received.packet_count();
    });
    socket.close();
    io.run();
    ASSERT_TRUE(completed.has_value());
    ASSERT_FALSE(*completed) << "the receive did not take its datagram at once: " << completed->message();
    EXPECT_EQ(delivered, 1u);
    EXPECT_EQ(socket.stats().packets, 1u);
    EXPECT_EQ(socket.stats().discarded, 2u);
    EXPECT_EQ(socket.stats().lost, 0u);
}

// What a synchronous request kept while it waited for its answer is the
// socket's queue as well; a receive posted to hand it out is aborted.
TEST_F(socket_loss, closing_counts_what_a_request_kept_while_it_waited)
{
    auto socket = open_socket({44});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 11, 4);
    group_settings settings;
    settings.flush_timeout = std::chrono::milliseconds(20);
    ASSERT_TRUE(socket.configure(44, settings));
    ASSERT_EQ(socket.stats().datagrams, 0u) << "kept, not yet received";
    std::optional<boost::system::error_code> completed;
    socket.async_receive([&](boost::system::error_code error, batch) { completed = error; });
    socket.close();
    io.run();
    ASSERT_TRUE(completed.has_value());
    EXPECT_EQ(*completed, net::error::operation_aborted);
    EXPECT_EQ(socket.stats().discarded, 4u);
    EXPECT_EQ(socket.stats().packets, 0u);
    EXPECT_EQ(socket.stats().lost, 0u);
}

// A gap that only the queue close() drains reveals is counted even with a
// receive waiting: the receive holds nothing and is aborted, so those events
// were lost.
TEST_F(socket_loss, closing_with_a_waiting_receive_still_counts_the_gaps_it_drains)
{
    auto socket = open_tiny({44});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    constexpr std::size_t flood = 5000;
    const auto received = overrun_and_take_what_was_kept(socket, udp, flood);
    ASSERT_GT(socket.stats().overruns, 0u) << "the flood did not overrun a 4 KiB buffer";
    std::optional<boost::system::error_code> completed;
    socket.async_receive([&](boost::system::error_code error, batch) { completed = error; });
    udp.send_udp("127.0.0.1", 11, 3);
    socket.close();
    io.run();
    ASSERT_TRUE(completed.has_value());
    EXPECT_EQ(*completed, net::error::operation_aborted);
    const auto counted = socket.stats();
    EXPECT_EQ(counted.packets, received);
    EXPECT_EQ(counted.discarded, 3u);
    EXPECT_EQ(counted.packets + counted.lost + counted.discarded, flood + 3);
}

// The datagram a pending receive took before close() gives back only what a
// gap of its own group counted: a gap of another group that the drain
// revealed is a real loss and stays counted.
TEST_F(socket_loss, a_datagram_taken_before_close_takes_back_no_other_groups_loss)
{
    auto socket = open_tiny({41, 44});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    constexpr std::size_t flood = 5000;
    const auto received = overrun_and_take_what_was_kept(socket, udp, flood);
    ASSERT_GT(socket.stats().overruns, 0u) << "the flood did not overrun a 4 KiB buffer";
    // Group 41's packet first, the one the receive takes; then group 44's,
    // whose gap only the drain in close() sees.
    udp.send_udp("127.0.0.1", 9, 1);
    udp.send_udp("127.0.0.1", 11, 1);
    std::optional<boost::system::error_code> completed;
    std::size_t delivered = 0;
    socket.async_receive([&](boost::system::error_code error, batch taken) {
        completed = error;
        delivered = taken.packet_count();
    });
    socket.close();
    io.run();
    ASSERT_TRUE(completed.has_value());
    ASSERT_FALSE(*completed) << "the receive did not take its datagram at once: " << completed->message();
    EXPECT_EQ(delivered, 1u);
    const auto counted = socket.stats();
    EXPECT_EQ(counted.packets, received + 1);
    EXPECT_EQ(counted.discarded, 1u);
    EXPECT_GT(counted.lost, 0u);
    EXPECT_EQ(counted.packets + counted.lost + counted.discarded, flood + 2);
}

} // namespace
