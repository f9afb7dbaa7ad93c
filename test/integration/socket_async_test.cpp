#include <nflog/socket.hpp>

#include "nflog_fixture.hpp"
#include "support/counting_allocator.hpp"
#include "support/steady_state_run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include <functional>
#include <thread>

namespace {

using namespace nflog;
using namespace nflog::test;
using boost::system::error_code;

std::size_t valid_packets(const batch& received)
{
    std::size_t count = 0;
    for (const auto& item : received)
        count += item ? 1 : 0;
    return count;
}

class socket_tokens : public nflog_fixture {
protected:
    void SetUp() override
    {
        nflog_fixture::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        watcher.emplace(open_socket({41}));
        sender.emplace(netns->path(), AF_INET, SOCK_DGRAM);
    }
    void send_one() { sender->send_udp("127.0.0.1", 9, 1); }

    std::optional<nflog::socket> watcher;
    std::optional<namespace_socket> sender;
};

TEST_F(socket_tokens, callback)
{
    send_one();
    std::size_t packets = 0;
    watcher->async_receive([&](error_code error, batch received) {
        EXPECT_FALSE(error) << error.message();
        packets = valid_packets(received);
    });
    io.run();
    EXPECT_EQ(packets, 1u);
}

TEST_F(socket_tokens, use_awaitable)
{
    send_one();
    std::size_t packets = 0;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            auto received = co_await watcher->async_receive(net::use_awaitable);
            packets = valid_packets(received);
        },
        [](std::exception_ptr failure) { EXPECT_FALSE(failure); });
    io.run();
    EXPECT_EQ(packets, 1u);
}

TEST_F(socket_tokens, as_tuple_with_use_awaitable_reports_errors_as_values)
{
    std::optional<error_code> outcome;
    net::cancellation_signal stop;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            auto [error, received] = co_await watcher->async_receive(
                net::bind_cancellation_slot(stop.slot(), net::as_tuple(net::use_awaitable)));
            outcome = error;
            EXPECT_TRUE(received.packet_count() == 0);
        },
        net::detached);
    io.poll();
    stop.emit(net::cancellation_type::terminal);
    io.run();
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(*outcome, net::error::operation_aborted);
}

TEST_F(socket_tokens, use_future_from_a_plain_thread)
{
    auto work = net::make_work_guard(io);
    std::thread runner([&] { io.run(); });
    auto pending = watcher->async_receive(net::use_future);
    send_one();
    batch received = pending.get();
    EXPECT_EQ(valid_packets(received), 1u);
    work.reset();
    runner.join();
}

TEST_F(socket_tokens, deferred_starts_only_when_invoked)
{
    send_one();
    auto operation = watcher->async_receive(net::deferred);
    io.poll();
    EXPECT_EQ(watcher->stats().datagrams, 0u) << "a deferred operation must not start by itself";
    std::size_t packets = 0;
    bool ran = false;
    std::move(operation)([&](error_code error, batch received) {
        ran = true;
        EXPECT_FALSE(error);
        packets = valid_packets(received);
    });
    io.restart();
    io.run();
    EXPECT_TRUE(ran);
    EXPECT_EQ(packets, 1u);
}

TEST_F(socket_tokens, detached_still_receives_and_counts)
{
    send_one();
    watcher->async_receive(net::detached);
    io.run();
    EXPECT_EQ(watcher->stats().packets, 1u);
}

TEST_F(socket_tokens, every_cancellation_type_leaves_the_data_for_the_next_receive)
{
    for (const auto type : {net::cancellation_type::terminal, net::cancellation_type::partial,
                            net::cancellation_type::total}) {
        net::cancellation_signal stop;
        std::optional<error_code> outcome;
        watcher->async_receive(net::bind_cancellation_slot(
            stop.slot(), [&](error_code error, batch) { outcome = error; }));
        io.restart();
        io.poll();
        stop.emit(type);
        io.run();
        ASSERT_TRUE(outcome.has_value());
        EXPECT_EQ(*outcome, net::error::operation_aborted);
    }
    send_one();
    send_one();
    EXPECT_EQ(collect(*watcher, 2).size(), 2u);
    EXPECT_EQ(watcher->stats().lost, 0u);
}

