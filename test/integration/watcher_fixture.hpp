#ifndef NFLOG_TEST_INTEGRATION_WATCHER_FIXTURE_HPP
#define NFLOG_TEST_INTEGRATION_WATCHER_FIXTURE_HPP

#include "nflog_fixture.hpp"

#include <nflog/watcher.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/experimental/channel_error.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <vector>

namespace nflog::test {

/// Events one channel message delivers, whatever the channel carries.
inline std::size_t events_in(const event&) { return 1; }
inline std::size_t events_in(const event_batch& events) { return events.size(); }
inline std::size_t events_in(const batch& datagram) { return datagram.packet_count(); }

/// Receives everything from a channel of `void(error_code, Message)`, one
/// message at a time, until the channel is cancelled or closed; keeps every
/// message (a batch keeps its storage).
template <class Channel, class Message>
class channel_consumer {
public:
    struct message {
        boost::system::error_code error;
        Message value;
    };

    explicit channel_consumer(Channel& channel) : channel_(channel) {}

    void start()
    {
        channel_.async_receive(
            net::bind_cancellation_slot(stop_.slot(), [this](boost::system::error_code error, Message value) {
                namespace channel_error = net::experimental::error;
                if (error == channel_error::channel_cancelled || error == channel_error::channel_closed) {
                    ended_with = error;
                    return;
                }
                if (error)
                    ++reports[error];
                else
                    events += events_in(value);
                messages.push_back({error, std::move(value)});
                if (after_each && after_each())
                    return;
                start();
            }));
    }
    void stop() { stop_.emit(net::cancellation_type::terminal); }

    std::vector<message> messages;
    std::size_t events = 0;
    std::map<boost::system::error_code, std::size_t> reports;
    std::optional<boost::system::error_code> ended_with;
    /// Called after each message is kept; returning true stops receiving.
    std::function<bool()> after_each;

private:
    Channel& channel_;
    net::cancellation_signal stop_;
};

/// `count` numbers from `first` on: the sequence numbers a run should show.
inline std::vector<std::uint32_t> count_from(std::uint32_t first, std::uint32_t count)
{
    std::vector<std::uint32_t> out;
    for (std::uint32_t i = 0; i < count; ++i)
        out.push_back(first + i);
    return out;
}

/// The namespace of `nflog_fixture`, with what the watcher tests run.
class watcher_fixture : public nflog_fixture {
protected:
    /// Runs the io_context until `done()` holds or the bounded wait ends.
    template <class Predicate>
    bool run_until(Predicate done, std::chrono::seconds limit = std::chrono::seconds(10))
    {
        io.restart();
        const auto give_up = std::chrono::steady_clock::now() + limit;
        while (!done() && std::chrono::steady_clock::now() < give_up)
            io.run_one_for(std::chrono::milliseconds(50));
        return done();
    }

    /// Runs the io_context until nothing happened for a while.
    void run_until_quiet()
    {
        io.restart();
        for (int round = 0, idle = 0; round < 2000 && idle < 10; ++round)
            idle = io.run_for(std::chrono::milliseconds(20)) == 0 ? idle + 1 : 0;
    }

    nflog::socket open_with(const options& opts)
    {
        auto opened = nflog::socket::open(io, opts);
        EXPECT_TRUE(opened) << opened.error().message();
        return std::move(opened).value();
    }

    /// Group 41 held by the kernel until `count` packets are queued, then
    /// sent in one datagram.
    options one_datagram_of(std::uint32_t count) const
    {
        auto opts = options_for({41});
        opts.adaptive_batching = false;
        opts.queue_threshold = count;
        opts.flush_timeout = std::chrono::seconds(10);
        return opts;
    }

    /// Sends `count` packets to the flood rule (udp port 11, group 44) in
    /// chunks, running what is ready between them but never waiting: a
    /// consumer that does not read lets the channel, then the socket fill.
    void send_flood(const namespace_socket& udp, std::size_t count)
    {
        for (std::size_t sent = 0; sent < count; sent += 500) {
            udp.send_udp("127.0.0.1", 11, 500);
            io.restart();
            io.poll();
        }
    }

    /// After a flood of `logged` packets: a later packet reveals the gap of
    /// the batches dropped last; should the socket still be congested when
    /// it arrives, it is dropped too and the next one reveals both. Sends up
    /// to five, until `accounted()` (received + counted lost) covers every
    /// packet logged, and returns how many were logged in all.
    template <class Accounted>
    std::size_t reveal_the_last_gap(const namespace_socket& udp, std::size_t logged, Accounted accounted)
    {
        for (int attempt = 0; attempt < 5; ++attempt) {
            udp.send_udp("127.0.0.1", 11, 1);
            ++logged;
            if (run_until([&] { return accounted() >= logged; }, std::chrono::seconds(3)))
                break;
        }
        return logged;
    }

    /// Sends `count` packets to udp port 9 (group 41) and runs the loop until
    /// `received()` reaches `expected` or a bounded wait ends.
    template <class Received>
    void send_and_wait(const namespace_socket& udp, std::size_t count, std::size_t expected, Received received)
    {
        udp.send_udp("127.0.0.1", 9, count);
        io.restart();
        for (int tries = 0; received() < expected && tries < 200; ++tries)
            io.run_one_for(std::chrono::milliseconds(50));
    }

    std::optional<boost::system::error_code> run_result;
    auto record_run()
    {
        return [this](boost::system::error_code error) { run_result = error; };
    }
};

} // namespace nflog::test

#endif
