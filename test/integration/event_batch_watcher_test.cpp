#include <nflog/watcher.hpp>

#include "watcher_fixture.hpp"
#include "support/counting_allocator.hpp"
#include "support/steady_state_run.hpp"

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <type_traits>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;
using boost::system::error_code;
namespace channel_error = boost::asio::experimental::error;

using batch_consumer = channel_consumer<event_batch_channel, event_batch>;

/// The sequence numbers of every event the consumer received, in order.
std::vector<std::uint32_t> sequence_numbers(const batch_consumer& reader)
{
    std::vector<std::uint32_t> out;
    for (const auto& [error, events] : reader.messages)
        for (const auto& item : events)
            out.push_back(item.seq.value_or(9999));
    return out;
}

class event_batch_watcher_test : public watcher_fixture {
protected:
    event_batch_watcher open_watcher(const options& opts, event_batch_channel& into, source_id source)
    {
        return event_batch_watcher(open_with(opts), into, source);
    }

    /// A run started now delivers the `count` events the watcher holds or
    /// has yet to take, in order and with nothing lost; then it is cancelled.
    template <class Watcher>
    void expect_the_next_run_to_deliver(Watcher& watcher, event_batch_channel& from, std::uint32_t count)
    {
        batch_consumer reader(from);
        reader.start();
        run_result.reset();
        watcher.async_run(record_run());
        ASSERT_TRUE(run_until([&] { return reader.events >= count; }));
        EXPECT_EQ(sequence_numbers(reader), count_from(0, count));
        EXPECT_EQ(watcher.stats().socket.lost, 0u);
        EXPECT_EQ(watcher.stats().events, count);
        watcher.cancel();
        ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    }

    event_batch_channel channel{io, 16};
};

TEST_F(event_batch_watcher_test, a_datagram_arrives_in_batches_of_at_most_max_size)
{
    constexpr std::uint32_t count = 2 * event_batch::max_size + 22;
    auto watcher = open_watcher(one_datagram_of(count), channel, 6);
    watcher.async_run(record_run());
    batch_consumer reader(channel);
    reader.start();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, count);

    ASSERT_TRUE(run_until([&] { return reader.events >= count; }));
    EXPECT_EQ(watcher.stats().socket.datagrams, 1u) << "the kernel was to send one datagram";
    ASSERT_EQ(reader.messages.size(), 3u);
    EXPECT_EQ(reader.messages[0].value.size(), event_batch::max_size);
    EXPECT_EQ(reader.messages[1].value.size(), event_batch::max_size);
    EXPECT_EQ(reader.messages[2].value.size(), 22u);
    EXPECT_EQ(sequence_numbers(reader), count_from(0, count));
    for (const auto& [error, batch] : reader.messages) {
        EXPECT_FALSE(error) << error.message();
        EXPECT_EQ(batch.source(), 6u);
        for (const auto& item : batch) {
            EXPECT_EQ(item.source, 6u);
            EXPECT_EQ(item.group, 41);
            EXPECT_EQ(item.prefix(), "DENIED udp");
            EXPECT_EQ(item.action, "blocked_connection");
            EXPECT_EQ(item.flow.dst.to_string(), "127.0.0.1");
            EXPECT_EQ(item.flow.dst_port, 9);
        }
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

TEST_F(event_batch_watcher_test, at_a_low_rate_every_event_comes_at_once_in_a_batch_of_its_own)
{
    event_batch_watcher watcher(open_socket({41, 42}), channel, 1);
    watcher.async_run(record_run());
    batch_consumer reader(channel);
    reader.start();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    namespace_socket tcp(netns->path(), AF_INET, SOCK_STREAM);
    udp.send_udp("127.0.0.1", 9, 1);
    ASSERT_TRUE(run_until([&] { return reader.events >= 1; }));
    tcp.connect_tcp("127.0.0.1", 22);
    ASSERT_TRUE(run_until([&] { return reader.events >= 2; }));
    ASSERT_EQ(reader.messages.size(), 2u);
    EXPECT_EQ(reader.messages[0].value.size(), 1u);
    EXPECT_EQ(reader.messages[0].value[0].group, 41);
    EXPECT_EQ(reader.messages[1].value.size(), 1u);
    EXPECT_EQ(reader.messages[1].value[0].group, 42);
    EXPECT_EQ(reader.messages[1].value[0].flow.dst_port, 22);
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
}

// Backpressure, as with a channel of single events: every logged packet is
// received or counted lost, and every overrun is reported.
TEST_F(event_batch_watcher_test, a_full_channel_turns_into_counted_kernel_overruns)
{
    constexpr std::size_t capacity = 2;
    constexpr std::size_t flood = 20000;
    event_batch_channel small(io, capacity);
    auto opts = options_for({44});
    opts.receive_buffer_size = 4096;
    auto watcher = open_watcher(opts, small, 5);
    watcher.async_run(record_run());

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    send_flood(udp, flood);
    EXPECT_EQ(small.is_open(), true);
    EXPECT_TRUE(watcher.is_running());

    batch_consumer reader(small);
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
    for (const auto& [error, batch] : reader.messages) {
        EXPECT_EQ(batch.source(), 5u);
        if (error) {
            EXPECT_EQ(error, condition::overrun);
            EXPECT_TRUE(batch.empty());
        }
        else {
            EXPECT_FALSE(batch.empty());
        }
        for (const auto& item : batch)
            lost_before += item.lost_before;
    }
    EXPECT_EQ(lost_before, stats.socket.lost);
    EXPECT_EQ(stats.events, reader.events);
    EXPECT_EQ(stats.reports, stats.socket.overruns);
    EXPECT_EQ(stats.discarded, 0u);
    EXPECT_FALSE(run_result.has_value());
}

TEST_F(event_batch_watcher_test, cancel_keeps_what_was_taken_and_the_next_run_resumes)
{
    constexpr std::uint32_t count = 2 * event_batch::max_size + 22;
    event_batch_channel single(io, 1);
    auto watcher = open_watcher(one_datagram_of(count), single, 0);
    watcher.async_run(record_run());
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, count);
    // One batch in the channel, the second waiting in the watcher to be
    // sent, the rest of the datagram behind it.
    ASSERT_TRUE(run_until([&] { return watcher.stats().events > 0; }));
    run_until_quiet();
    EXPECT_EQ(watcher.stats().events, event_batch::max_size);

    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_EQ(watcher.stats().events, event_batch::max_size);

    expect_the_next_run_to_deliver(watcher, single, count);
}

