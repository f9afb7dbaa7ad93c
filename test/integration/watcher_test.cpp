#include <nflog/watcher.hpp>

#include "watcher_fixture.hpp"
#include "support/counting_allocator.hpp"
#include "support/steady_state_run.hpp"

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <map>
#include <memory>
#include <new>
#include <optional>
#include <type_traits>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;
using boost::system::error_code;
namespace channel_error = boost::asio::experimental::error;

using consumer = channel_consumer<event_channel, event>;

// Memory for a run's operations (Asio takes it from the completion
// handler's allocator), always refused.
template <class T>
struct refusing_allocator {
    using value_type = T;

    refusing_allocator() = default;
    template <class U>
    refusing_allocator(const refusing_allocator<U>&) noexcept
    {
    }

    T* allocate(std::size_t) { throw std::bad_alloc(); }
    void deallocate(T*, std::size_t) noexcept {}

    template <class U>
    bool operator==(const refusing_allocator<U>&) const noexcept
    {
        return true;
    }
};

class watcher_test : public watcher_fixture {
protected:
    /// A run started now delivers the `count` events sent to the watcher's
    /// group, with nothing lost; then it is cancelled.
    void expect_the_next_run_to_deliver(nflog::watcher& watcher, std::size_t count)
    {
        consumer reader(channel);
        reader.start();
        run_result.reset();
        watcher.async_run(record_run());
        ASSERT_TRUE(run_until([&] { return reader.events >= count; }));
        watcher.cancel();
        ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
        EXPECT_EQ(*run_result, net::error::operation_aborted);
        EXPECT_EQ(watcher.stats().events, count);
        EXPECT_EQ(watcher.stats().socket.lost, 0u);
        reader.stop();
        EXPECT_TRUE(run_until([&] { return reader.ended_with.has_value(); }));
    }

    /// A running watcher over `single` (capacity 1) after `packets` were
    /// logged: the first event in the channel, the second waiting in the
    /// watcher's send, any others still in the socket.
    nflog::watcher one_in_the_channel_one_waiting(event_channel& single, std::size_t packets = 2, source_id source = 0)
    {
        nflog::watcher watcher(open_socket({41}), single, source);
        watcher.async_run(record_run());
        namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
        udp.send_udp("127.0.0.1", 9, packets);
        run_until_quiet();
        EXPECT_EQ(watcher.stats().events, 1u);
        return watcher;
    }

    static std::vector<std::uint32_t> sequence_numbers(const consumer& reader)
    {
        std::vector<std::uint32_t> out;
        for (const auto& [error, value] : reader.messages)
            out.push_back(value.seq.value_or(999));
        return out;
    }

    event_channel channel{io, 16};
};

TEST_F(watcher_test, delivers_events_with_their_source_and_fields)
{
    nflog::watcher watcher(open_socket({41, 42}), channel, 7);
    EXPECT_EQ(watcher.source(), 7u);
    watcher.async_run(record_run());
    consumer reader(channel);
    reader.start();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    namespace_socket tcp(netns->path(), AF_INET, SOCK_STREAM);
    udp.send_udp("127.0.0.1", 9, 2);
    tcp.connect_tcp("127.0.0.1", 22);

    ASSERT_TRUE(run_until([&] { return reader.messages.size() >= 3; }));
    std::size_t udp_events = 0;
    std::size_t tcp_events = 0;
    for (const auto& [error, value] : reader.messages) {
        EXPECT_FALSE(error) << error.message();
        EXPECT_EQ(value.source, 7u);
        EXPECT_EQ(value.hook, 3) << "NF_INET_LOCAL_OUT";
        EXPECT_EQ(value.time_source, timestamp_source::local) << "the kernel sends no timestamp on output";
        EXPECT_EQ(value.action, "blocked_connection");
        EXPECT_EQ(value.flow.dst.to_string(), "127.0.0.1");
        EXPECT_TRUE(value.seq.has_value());
        EXPECT_GT(value.payload_length, 0u);
        if (value.group == 41) {
            ++udp_events;
            EXPECT_EQ(value.prefix(), "DENIED udp");
            EXPECT_EQ(value.flow.dst_port, 9);
        }
        else {
            ++tcp_events;
            EXPECT_EQ(value.group, 42);
            EXPECT_EQ(value.prefix(), "DENIED tcp");
            EXPECT_EQ(value.flow.dst_port, 22);
        }
    }
    EXPECT_EQ(udp_events, 2u);
    EXPECT_EQ(tcp_events, 1u);

    EXPECT_TRUE(watcher.is_running());
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_FALSE(watcher.is_running());
    const auto stats = watcher.stats();
    EXPECT_EQ(stats.events, 3u);
    EXPECT_EQ(stats.reports, 0u);
    EXPECT_EQ(stats.discarded, 0u);
    EXPECT_EQ(stats.socket.packets, 3u);
}