// The kernel's answer to a request of the socket's own is no batch: the
// receive reads it, counts it and goes on. A cancellation that came while
// that answer's completion was queued ends the receive there, with the answer
// taken and nothing else.
TEST_F(socket_tokens, a_cancellation_after_a_skipped_answer_ends_the_receive)
{
    // A request for nothing but an acknowledgement; the socket is connected
    // to the kernel, which answers among the data.
    nlmsghdr noop{};
    noop.nlmsg_len = sizeof noop;
    noop.nlmsg_type = NLMSG_NOOP;
    noop.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    noop.nlmsg_seq = 77;
    const int fd = watcher->native_socket().native_handle();
    ASSERT_EQ(::send(fd, &noop, sizeof noop, 0), static_cast<ssize_t>(sizeof noop)) << std::strerror(errno);
    pollfd readable{fd, POLLIN, 0};
    ASSERT_EQ(::poll(&readable, 1, 5000), 1) << "the kernel never answered";
    const auto datagrams_before = watcher->stats().datagrams;

    net::cancellation_signal stop;
    std::optional<error_code> outcome;
    watcher->async_receive(net::bind_cancellation_slot(stop.slot(), [&](error_code error, batch received) {
        outcome = error;
        EXPECT_EQ(received.packet_count(), 0u);
    }));
    // Asio reads at once when the socket holds data, and queues the
    // completion: the cancellation lands before the socket sees the answer.
    stop.emit(net::cancellation_type::terminal);
    io.run_for(std::chrono::seconds(5));
    ASSERT_TRUE(outcome.has_value()) << "the receive went on waiting after its cancellation";
    EXPECT_EQ(*outcome, net::error::operation_aborted);
    EXPECT_EQ(watcher->stats().datagrams, datagrams_before + 1) << "the answer was not read before the cancellation";

    // The next receive gets the next packet.
    send_one();
    EXPECT_EQ(collect(*watcher, 1).size(), 1u);
    EXPECT_EQ(watcher->stats().lost, 0u);
}

// configure() reads the socket until the kernel answers; under a pending
// receive the datagrams it keeps would wait unseen behind the next one. It
// refuses instead, and cancel, configure, receive loses nothing.
TEST_F(socket_tokens, configure_is_refused_while_a_receive_is_pending)
{
    net::cancellation_signal stop;
    std::optional<error_code> outcome;
    std::size_t packets = 0;
    watcher->async_receive(net::bind_cancellation_slot(stop.slot(), [&](error_code error, batch received) {
        outcome = error;
        packets += valid_packets(received);
    }));
    io.poll();
    send_one();
    group_settings immediate;
    immediate.queue_threshold = 1;
    const auto datagrams_before = watcher->stats().datagrams;
    auto refused = watcher->configure(41, immediate);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::receive_pending);
    EXPECT_EQ(watcher->stats().datagrams, datagrams_before) << "configure read the socket under the receive";

    stop.emit(net::cancellation_type::terminal);
    io.run();
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(*outcome, net::error::operation_aborted);
    EXPECT_EQ(packets, 0u);
    EXPECT_TRUE(watcher->configure(41, immediate));
    EXPECT_EQ(watcher->batching(41).queue_threshold, 1u);
    EXPECT_EQ(collect(*watcher, 1).size(), 1u);
    EXPECT_EQ(watcher->stats().packets, 1u);
    EXPECT_EQ(watcher->stats().lost, 0u);
}

TEST_F(socket_tokens, cancelling_mid_stream_loses_nothing)
{
    constexpr std::size_t total = 400;
    std::size_t received_packets = 0;
    std::size_t aborted = 0;
    net::cancellation_signal stop;
    std::function<void()> next = [&] {
        watcher->async_receive(net::bind_cancellation_slot(stop.slot(), [&](error_code error, batch received) {
            if (error == net::error::operation_aborted)
                ++aborted;
            else
                EXPECT_FALSE(error) << error.message();
            received_packets += valid_packets(received);
            if (received_packets < total)
                next();
        }));
    };
    next();
    // Interleave sends with cancellations of whatever receive is pending.
    for (std::size_t i = 0; i < total; ++i) {
        send_one();
        if (i % 3 == 0)
            stop.emit(net::cancellation_type::terminal);
        io.poll();
    }
    net::steady_timer deadline(io, std::chrono::seconds(10));
    deadline.async_wait([&](error_code error) {
        if (!error)
            watcher->cancel();
    });
    while (received_packets < total && !io.stopped())
        io.run_one();
    EXPECT_EQ(received_packets, total);
    EXPECT_GT(aborted, 0u);
    EXPECT_EQ(watcher->stats().lost, 0u);
    EXPECT_EQ(watcher->stats().overruns, 0u);
    EXPECT_EQ(netns->rule_packets("udp9"), static_cast<long>(total));
}

TEST_F(socket_tokens, close_with_a_receive_pending_aborts_it)
{
    std::optional<error_code> outcome;
    watcher->async_receive([&](error_code error, batch) { outcome = error; });
    io.poll();
    watcher->close();
    EXPECT_FALSE(watcher->is_open());
    io.run();
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(*outcome, net::error::operation_aborted);
    // The groups were released.
    EXPECT_TRUE(nflog::socket::open(io, options_for({41})));
}

TEST_F(socket_tokens, a_closed_socket_fails_every_operation_with_bad_descriptor)
{
    watcher->close();
    EXPECT_EQ(watcher->receive().error(), net::error::bad_descriptor);
    EXPECT_EQ(watcher->try_receive().error(), net::error::bad_descriptor);
    EXPECT_EQ(watcher->configure(41, {}).error(), net::error::bad_descriptor);
    std::optional<error_code> outcome;
    watcher->async_receive([&](error_code error, batch) { outcome = error; });
    io.run();
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(*outcome, net::error::bad_descriptor);
}

