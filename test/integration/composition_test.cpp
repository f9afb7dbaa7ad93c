// One consumer racing NFLOG events against a timer and another watcher (a
// followed file): whichever wins a round, nothing the losers had already
// received is lost.

#include <nflog/watcher.hpp>

#include "nflog_fixture.hpp"

#include "../../examples/line_follower.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <exception>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;
using boost::system::error_code;
namespace channel_error = boost::asio::experimental::error;

constexpr std::size_t packets = 300;
constexpr std::size_t lines = 100;
// Short enough that the timer wins many rounds while traffic flows.
constexpr auto tick = 200us;

/// A file in /tmp, removed afterwards, and an appending descriptor to it.
class temporary_log {
public:
    temporary_log()
    {
        char name[] = "/tmp/nflog-composition-XXXXXX";
        fd_ = ::mkstemp(name);
        EXPECT_GE(fd_, 0);
        path_ = name;
        ::fcntl(fd_, F_SETFL, O_APPEND);
    }
    ~temporary_log()
    {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }
    void append_line(std::size_t number) const
    {
        const auto line = "line " + std::to_string(number) + "\n";
        EXPECT_EQ(::write(fd_, line.data(), line.size()), static_cast<ssize_t>(line.size()));
    }

private:
    int fd_ = -1;
    std::string path_;
};

/// What the consumer saw over all rounds.
struct tally {
    std::vector<std::uint32_t> sequence; ///< the events' sequence numbers, in order
    std::vector<std::string> lines;
    std::size_t reports = 0;
    std::size_t ticks = 0;
    std::size_t rounds = 0;
    bool complete() const { return sequence.size() >= packets && lines.size() >= ::lines; }
};

class composition : public nflog_fixture {
protected:
    void SetUp() override
    {
        nflog_fixture::SetUp();
        if (IsSkipped() || HasFatalFailure())
            return;
        watcher.emplace(open_socket({41}), channel, 0);
        watcher->async_run([](error_code error) { EXPECT_EQ(error, net::error::operation_aborted); });
        follower.emplace(io.get_executor(), log.path());
    }

    /// Sends the packets and appends the lines from another thread, spread
    /// out so that the consumer races them against its timer.
    std::thread start_traffic()
    {
        return std::thread([this] {
            namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
            for (std::size_t i = 0; i < packets; ++i) {
                udp.send_udp("127.0.0.1", 9, 1);
                if (i % 3 == 0)
                    log.append_line(i / 3);
                ::usleep(300);
            }
        });
    }

    /// Runs `race` until it ends, then stops the watcher.
    void run(net::awaitable<void> race)
    {
        std::exception_ptr failure;
        net::co_spawn(io, std::move(race), [&](std::exception_ptr error) {
            failure = error;
            watcher->cancel();
        });
        io.run_for(60s);
        EXPECT_FALSE(failure);
    }

    void expect_nothing_lost(const tally& seen)
    {
        ASSERT_EQ(seen.sequence.size(), packets);
        for (std::size_t i = 0; i < packets; ++i)
            ASSERT_EQ(seen.sequence[i], i) << "event " << i << " missing or out of order";
        ASSERT_EQ(seen.lines.size(), lines);
        for (std::size_t i = 0; i < lines; ++i)
            EXPECT_EQ(seen.lines[i], "line " + std::to_string(i));
        EXPECT_EQ(seen.reports, 0u);
        EXPECT_EQ(watcher->stats().socket.lost, 0u);
        EXPECT_EQ(watcher->stats().socket.overruns, 0u);
        EXPECT_GT(seen.ticks, 0u) << "the timer never won: the race was not tested";
        EXPECT_EQ(netns->rule_packets("udp9"), static_cast<long>(packets));
    }

    static void take(tally& seen, const error_code& error, const event& value)
    {
        if (error)
            ++seen.reports;
        else
            seen.sequence.push_back(value.seq.value_or(0xffffffffu));
    }

    event_channel channel{io, 64};
    temporary_log log;
    std::optional<nflog::watcher> watcher;
    std::optional<example::line_follower> follower;
};

// Branches for `||`: each stores what it received before it ends, because
// `||` returns only the winner's result.
struct round_results {
    std::optional<std::pair<error_code, event>> nflog;
    std::optional<std::string> line;
    bool tick = false;
};