TEST_F(watcher_test, several_sockets_and_namespaces_feed_one_channel)
{
    scoped_netns other;
    other.load_ruleset(ruleset);
    auto other_options = options_for({41});
    other_options.netns = other.path();

    nflog::watcher denied_here(open_socket({41}), channel, 1);
    nflog::watcher allowed_here(open_socket({43}), channel, 2);
    nflog::watcher denied_there(open_with(other_options), channel, 3);
    for (auto* watcher : {&denied_here, &allowed_here, &denied_there})
        watcher->async_run([](error_code error) { EXPECT_EQ(error, net::error::operation_aborted); });
    consumer reader(channel);
    reader.start();

    namespace_socket here(netns->path(), AF_INET, SOCK_DGRAM);
    namespace_socket there(other.path(), AF_INET, SOCK_DGRAM);
    here.send_udp("127.0.0.1", 9, 2);
    here.send_udp("127.0.0.1", 10, 1);
    there.send_udp("127.0.0.1", 9, 3);

    ASSERT_TRUE(run_until([&] { return reader.messages.size() >= 6; }));
    std::map<source_id, std::size_t> per_source;
    for (const auto& [error, value] : reader.messages) {
        EXPECT_FALSE(error);
        ++per_source[value.source];
        switch (value.source) {
        case 1:
        case 3:
            EXPECT_EQ(value.group, 41);
            EXPECT_EQ(value.action, "blocked_connection");
            break;
        case 2:
            EXPECT_EQ(value.group, 43);
            EXPECT_EQ(value.prefix(), "ALLOWED udp");
            EXPECT_EQ(value.action, "allowed_connection");
            break;
        default: ADD_FAILURE() << "unknown source " << value.source;
        }
    }
    EXPECT_EQ(per_source[1], 2u);
    EXPECT_EQ(per_source[2], 1u);
    EXPECT_EQ(per_source[3], 3u);
    for (auto* watcher : {&denied_here, &allowed_here, &denied_there})
        watcher->cancel();
    run_until_quiet();
}

// Backpressure: the consumer does not read while a flood arrives, the
// watcher fills the channel and stops reading, the socket's small buffer
// overflows. Every logged packet is then either received or counted lost.
TEST_F(watcher_test, a_full_channel_turns_into_counted_kernel_overruns)
{
    constexpr std::size_t capacity = 4;
    constexpr std::size_t flood = 20000;
    event_channel small(io, capacity);
    auto opts = options_for({44});
    opts.receive_buffer_size = 4096;
    nflog::watcher watcher(open_with(opts), small, 5);
    watcher.async_run(record_run());

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    send_flood(udp, flood);
    // The channel holds its capacity (an overrun report may be among them);
    // the next message waits in the watcher.
    EXPECT_EQ(watcher.stats().events + watcher.stats().reports, capacity);
    EXPECT_TRUE(watcher.is_running());

    consumer reader(small);
    reader.start();
    run_until_quiet();
    const auto logged = reveal_the_last_gap(udp, flood, [&] { return reader.events + watcher.stats().socket.lost; });
    EXPECT_EQ(netns->rule_packets("udp11"), static_cast<long>(logged));

    const auto stats = watcher.stats();
    EXPECT_EQ(reader.events + stats.socket.lost, logged);
    EXPECT_GT(stats.socket.overruns, 0u) << "the flood did not overrun a 4 KiB buffer";
    EXPECT_GT(stats.socket.lost, 0u);
    EXPECT_EQ(reader.reports[make_error_code(errc::kernel_overrun)], stats.socket.overruns);
    EXPECT_EQ(reader.reports.size(), 1u) << "only overruns were expected";
    std::uint64_t lost_before = 0;
    for (const auto& [error, value] : reader.messages) {
        lost_before += value.lost_before;
        EXPECT_EQ(value.source, 5u);
        if (error) {
            EXPECT_EQ(error, condition::overrun);
        }
    }
    EXPECT_EQ(lost_before, stats.socket.lost);
    EXPECT_EQ(stats.events, reader.events);
    EXPECT_EQ(stats.reports, stats.socket.overruns);
    EXPECT_EQ(stats.discarded, 0u);
    EXPECT_FALSE(run_result.has_value());
}