TEST_F(socket_tokens, destroying_with_a_receive_pending_aborts_it)
{
    std::optional<error_code> outcome;
    watcher->async_receive([&](error_code error, batch) { outcome = error; });
    io.poll();
    watcher.reset();
    io.run();
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(*outcome, net::error::operation_aborted);
}

// As with Asio's sockets: a moved-from socket keeps its executor, and every
// operation on it fails with bad_descriptor instead of touching the state
// that moved away.
TEST_F(socket_tokens, a_moved_from_socket_fails_every_operation_with_bad_descriptor)
{
    auto taken = std::move(*watcher);
    auto& moved_from = *watcher;
    EXPECT_FALSE(moved_from.is_open());
    EXPECT_TRUE(moved_from.get_executor() == io.get_executor());
    EXPECT_TRUE(moved_from.groups().empty());
    EXPECT_EQ(moved_from.stats().datagrams, 0u);
    EXPECT_EQ(moved_from.receive().error(), net::error::bad_descriptor);
    EXPECT_EQ(moved_from.try_receive().error(), net::error::bad_descriptor);
    EXPECT_EQ(moved_from.configure(41, {}).error(), net::error::bad_descriptor);
    std::optional<error_code> outcome;
    moved_from.async_receive([&](error_code error, batch) { outcome = error; });
    EXPECT_FALSE(outcome.has_value()) << "never inside the initiating function";
    io.run();
    ASSERT_TRUE(outcome.has_value());
    EXPECT_EQ(*outcome, net::error::bad_descriptor);
    moved_from.close();

    // The socket that took over works.
    send_one();
    auto received = taken.receive();
    ASSERT_TRUE(received) << received.error().message();
    EXPECT_EQ(valid_packets(received.value()), 1u);
}

// `as_default_on` rebinds a socket to an executor with a default
// completion token, through the converting move, as for Asio's sockets.
TEST_F(socket_tokens, as_default_on_gives_a_socket_with_a_default_token)
{
    auto awaiting = net::use_awaitable.as_default_on(std::move(*watcher));
    EXPECT_TRUE(awaiting.is_open());
    EXPECT_EQ(awaiting.groups(), std::vector<std::uint16_t>{41});
    send_one();
    std::size_t packets = 0;
    net::co_spawn(
        io,
        [&]() -> net::awaitable<void> {
            auto received = co_await awaiting.async_receive();
            packets = valid_packets(received);
        },
        [](std::exception_ptr failure) { EXPECT_FALSE(failure); });
    io.run();
    EXPECT_EQ(packets, 1u);
    EXPECT_EQ(awaiting.stats().packets, 1u);
}

// An executor that is made from the context's only explicitly (a strand).
TEST_F(socket_tokens, a_socket_on_a_strand_opens_from_the_context)
{
    watcher.reset();
    using strand_socket = basic_socket<net::strand<net::io_context::executor_type>>;
    auto opened = strand_socket::open(io, options_for({41}));
    ASSERT_TRUE(opened) << opened.error().message();
    auto on_strand = std::move(opened).value();
    send_one();
    std::size_t packets = 0;
    bool in_strand = false;
    on_strand.async_receive([&](error_code error, batch received) {
        EXPECT_FALSE(error) << error.message();
        in_strand = on_strand.get_executor().running_in_this_thread();
        packets = valid_packets(received);
    });
    io.run();
    EXPECT_EQ(packets, 1u);
    EXPECT_TRUE(in_strand);
}

TEST_F(socket_tokens, batches_outlive_the_socket)
{
    send_one();
    auto received = watcher->receive();
    ASSERT_TRUE(received);
    watcher.reset();
    ASSERT_EQ(received.value().packet_count(), 1u);
    EXPECT_EQ((*received.value().begin()).value().prefix(), "DENIED udp");
}

TEST_F(socket_tokens, the_receive_path_allocates_nothing_per_event)
{
    // Warm up: the buffer pool and Asio's handler memory are allocated once.
    steady_state_run probe(io, *sender, 1, 5, 200);
    std::size_t packets = 0;
    std::size_t ports = 0;
    std::function<void()> receive = [&] {
        watcher->async_receive([&](error_code error, batch received) {
            EXPECT_FALSE(error);
            for (const auto& item : received) {
                if (!item)
                    continue;
                ++packets;
                const auto flow = inet::decode(item.value().payload(), item.value().hw_protocol(), item.value().family());
                ports += flow.dst_port.value_or(0) == 9 ? 1 : 0;
            }
            if (!error && !probe.received(packets))
                receive();
        });
    };
    receive();
    probe.run();
    ASSERT_FALSE(probe.gave_up()) << "packets stopped arriving after " << packets;
    ASSERT_TRUE(probe.allocations().has_value());
    EXPECT_EQ(*probe.allocations(), 0u);
    EXPECT_EQ(packets, 205u);
    EXPECT_EQ(ports, 205u);
}

} // namespace
