// Watchers on threads of their own, each with its io_context, feed one
// concurrent channel that the test's io_context reads: events, batches of
// events or received datagrams made on one thread and dropped on another.
// These tests also run under ThreadSanitizer.

#include <nflog/event_channel.hpp>

#include "integration/watcher_fixture.hpp"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <thread>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using boost::system::error_code;

// Each event a channel message carries, as (group, sequence number).
template <class Visit>
void for_each_event(const event& single, Visit visit)
{
    visit(single.group, single.seq);
}
template <class Visit>
void for_each_event(const event_batch& events, Visit visit)
{
    for (const auto& single : events)
        visit(single.group, single.seq);
}
template <class Visit>
void for_each_event(const batch& datagram, Visit visit)
{
    for (const auto& packet : datagram)
        if (packet)
            visit(packet.value().group(), packet.value().seq());
}

class concurrent_channel_test : public watcher_fixture {
protected:
    // Two watchers on threads of their own feed one channel of `Channel`
    // that this thread reads.
    template <class Channel>
    void feed_one_channel_from_two_threads();
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
    channel_consumer<channel_type, message> reader(shared);
    reader.start();

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 30);
    udp.send_udp("127.0.0.1", 10, 20);
    const bool all_arrived = run_until([&] { return reader.events >= 50; });
    // Each watcher is stopped on its own thread; its io_context then runs out of work.
    net::post(first_io, [&] { denied.cancel(); });
    net::post(second_io, [&] { allowed.cancel(); });
    first.join();
    second.join();
    ASSERT_TRUE(all_arrived) << reader.events << " of 50 events arrived";

    std::map<std::uint16_t, std::vector<std::uint32_t>> sequences;
    for (const auto& [error, value] : reader.messages) {
        EXPECT_FALSE(error) << error.message();
        for_each_event(value, [&](std::uint16_t group, std::optional<std::uint32_t> seq) {
            sequences[group].push_back(seq.value_or(999));
        });
    }
    EXPECT_EQ(sequences[41], count_from(0, 30));
    EXPECT_EQ(sequences[43], count_from(0, 20));
    EXPECT_EQ(sequences.size(), 2u);
    EXPECT_EQ(denied_result, error_code(net::error::operation_aborted));
    EXPECT_EQ(allowed_result, error_code(net::error::operation_aborted));
    EXPECT_EQ(denied.stats().events + allowed.stats().events, 50u);
    EXPECT_EQ(denied.stats().socket.lost + allowed.stats().socket.lost, 0u);
    // What the reader kept goes now, on this thread, back to pools that
    // other threads filled.
    reader.messages.clear();
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