TEST_F(watcher_test, cancel_keeps_what_was_taken_and_the_next_run_resumes)
{
    event_channel single(io, 1);
    auto watcher = one_in_the_channel_one_waiting(single, 5);
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_EQ(watcher.stats().events, 1u);

    consumer reader(single);
    reader.start();
    run_result.reset();
    watcher.async_run(record_run());
    ASSERT_TRUE(run_until([&] { return reader.events >= 5; }));
    EXPECT_EQ(sequence_numbers(reader), (std::vector<std::uint32_t>{0, 1, 2, 3, 4}));
    EXPECT_EQ(watcher.stats().socket.lost, 0u);
    EXPECT_EQ(watcher.stats().events, 5u);
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
}

TEST_F(watcher_test, per_operation_cancellation_stops_the_run_without_loss)
{
    nflog::watcher watcher(open_socket({41}), channel, 0);
    net::cancellation_signal stop;
    watcher.async_run(net::bind_cancellation_slot(stop.slot(), record_run()));
    run_until_quiet();
    // A run that sent events cannot be undone: `total` is no stop.
    stop.emit(net::cancellation_type::total);
    run_until_quiet();
    EXPECT_FALSE(run_result.has_value());
    stop.emit(net::cancellation_type::terminal);
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);

    // Sent while no run is active: the socket keeps it.
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 2);
    consumer reader(channel);
    reader.start();
    run_result.reset();
    watcher.async_run(net::bind_cancellation_slot(stop.slot(), record_run()));
    ASSERT_TRUE(run_until([&] { return reader.events >= 2; }));
    // `partial`, which leaves the watcher usable, stops it as well.
    stop.emit(net::cancellation_type::partial);
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_EQ(watcher.stats().events, 2u);
}

TEST_F(watcher_test, a_second_run_is_refused)
{
    nflog::watcher watcher(open_socket({41}), channel, 0);
    watcher.async_run(record_run());
    std::optional<error_code> second;
    watcher.async_run([&](error_code error) { second = error; });
    EXPECT_FALSE(second.has_value()) << "completions never run inside async_run";
    ASSERT_TRUE(run_until([&] { return second.has_value(); }));
    EXPECT_EQ(*second, net::error::already_started);
    EXPECT_TRUE(watcher.is_running());
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
}

// A watcher closed before it ran holds nothing itself; what waited in its
// socket is counted there.
TEST_F(watcher_test, closing_a_watcher_that_never_ran_counts_the_socket_queue)
{
    nflog::watcher watcher(open_socket({41}), channel, 0);
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 50);
    ASSERT_EQ(netns->rule_packets("udp9"), 50);
    watcher.close();
    const auto counted = watcher.stats();
    EXPECT_EQ(counted.socket.discarded, 50u);
    EXPECT_EQ(counted.discarded, 0u);
    EXPECT_EQ(counted.events, 0u);
    EXPECT_EQ(counted.socket.lost, 0u);
}

// A moved-from watcher keeps its executor and refuses to run; the watcher
// that took over delivers.
TEST_F(watcher_test, a_moved_from_watcher_refuses_to_run)
{
    nflog::watcher watcher(open_socket({41}), channel, 3);
    auto taken = std::move(watcher);
    EXPECT_TRUE(watcher.get_executor() == io.get_executor());
    EXPECT_EQ(watcher.source(), 0u);
    EXPECT_EQ(watcher.stats().events, 0u);
    EXPECT_FALSE(watcher.is_running());
    std::optional<error_code> refused;
    watcher.async_run([&](error_code error) { refused = error; });
    EXPECT_FALSE(refused.has_value()) << "completions never run inside async_run";
    ASSERT_TRUE(run_until([&] { return refused.has_value(); }));
    EXPECT_EQ(*refused, net::error::bad_descriptor);
    watcher.cancel();
    watcher.close();
    EXPECT_EQ(taken.source(), 3u);
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    expect_the_next_run_to_deliver(taken, 1);
}