// The converting move takes the batch being written and the one waiting to
// be sent with it, as `as_default_on` does it.
TEST_F(event_batch_watcher_test, as_default_on_takes_over_what_the_watcher_holds)
{
    constexpr std::uint32_t count = 2 * event_batch::max_size + 22;
    event_batch_channel single(io, 1);
    auto watcher = open_watcher(one_datagram_of(count), single, 3);
    watcher.async_run(record_run());
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, count);
    ASSERT_TRUE(run_until([&] { return watcher.stats().events > 0; }));
    run_until_quiet();
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));

    auto awaiting = net::use_awaitable.as_default_on(std::move(watcher));
    static_assert(std::is_same_v<decltype(awaiting)::executor_type,
                                 net::use_awaitable_t<>::executor_with_default<net::any_io_executor>>);
    EXPECT_EQ(awaiting.source(), 3u);
    EXPECT_EQ(awaiting.stats().events, event_batch::max_size);
    expect_the_next_run_to_deliver(awaiting, single, count);
}

// A new block of events cannot be made: the run ends with ENOMEM instead
// of leaving the watcher running for good, and nothing it took is lost.
TEST_F(event_batch_watcher_test, memory_that_runs_out_ends_the_run_and_the_next_run_resumes)
{
    // More events than one block holds. A waiting run holds no block: the
    // first is made when the datagram comes, and cannot be.
    constexpr std::uint32_t count = event_batch::max_size + 1;
    auto watcher = open_watcher(one_datagram_of(count), channel, 0);
    watcher.async_run(record_run());
    run_until_quiet();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, count);
    {
        failing_allocations no_blocks(sizeof(detail::event_block));
        ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
        EXPECT_EQ(no_blocks.failed(), 1u);
    }
    EXPECT_EQ(*run_result, boost::system::error_code(ENOMEM, boost::system::generic_category()));
    EXPECT_FALSE(watcher.is_running());
    EXPECT_EQ(watcher.stats().events, 0u);
    EXPECT_EQ(watcher.stats().socket.packets, count) << "the datagram was taken; its events are held";

    expect_the_next_run_to_deliver(watcher, channel, count);
}

// The socket cannot keep a datagram's parse: that receive fails with
// receive_out_of_memory (an overrun to a reader), the socket goes on, and the
// datagram's events count as lost.
TEST_F(event_batch_watcher_test, a_datagram_the_socket_cannot_parse_is_counted_as_lost)
{
    auto socket = open_with(one_datagram_of(2));
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 2);
    {
        // The batch's first element slot.
        failing_allocations no_elements(sizeof(result<packet_view>));
        const auto received = socket.receive();
        ASSERT_FALSE(received);
        EXPECT_EQ(received.error(), errc::receive_out_of_memory);
        EXPECT_EQ(received.error(), condition::overrun);
        EXPECT_GE(no_elements.failed(), 1u);
    }
    udp.send_udp("127.0.0.1", 9, 2);
    const auto next = socket.receive();
    ASSERT_TRUE(next) << next.error().message();
    EXPECT_EQ(next.value().packet_count(), 2u);
    EXPECT_EQ(next.value().lost_before(), 2u);
    EXPECT_EQ(socket.stats().lost, 2u);
}