net::awaitable<void> next_event(event_channel& channel, round_results& out)
{
    auto [error, value] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
    if (error != channel_error::channel_cancelled)
        out.nflog.emplace(error, value);
}

net::awaitable<void> next_line(example::line_follower& file, round_results& out)
{
    auto [error, line] = co_await file.async_read_line(net::as_tuple(net::use_awaitable));
    if (!error)
        out.line = std::move(line);
}

net::awaitable<void> next_tick(net::steady_timer& timer, round_results& out)
{
    auto [error] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
    out.tick = !error;
}

TEST_F(composition, racing_with_or_loses_no_event_and_no_line)
{
    tally seen;
    auto race = [&]() -> net::awaitable<void> {
        using namespace net::experimental::awaitable_operators;
        net::steady_timer timer(io, tick);
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (!seen.complete() && std::chrono::steady_clock::now() < give_up) {
            round_results results;
            co_await (next_event(channel, results) || next_line(*follower, results) || next_tick(timer, results));
            ++seen.rounds;
            if (results.nflog)
                take(seen, results.nflog->first, results.nflog->second);
            if (results.line)
                seen.lines.push_back(*results.line);
            if (results.tick) {
                ++seen.ticks;
                timer.expires_after(tick);
            }
        }
    };
    auto traffic = start_traffic();
    run(race());
    traffic.join();
    expect_nothing_lost(seen);
}

TEST_F(composition, racing_with_a_parallel_group_loses_no_event_and_no_line)
{
    tally seen;
    auto race = [&]() -> net::awaitable<void> {
        net::steady_timer timer(io, tick);
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (!seen.complete() && std::chrono::steady_clock::now() < give_up) {
            auto [order, event_error, value, line_error, line, tick_error] =
                co_await net::experimental::make_parallel_group(channel.async_receive(net::deferred),
                                                                follower->async_read_line(net::deferred),
                                                                timer.async_wait(net::deferred))
                    .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
            ++seen.rounds;
            if (event_error != channel_error::channel_cancelled)
                take(seen, event_error, value);
            if (!line_error)
                seen.lines.push_back(line);
            if (!tick_error) {
                ++seen.ticks;
                timer.expires_after(tick);
            }
        }
    };
    auto traffic = start_traffic();
    run(race());
    traffic.join();
    expect_nothing_lost(seen);
}

// The same race one level down: a socket receive that loses to the timer
// leaves its datagram for the next round.
TEST_F(composition, racing_a_socket_receive_with_a_timer_loses_nothing)
{
    watcher->close(); // this test reads the group through a socket of its own
    auto direct = open_socket({41});
    std::size_t received = 0;
    std::size_t ticks = 0;
    auto race = [&]() -> net::awaitable<void> {
        using namespace net::experimental::awaitable_operators;
        net::steady_timer timer(io, tick);
        const auto give_up = std::chrono::steady_clock::now() + 30s;
        while (received < packets && std::chrono::steady_clock::now() < give_up) {
            std::optional<batch> got;
            bool ticked = false;
            auto next_batch = [&]() -> net::awaitable<void> {
                auto [error, value] = co_await direct.async_receive(net::as_tuple(net::use_awaitable));
                EXPECT_TRUE(!error || error == net::error::operation_aborted) << error.message();
                if (!error)
                    got = std::move(value);
            };
            auto next_tick = [&]() -> net::awaitable<void> {
                auto [error] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
                ticked = !error;
            };
            co_await (next_batch() || next_tick());
            if (got)
                received += got->packet_count();
            if (ticked) {
                ++ticks;
                timer.expires_after(tick);
            }
        }
    };
    std::thread traffic([this] {
        namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
        for (std::size_t i = 0; i < packets; ++i) {
            udp.send_udp("127.0.0.1", 9, 1);
            ::usleep(300);
        }
    });
    std::exception_ptr failure;
    net::co_spawn(io, race(), [&](std::exception_ptr error) { failure = error; });
    io.run_for(60s);
    traffic.join();
    EXPECT_FALSE(failure);
    EXPECT_EQ(received, packets);
    EXPECT_GT(ticks, 0u);
    EXPECT_EQ(direct.stats().lost, 0u);
    EXPECT_EQ(netns->rule_packets("udp9"), static_cast<long>(packets));
}

} // namespace
