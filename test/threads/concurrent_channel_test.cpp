// Watchers on threads of their own, each with its io_context, feed one
// concurrent channel that the test's io_context reads: events, batches of
// events or received datagrams made on one thread and dropped on another.
// These tests also run under ThreadSanitizer.

#include <nflog/event_channel.hpp>

#include "integration/watcher_fixture.hpp"

#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using boost::system::error_code;

// What a channel message carries, event by event.
struct seen_event {
    source_id source = 0;
    std::uint16_t group = 0;
    std::uint32_t seq = 0;
};

template <class Visit>
void for_each_event(const event& single, Visit visit)
{
    visit(seen_event{single.source, single.group, single.seq.value_or(999)});
}
template <class Visit>
void for_each_event(const event_batch& events, Visit visit)
{
    for (const auto& single : events) {
        EXPECT_EQ(single.source, events.source());
        visit(seen_event{single.source, single.group, single.seq.value_or(999)});
    }
}
template <class Visit>
void for_each_event(const batch& datagram, Visit visit)
{
    for (const auto& packet : datagram) {
        EXPECT_TRUE(packet) << packet.error().message();
        if (packet)
            visit(seen_event{datagram.source(), packet.value().group(), packet.value().seq().value_or(999)});
    }
}

class concurrent_channel_test : public watcher_fixture {
protected:
    // Two watchers on threads of their own feed one channel of `Channel`
    // that this thread reads.
    template <class Channel>
    void feed_one_channel_from_two_threads();

    // A watcher on a thread of its own feeds a channel of `Channel`; what
    // this thread received outlives the watcher and its socket, and goes
    // on a third thread.
    template <class Channel>
    void drop_messages_on_another_thread_after_their_watcher();
};

template <class Channel>
void concurrent_channel_test::feed_one_channel_from_two_threads()
{
    using channel_type = Channel;
    using message = typename detail::channel_message<channel_type>::type;
    using threaded_watcher = basic_watcher<net::any_io_executor, channel_type>;
    // Small, so that both watchers wait for room at times.
    channel_type shared(io, 2);
    net::io_context first_io(1);
    net::io_context second_io(1);
    const auto open_on = [&](net::io_context& where, std::uint16_t group) {
        auto opened = nflog::socket::open(where, options_for({group}));
        EXPECT_TRUE(opened) << opened.error().message();
        return std::move(opened).value();
    };
    threaded_watcher denied(open_on(first_io, 41), shared, 1);
    threaded_watcher allowed(open_on(second_io, 43), shared, 2);
    std::optional<error_code> denied_result;
    std::optional<error_code> allowed_result;
    denied.async_run([&](error_code error) { denied_result = error; });
    allowed.async_run([&](error_code error) { allowed_result = error; });
    std::thread first([&] { first_io.run(); });
    std::thread second([&] { second_io.run(); });
    // Each message is dropped as soon as it is read: its storage goes back
    // to its watcher's pool on this thread while that watcher's thread takes
    // more from it.
    std::map<source_id, std::vector<std::uint32_t>> sequences;
    std::size_t events = 0;
    std::optional<error_code> reading_ended;
    std::function<void()> read_next = [&] {
        shared.async_receive([&](error_code error, message value) {
            if (error == net::experimental::error::channel_cancelled) {
                reading_ended = error;
                return;
            }
            EXPECT_FALSE(error) << error.message();
            for_each_event(value, [&](const seen_event& seen) {
                EXPECT_EQ(seen.group, seen.source == 1 ? 41 : 43);
                sequences[seen.source].push_back(seen.seq);
                ++events;
            });
            read_next();
        });
    };
    read_next();

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 30);
    udp.send_udp("127.0.0.1", 10, 20);
    const bool all_arrived = run_until([&] { return events >= 50; });
    // Each watcher is stopped on its own thread; its io_context then runs out of work.
    net::post(first_io, [&] { denied.cancel(); });
    net::post(second_io, [&] { allowed.cancel(); });
    first.join();
    second.join();
    shared.cancel();
    EXPECT_TRUE(run_until([&] { return reading_ended.has_value(); }));
    ASSERT_TRUE(all_arrived) << events << " of 50 events arrived";

    EXPECT_EQ(sequences[1], count_from(0, 30));
    EXPECT_EQ(sequences[2], count_from(0, 20));
    EXPECT_EQ(sequences.size(), 2u);
    EXPECT_EQ(denied_result, error_code(net::error::operation_aborted));
    EXPECT_EQ(allowed_result, error_code(net::error::operation_aborted));
    EXPECT_EQ(denied.stats().events + allowed.stats().events, 50u);
    EXPECT_EQ(denied.stats().socket.lost + allowed.stats().socket.lost, 0u);
}

template <class Channel>
void concurrent_channel_test::drop_messages_on_another_thread_after_their_watcher()
{
    using message = typename detail::channel_message<Channel>::type;
    Channel channel(io, 4);
    channel_consumer<Channel, message> reader(channel);
    {
        net::io_context watcher_io(1);
        auto opened = nflog::socket::open(watcher_io, options_for({41}));
        ASSERT_TRUE(opened) << opened.error().message();
        basic_watcher<net::any_io_executor, Channel> watcher(std::move(opened).value(), channel, 1);
        watcher.async_run(net::detached);
        std::thread watching([&] { watcher_io.run(); });
        reader.start();
        namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
        udp.send_udp("127.0.0.1", 9, 12);
        const bool all_arrived = run_until([&] { return reader.events >= 12; });
        net::post(watcher_io, [&] { watcher.close(); });
        watching.join();
        // The reader's pending receive ends before anything it refers to goes.
        channel.cancel();
        EXPECT_TRUE(run_until([&] { return reader.ended_with.has_value(); }));
        ASSERT_TRUE(all_arrived) << reader.events << " of 12 events arrived";
    }
    std::vector<std::uint32_t> sequences;
    for (const auto& [error, value] : reader.messages) {
        EXPECT_FALSE(error) << error.message();
        for_each_event(value, [&](const seen_event& seen) {
            EXPECT_EQ(seen.source, 1u);
            sequences.push_back(seen.seq);
        });
    }
    EXPECT_EQ(sequences, count_from(0, 12)) << "what was received outlives its watcher";
    std::thread dropping([messages = std::move(reader.messages)]() mutable { messages.clear(); });
    dropping.join();
}

TEST_F(concurrent_channel_test, event_batches_outlive_their_watcher_and_go_on_another_thread)
{
    drop_messages_on_another_thread_after_their_watcher<concurrent_event_batch_channel>();
}

TEST_F(concurrent_channel_test, packets_outlive_their_socket_and_go_on_another_thread)
{
    drop_messages_on_another_thread_after_their_watcher<concurrent_packet_channel>();
}

TEST_F(concurrent_channel_test, events_from_watchers_on_other_threads)
{
    feed_one_channel_from_two_threads<concurrent_event_channel>();
}

TEST_F(concurrent_channel_test, event_batches_from_watchers_on_other_threads)
{
    feed_one_channel_from_two_threads<concurrent_event_batch_channel>();
}

TEST_F(concurrent_channel_test, packets_from_watchers_on_other_threads)
{
    feed_one_channel_from_two_threads<concurrent_packet_channel>();
}

} // namespace
