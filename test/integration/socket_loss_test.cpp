#include <nflog/socket.hpp>

#include "nflog_fixture.hpp"

#include <sys/socket.h>
#include <unistd.h>

namespace {

using namespace nflog;
using namespace nflog::test;
using socket_loss = nflog_fixture;

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

} // namespace