// An operation the run cannot get memory for throws, as any Asio
// initiation does: here the socket's receive, inside the run, so the
// exception leaves io_context::run and the run's handler is never called.
// The run is over all the same: the next one starts and delivers everything.
TEST_F(watcher_test, a_run_that_cannot_get_memory_for_an_operation_leaves_the_watcher_ready)
{
    nflog::watcher watcher(open_socket({41}), channel, 0);
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    watcher.async_run(net::bind_allocator(refusing_allocator<void>(), record_run()));
    io.restart();
    EXPECT_THROW(io.run_for(std::chrono::seconds(5)), std::bad_alloc);
    EXPECT_FALSE(watcher.is_running());
    EXPECT_FALSE(run_result.has_value());

    udp.send_udp("127.0.0.1", 9, 1);
    expect_the_next_run_to_deliver(watcher, 2);
}

// The io_context's executor, but one whose work cannot be queued while
// `refusing` is set: as when memory for an operation runs out.
struct refusing_executor {
    net::io_context::executor_type inner;
    const bool* refusing;

    net::execution_context& query(net::execution::context_t) const noexcept { return inner.context(); }
    static constexpr net::execution::blocking_t query(net::execution::blocking_t) noexcept
    {
        return net::execution::blocking.never;
    }
    refusing_executor require(net::execution::blocking_t::never_t) const noexcept { return *this; }

    template <class Function>
    void execute(Function&& work) const
    {
        if (*refusing)
            throw std::bad_alloc();
        net::post(inner, std::forward<Function>(work));
    }

    friend bool operator==(const refusing_executor& a, const refusing_executor& b) noexcept
    {
        return a.inner == b.inner && a.refusing == b.refusing;
    }
};

TEST_F(watcher_test, a_run_that_cannot_start_leaves_the_watcher_ready)
{
    bool refusing = false;
    auto opened = nflog::socket::open(net::any_io_executor(refusing_executor{io.get_executor(), &refusing}),
                                      options_for({41}));
    ASSERT_TRUE(opened) << opened.error().message();
    nflog::watcher watcher(std::move(opened).value(), channel, 0);
    refusing = true;
    EXPECT_THROW(watcher.async_run(record_run()), std::bad_alloc);
    refusing = false;
    EXPECT_FALSE(watcher.is_running());

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    expect_the_next_run_to_deliver(watcher, 1);
}

TEST_F(watcher_test, close_then_closing_the_channel_ends_everything_in_order)
{
    event_channel single(io, 1);
    auto watcher = one_in_the_channel_one_waiting(single, 3);

    watcher.close();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_EQ(watcher.stats().discarded, 1u);
    EXPECT_EQ(watcher.stats().events, 1u);

    // What the channel holds is still there; drain it, then close.
    std::size_t drained = 0;
    while (single.try_receive([&](error_code error, event) { drained += !error; })) {
    }
    EXPECT_EQ(drained, 1u);
    consumer reader(single);
    reader.start();
    single.close();
    ASSERT_TRUE(run_until([&] { return reader.ended_with.has_value(); }));
    EXPECT_EQ(*reader.ended_with, channel_error::channel_closed);
    EXPECT_TRUE(reader.messages.empty());

    // The groups were released.
    EXPECT_TRUE(nflog::socket::open(io, options_for({41})));
    // A closed watcher cannot run.
    run_result.reset();
    watcher.async_run(record_run());
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::bad_descriptor);
}

// The documented order, with the message that waited for room taken by
// the drain: Boost 1.81 then completes that send only after both closes,
// with success on a closed channel. It was received, and counts as sent.
TEST_F(watcher_test, a_drain_before_both_closes_counts_every_event_as_sent)
{
    event_channel single(io, 1);
    auto watcher = one_in_the_channel_one_waiting(single);

    std::vector<std::uint32_t> drained;
    while (single.try_receive([&](error_code error, event value) {
        if (!error)
            drained.push_back(value.seq.value_or(999));
    })) {
    }
    watcher.close();
    single.close();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(drained, (std::vector<std::uint32_t>{0, 1}));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_EQ(watcher.stats().events, 2u);
    EXPECT_EQ(watcher.stats().discarded, 0u);
}

