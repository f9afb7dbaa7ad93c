#include <nflog/watcher.hpp>

#include "watcher_fixture.hpp"
#include "support/counting_allocator.hpp"
#include "support/steady_state_run.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/channel_error.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;
using boost::system::error_code;
namespace channel_error = boost::asio::experimental::error;

using packet_consumer = channel_consumer<packet_channel, batch>;

/// The sequence numbers of every packet the consumer received, in order.
std::vector<std::uint32_t> sequence_numbers(const packet_consumer& reader)
{
    std::vector<std::uint32_t> out;
    for (const auto& [error, received] : reader.messages)
        for (const auto& item : received)
            out.push_back(item ? item.value().seq().value_or(9999) : 8888);
    return out;
}

class packet_watcher_test : public watcher_fixture {
protected:
    packet_watcher open_watcher(const options& opts, packet_channel& into, source_id source)
    {
        return packet_watcher(open_with(opts), into, source);
    }

    packet_channel channel{io, 8};
};

TEST_F(packet_watcher_test, a_datagram_arrives_whole_with_its_source)
{
    constexpr std::uint32_t count = 150;
    auto watcher = open_watcher(one_datagram_of(count), channel, 6);
    watcher.async_run(record_run());
    packet_consumer reader(channel);
    reader.start();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, count);

    ASSERT_TRUE(run_until([&] { return reader.events >= count; }));
    ASSERT_EQ(reader.messages.size(), 1u);
    const auto& [error, received] = reader.messages.front();
    EXPECT_FALSE(error) << error.message();
    EXPECT_EQ(received.source(), 6u);
    EXPECT_EQ(received.packet_count(), count);
    EXPECT_EQ(received.malformed(), 0u);
    EXPECT_FALSE(received.truncated());
    EXPECT_EQ(sequence_numbers(reader), count_from(0, count));
    for (const auto& item : received) {
        ASSERT_TRUE(item) << item.error().message();
        EXPECT_EQ(item.value().group(), 41);
        EXPECT_EQ(item.value().prefix(), "DENIED udp");
        const auto flow = inet::decode(item.value().payload(), item.value().hw_protocol(), item.value().family());
        EXPECT_EQ(flow.dst_port, 9);
    }
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    const auto stats = watcher.stats();
    EXPECT_EQ(stats.events, count);
    EXPECT_EQ(stats.reports, 0u);
    EXPECT_EQ(stats.discarded, 0u);
    EXPECT_EQ(stats.socket.packets, count);
}

// Backpressure: every logged packet is received or counted lost, every
// overrun is reported, and the batches the consumer kept stay readable.
TEST_F(packet_watcher_test, a_full_channel_turns_into_counted_kernel_overruns)
{
    constexpr std::size_t flood = 20000;
    packet_channel small(io, 2);
    auto opts = options_for({44});
    opts.receive_buffer_size = 4096;
    auto watcher = open_watcher(opts, small, 5);
    watcher.async_run(record_run());

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    send_flood(udp, flood);
    EXPECT_TRUE(watcher.is_running());

    packet_consumer reader(small);
    reader.start();
    run_until_quiet();
    const auto logged = reveal_the_last_gap(udp, flood, [&] { return reader.events + watcher.stats().socket.lost; });
    EXPECT_EQ(netns->rule_packets("udp11"), static_cast<long>(logged));

    const auto stats = watcher.stats();
    EXPECT_EQ(reader.events + stats.socket.lost, logged);
    EXPECT_GT(stats.socket.overruns, 0u) << "the flood did not overrun a 4 KiB buffer";
    EXPECT_EQ(reader.reports[make_error_code(errc::kernel_overrun)], stats.socket.overruns);
    EXPECT_EQ(reader.reports.size(), 1u) << "only overruns were expected";
    std::uint64_t lost_before = 0;
    std::size_t readable = 0;
    for (const auto& [error, received] : reader.messages) {
        EXPECT_EQ(received.source(), 5u);
        if (error) {
            EXPECT_EQ(received.begin(), received.end());
        }
        lost_before += received.lost_before();
        for (const auto& item : received)
            readable += item && item.value().prefix() == "DENIED flood";
    }
    EXPECT_EQ(readable, reader.events);
    EXPECT_EQ(lost_before, stats.socket.lost);
    EXPECT_EQ(stats.events, reader.events);
    EXPECT_EQ(stats.reports, stats.socket.overruns);
    EXPECT_EQ(stats.discarded, 0u);
}