// A watcher sends that on as a report, as it does an overrun, and its run
// goes on: the socket lost one datagram and still works.
TEST_F(event_batch_watcher_test, a_datagram_the_socket_cannot_parse_is_a_report_and_the_run_goes_on)
{
    auto watcher = open_watcher(one_datagram_of(2), channel, 0);
    watcher.async_run(record_run());
    run_until_quiet(); // the run waits for the socket
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    {
        failing_allocations no_elements(sizeof(result<packet_view>));
        udp.send_udp("127.0.0.1", 9, 2);
        ASSERT_TRUE(run_until([&] { return watcher.stats().reports == 1 || run_result.has_value(); }));
        EXPECT_GE(no_elements.failed(), 1u);
    }
    ASSERT_FALSE(run_result.has_value()) << "the run ended with " << run_result->message();
    udp.send_udp("127.0.0.1", 9, 2);
    batch_consumer reader(channel);
    reader.start();
    ASSERT_TRUE(run_until([&] { return reader.events >= 2; }));
    ASSERT_EQ(reader.messages.size(), 2u);
    EXPECT_EQ(reader.messages[0].error, errc::receive_out_of_memory);
    EXPECT_TRUE(reader.messages[0].value.empty());
    EXPECT_FALSE(reader.messages[1].error);
    EXPECT_EQ(reader.messages[1].value.front().lost_before, 2u);
    EXPECT_EQ(watcher.stats().socket.lost, 2u);
    EXPECT_EQ(watcher.stats().socket.overruns, 0u);
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
}

TEST_F(event_batch_watcher_test, close_counts_every_event_it_held_as_discarded)
{
    constexpr std::uint32_t count = 2 * event_batch::max_size + 22;
    event_batch_channel single(io, 1);
    auto watcher = open_watcher(one_datagram_of(count), single, 0);
    watcher.async_run(record_run());
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, count);
    ASSERT_TRUE(run_until([&] { return watcher.stats().events > 0; }));
    run_until_quiet();

    watcher.close();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    const auto stats = watcher.stats();
    EXPECT_EQ(stats.events, event_batch::max_size);
    EXPECT_EQ(stats.discarded, count - event_batch::max_size) << "the pending batch and the rest of the datagram";

    // The batch in the channel is still whole after its watcher closed.
    std::size_t drained = 0;
    while (single.try_receive([&](error_code error, event_batch batch) {
        EXPECT_FALSE(error);
        drained += batch.size();
        EXPECT_EQ(batch.back().seq, event_batch::max_size - 1);
    })) {
    }
    EXPECT_EQ(drained, event_batch::max_size);
}

TEST_F(event_batch_watcher_test, several_watchers_feed_one_batch_channel)
{
    event_batch_watcher denied(open_socket({41}), channel, 1);
    event_batch_watcher allowed(open_socket({43}), channel, 2);
    for (auto* watcher : {&denied, &allowed})
        watcher->async_run([](error_code error) { EXPECT_EQ(error, net::error::operation_aborted); });
    batch_consumer reader(channel);
    reader.start();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 2);
    udp.send_udp("127.0.0.1", 10, 3);
    ASSERT_TRUE(run_until([&] { return reader.events >= 5; }));
    std::map<source_id, std::size_t> per_source;
    for (const auto& [error, batch] : reader.messages) {
        EXPECT_FALSE(error);
        for (const auto& item : batch) {
            EXPECT_EQ(item.source, batch.source());
            EXPECT_EQ(item.group, batch.source() == 1 ? 41 : 43);
            ++per_source[item.source];
        }
    }
    EXPECT_EQ(per_source[1], 2u);
    EXPECT_EQ(per_source[2], 3u);
    for (auto* watcher : {&denied, &allowed})
        watcher->cancel();
    run_until_quiet();
}

TEST_F(event_batch_watcher_test, the_batch_path_allocates_nothing_per_event)
{
    constexpr std::uint32_t per_datagram = 100;
    auto watcher = open_watcher(one_datagram_of(per_datagram), channel, 0);
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    // Warm up: the socket's buffer pool, the watcher's blocks, Asio's handler memory, the channel's ring.
    steady_state_run probe(io, udp, per_datagram, 5, 50);
    std::size_t events = 0;
    std::size_t batches = 0;
    // The consumer drops each batch at once, so its block goes back to the pool.
    std::function<void()> receive = [&] {
        channel.async_receive([&](error_code error, event_batch batch) {
            if (error)
                return;
            events += batch.size();
            ++batches;
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
    EXPECT_EQ(batches, 55u * 2) << "64 + 36 events per datagram";
    EXPECT_EQ(run_result, net::error::operation_aborted);
}

} // namespace