// The other order: the channel closed while the watcher waits for room,
// then the watcher stopped. Boost 1.81 completes the cancelled send with
// success; nobody received it, and it counts as discarded.
TEST_F(watcher_test, a_send_stopped_in_a_closed_channel_counts_as_discarded)
{
    event_channel single(io, 1);
    auto watcher = one_in_the_channel_one_waiting(single);

    single.close(); // drops the buffered event, which was sent
    watcher.close();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
    EXPECT_EQ(watcher.stats().events, 1u);
    EXPECT_EQ(watcher.stats().discarded, 1u);
}

// A consumer that cancels the shared channel ends a run that waits for
// room in it, with a code of its own; the next run delivers the message.
TEST_F(watcher_test, the_channels_cancel_ends_a_waiting_run_without_loss)
{
    event_channel single(io, 1);
    auto watcher = one_in_the_channel_one_waiting(single);

    single.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, channel_error::channel_cancelled);
    EXPECT_FALSE(watcher.is_running());

    consumer reader(single);
    reader.start();
    run_result.reset();
    watcher.async_run(record_run());
    ASSERT_TRUE(run_until([&] { return reader.events >= 2; }));
    EXPECT_EQ(sequence_numbers(reader), (std::vector<std::uint32_t>{0, 1}));
    EXPECT_EQ(watcher.stats().events, 2u);
    watcher.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
}

// `as_default_on` rebinds a stopped watcher to an executor with a default
// token, as for Asio's I/O objects; the message it held and its counters
// come along.
TEST_F(watcher_test, as_default_on_gives_a_watcher_with_a_default_token)
{
    event_channel single(io, 1);
    auto plain = one_in_the_channel_one_waiting(single, 2, 4);
    plain.cancel();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));

    auto awaiting = net::use_awaitable.as_default_on(std::move(plain));
    static_assert(std::is_same_v<decltype(awaiting)::executor_type,
                                 net::use_awaitable_t<>::executor_with_default<net::any_io_executor>>);
    EXPECT_EQ(awaiting.source(), 4u);
    EXPECT_EQ(awaiting.stats().events, 1u);
    EXPECT_FALSE(plain.is_running());

    consumer reader(single);
    reader.start();
    std::optional<error_code> ended;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            try {
                co_await awaiting.async_run();
            }
            catch (const boost::system::system_error& failure) {
                ended = failure.code();
            }
        },
        net::detached);
    ASSERT_TRUE(run_until([&] { return reader.events >= 2; }));
    EXPECT_EQ(sequence_numbers(reader), (std::vector<std::uint32_t>{0, 1}));
    awaiting.cancel();
    ASSERT_TRUE(run_until([&] { return ended.has_value(); }));
    EXPECT_EQ(*ended, net::error::operation_aborted);
    EXPECT_EQ(awaiting.stats().events, 2u);
    EXPECT_EQ(awaiting.stats().socket.lost, 0u);
    reader.stop();
    EXPECT_TRUE(run_until([&] { return reader.ended_with.has_value(); }));
}

TEST_F(watcher_test, destroying_a_running_watcher_ends_its_run)
{
    std::optional<nflog::watcher> watcher;
    watcher.emplace(open_socket({41}), channel, 0);
    watcher->async_run(record_run());
    run_until_quiet();
    watcher.reset();
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, net::error::operation_aborted);
}