TEST_F(packet_watcher_test, cancel_keeps_what_was_taken_and_the_next_run_resumes)
{
    packet_channel single(io, 1);
    nflog::packet_watcher watcher(open_socket({41}), single, 0);
    watcher.async_run(record_run());
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 5);
    // One datagram in the channel, the second waiting in the watcher.
    run_until_quiet();
    EXPECT_EQ(watcher.stats().events, 1u);

    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);

    packet_consumer reader(single);
    reader.start();
    run_result.reset();
    watcher.async_run(record_run());
    ASSERT_TRUE(run_until([&] { return reader.events >= 5; }));
    EXPECT_EQ(sequence_numbers(reader), count_from(0, 5));
    EXPECT_EQ(watcher.stats().events, 5u);
    EXPECT_EQ(watcher.stats().socket.lost, 0u);
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
}

// The channel holds the socket's buffer; the next receive needs another,
// and finds no memory for it: the run ends with ENOMEM, having read nothing,
// and the next run delivers what came meanwhile.
TEST_F(packet_watcher_test, a_run_without_memory_for_a_receive_buffer_ends_and_loses_nothing)
{
    const auto opts = options_for({41});
    nflog::packet_watcher watcher(open_with(opts), channel, 0);
    watcher.async_run(record_run());
    run_until_quiet(); // the receive waits, with the pool's buffer
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    {
        failing_allocations no_buffer(datagram_capacity(opts));
        udp.send_udp("127.0.0.1", 9, 1);
        ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
        EXPECT_EQ(no_buffer.failed(), 1u);
    }
    EXPECT_EQ(*run_result, error_code(ENOMEM, boost::system::generic_category()));
    EXPECT_EQ(watcher.stats().events, 1u) << "the first datagram went into the channel";

    udp.send_udp("127.0.0.1", 9, 1);
    packet_consumer reader(channel);
    reader.start();
    run_result.reset();
    watcher.async_run(record_run());
    ASSERT_TRUE(run_until([&] { return reader.events >= 2; }));
    EXPECT_EQ(sequence_numbers(reader), count_from(0, 2));
    EXPECT_EQ(watcher.stats().socket.lost, 0u);
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
}

TEST_F(packet_watcher_test, close_counts_the_packets_it_held_as_discarded)
{
    constexpr std::uint32_t count = 30;
    packet_channel single(io, 1);
    auto watcher = open_watcher(one_datagram_of(count), single, 0);
    watcher.async_run(record_run());
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    // Two datagrams: one goes into the channel, the other waits in the watcher.
    udp.send_udp("127.0.0.1", 9, 2 * count);
    ASSERT_TRUE(run_until([&] { return watcher.stats().events > 0; }));
    run_until_quiet();
    EXPECT_EQ(watcher.stats().events, count);

    watcher.close();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_EQ(watcher.stats().discarded, count);

    // The datagram in the channel outlives its socket.
    std::size_t drained = 0;
    while (single.try_receive([&](error_code error, batch received) {
        EXPECT_FALSE(error);
        drained += received.packet_count();
        EXPECT_EQ(received.begin()->value().seq(), 0u);
    })) {
    }
    EXPECT_EQ(drained, count);
}

TEST_F(packet_watcher_test, the_packet_path_allocates_nothing_per_event)
{
    constexpr std::uint32_t per_datagram = 100;
    auto watcher = open_watcher(one_datagram_of(per_datagram), channel, 0);
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    steady_state_run probe(io, udp, per_datagram, 5, 50);
    std::size_t events = 0;
    // The consumer drops each batch at once, so its buffer goes back to the pool.
    std::function<void()> receive = [&] {
        channel.async_receive([&](error_code error, batch received) {
            if (error)
                return;
            events += received.packet_count();
            if (probe.received(events))
                return watcher.cancel();
            receive();
        });
    };
    receive();
    watcher.async_run(record_run());
    probe.run();
    ASSERT_FALSE(probe.gave_up()) << "events stopped arriving after " << events;
    ASSERT_TRUE(probe.allocations().has_value());
    EXPECT_EQ(*probe.allocations(), 0u);
    EXPECT_EQ(events, 55u * per_datagram);
    EXPECT_EQ(run_result, net::error::operation_aborted);
}

} // namespace