// When an io_context is destroyed with a run pending, Asio destroys the
// run's handler after every I/O object made on it, the channel included (it
// must go before its io_context). A watcher owned by that handler, as with
// `std::make_shared` and a handler that keeps it, goes with it then and must
// not touch the channel. Under AddressSanitizer a touch is a use after free.
TEST_F(watcher_test, a_watcher_owned_by_its_pending_run_goes_with_the_io_context)
{
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    struct scenario {
        std::size_t capacity;
        // The handler that owns the watcher is that of a second run, refused
        // and not called yet when the io_context goes.
        bool refused_run_owns_it;
    };
    // Capacity 16: the run waits for the socket. Capacity 1 and three
    // events: it waits for room in the channel.
    for (const auto [capacity, refused_run_owns_it] : {scenario{16, false}, scenario{1, false}, scenario{1, true}}) {
        SCOPED_TRACE(testing::Message() << capacity << (refused_run_owns_it ? ", refused run" : ""));
        auto context = std::make_unique<net::io_context>();
        auto events = std::make_unique<event_channel>(*context, capacity);
        auto opened = nflog::socket::open(*context, options_for({41}));
        ASSERT_TRUE(opened) << opened.error().message();
        auto owned = std::make_shared<nflog::watcher>(std::move(opened).value(), *events);
        const std::weak_ptr<nflog::watcher> observed = owned;
        int completed = 0;
        if (refused_run_owns_it)
            owned->async_run([&completed](error_code) { ++completed; });
        else
            owned->async_run([owned, &completed](error_code) { ++completed; });
        if (capacity == 1)
            udp.send_udp("127.0.0.1", 9, 3);
        for (int round = 0; round < 20 && !(capacity == 1 && events->ready()); ++round)
            context->run_for(20ms);
        EXPECT_EQ(events->ready(), capacity == 1);
        if (refused_run_owns_it)
            owned->async_run([owned, &completed](error_code) { ++completed; });
        owned.reset();
        events.reset();
        context.reset();
        EXPECT_EQ(completed, 0);
        EXPECT_TRUE(observed.expired());
    }
}

// The loop belongs to the watcher's executor, which the socket and the
// channel are used from. A handler with an executor of its own (a
// `use_future` handler's is the system executor's pool; here an io_context
// that does not run yet) gets only the completion there.
TEST_F(watcher_test, the_loop_runs_on_the_watchers_executor_and_the_handler_on_its_own)
{
    net::io_context elsewhere;
    event_channel small(io, 1);
    nflog::watcher watcher(open_socket({41}), small, 0);
    std::optional<error_code> ended;
    watcher.async_run(net::bind_executor(elsewhere.get_executor(), [&](error_code error) { ended = error; }));
    consumer reader(small);
    reader.start();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    // More than the channel holds: the run waits for room, and goes on.
    udp.send_udp("127.0.0.1", 9, 20);
    ASSERT_TRUE(run_until([&] { return reader.events == 20; })) << reader.events << " of 20 events";
    // As for any operation, the pending run keeps work on the handler's
    // executor: a thread running it would not return.
    elsewhere.poll();
    EXPECT_FALSE(elsewhere.stopped()) << "no work kept on the handler's executor";

    watcher.cancel();
    run_until_quiet();
    EXPECT_FALSE(ended.has_value()) << "the handler ran outside its executor";
    elsewhere.run();
    ASSERT_TRUE(ended.has_value());
    EXPECT_EQ(*ended, net::error::operation_aborted);
    reader.stop();
    EXPECT_TRUE(run_until([&] { return reader.ended_with.has_value(); }));
}

TEST_F(watcher_test, a_closed_channel_ends_the_run_at_its_next_send)
{
    nflog::watcher watcher(open_socket({41}), channel, 0);
    watcher.async_run(record_run());
    run_until_quiet();
    channel.close();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    ASSERT_TRUE(run_until([&] { return run_result.has_value(); }));
    EXPECT_EQ(*run_result, channel_error::channel_closed);
    EXPECT_EQ(watcher.stats().events, 0u);
    watcher.close();
    EXPECT_EQ(watcher.stats().discarded, 1u);
}

TEST_F(watcher_test, the_event_path_allocates_nothing_per_event)
{
    nflog::watcher watcher(open_socket({41}), channel, 0);
    consumer reader(channel);
    reader.messages.reserve(320);
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    // Warm up: the socket's buffer pool, Asio's handler memory, the channel's ring.
    steady_state_run probe(io, udp, 1, 20, 300);
    reader.after_each = [&] {
        if (!probe.received(reader.events))
            return false;
        watcher.cancel();
        return true;
    };
    reader.start();
    watcher.async_run(record_run());
    probe.run();
    ASSERT_FALSE(probe.gave_up()) << "events stopped arriving after " << reader.events;
    ASSERT_TRUE(probe.allocations().has_value());
    EXPECT_EQ(*probe.allocations(), 0u);
    EXPECT_EQ(reader.events, 320u);
    EXPECT_EQ(run_result, net::error::operation_aborted);
}

} // namespace
