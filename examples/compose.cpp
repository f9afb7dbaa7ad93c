// One consumer waits for NFLOG events, a timer and a followed log file at
// once, and merges them into one stream of JSON lines. `--mode or` races
// them with awaitable operators, `--mode group` with a parallel group.
//
//   compose --netns NAME --group 41 --file /var/log/app.log --count 3 --lines 2

#include "example_support.hpp"
#include "line_follower.hpp"

#include <nflog/event_channel.hpp>
#include <nflog/socket.hpp>
#include <nflog/watcher.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <utility>

namespace {

namespace net = boost::asio;
using boost::system::error_code;
using namespace std::chrono_literals;

constexpr auto tick_period = 250ms;

/// The merged stream and when it is done.
class merged_output {
public:
    explicit merged_output(const example::arguments& args) : events_wanted_(args.count), lines_wanted_(args.lines) {}

    void on_nflog(const error_code& error, const nflog::event& event)
    {
        if (error) {
            example::print_line(example::report_json(error));
            return;
        }
        example::print_line(example::event_json(event));
        ++events_;
    }
    void on_line(const std::string& line)
    {
        std::string out = "{";
        example::append_field(out, "source", "file");
        example::append_field(out, "line", line);
        example::print_line(out + "}");
        ++lines_;
    }
    void on_tick()
    {
        std::string out = "{";
        example::append_field(out, "source", "timer");
        example::append_field(out, "ticks", ++ticks_);
        example::print_line(out + "}");
    }
    bool done() const { return events_ >= events_wanted_ && lines_ >= lines_wanted_; }

private:
    std::size_t events_wanted_;
    std::size_t lines_wanted_;
    std::size_t events_ = 0;
    std::size_t lines_ = 0;
    std::uint64_t ticks_ = 0;
};

// [snippet:compose-or]
/// What one round of the race produced. Each branch stores its own result
/// before it ends: `||` returns only the winner's, and a loser that
/// completed an instant after the winner would otherwise take an event or a
/// line with it.
struct round_results {
    std::optional<std::pair<error_code, nflog::event>> nflog;
    std::optional<std::string> line;
    bool tick = false;
};

net::awaitable<void> next_event(nflog::event_channel& channel, round_results& out)
{
    auto [error, event] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
    if (error != net::experimental::error::channel_cancelled)
        out.nflog.emplace(error, event);
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

net::awaitable<void> race_with_or(nflog::event_channel& channel, example::line_follower& file,
                                  net::steady_timer& timer, merged_output& output)
{
    using namespace net::experimental::awaitable_operators;
    while (!output.done()) {
        round_results results;
        co_await (next_event(channel, results) || next_line(file, results) || next_tick(timer, results));
        // The channel is closed once its watcher stopped: no event comes
        // again, and every later receive would complete at once.
        const bool closed = results.nflog && results.nflog->first == net::experimental::error::channel_closed;
        // Whoever won: handle everything that arrived.
        if (results.nflog && !closed)
            output.on_nflog(results.nflog->first, results.nflog->second);
        if (results.line)
            output.on_line(*results.line);
        if (results.tick) {
            output.on_tick();
            timer.expires_after(tick_period);
        }
        if (closed)
            co_return;
    }
}
// [/snippet]

// [snippet:compose-group]
net::awaitable<void> race_with_group(nflog::event_channel& channel, example::line_follower& file,
                                     net::steady_timer& timer, merged_output& output)
{
    while (!output.done()) {
        auto [order, event_error, event, line_error, line, tick_error] =
            co_await net::experimental::make_parallel_group(channel.async_receive(net::deferred),
                                                            file.async_read_line(net::deferred),
                                                            timer.async_wait(net::deferred))
                .async_wait(net::experimental::wait_for_one(), net::use_awaitable);
        // The group reports every branch, the cancelled ones too: a branch
        // that completed despite the cancellation still carries its result.
        // A closed channel ends the stream, as in race_with_or.
        const bool closed = event_error == net::experimental::error::channel_closed;
        if (event_error != net::experimental::error::channel_cancelled && !closed)
            output.on_nflog(event_error, event);
        if (!line_error)
            output.on_line(line);
        if (!tick_error) {
            output.on_tick();
            timer.expires_after(tick_period);
        }
        if (closed)
            co_return;
    }
}
// [/snippet]

} // namespace

int main(int argc, char** argv)
{
    const auto args = example::parse_arguments(argc, argv);
    if (args.file.empty())
        example::usage(argc > 0 ? argv[0] : "compose", "--file is required");
    net::io_context io;
    std::optional<example::line_follower> file;
    try {
        file.emplace(io.get_executor(), args.file);
    }
    catch (const boost::system::system_error& failure) {
        std::fprintf(stderr, "compose: %s\n", failure.what());
        return 1;
    }
    auto opened = nflog::socket::open(io, example::options_for(args, args.namespaces.empty() ? "" : args.namespaces[0]));
    if (!opened) {
        std::fprintf(stderr, "compose: %s\n", opened.error().message().c_str());
        return 1;
    }

    nflog::event_channel channel(io, 64);
    nflog::watcher watcher(std::move(opened).value(), channel);
    watcher.async_run([&](boost::system::error_code error) {
        // A run that ends by itself (the socket failed, memory ran out) says
        // why, and closing the channel ends the consumer too.
        if (error != net::error::operation_aborted)
            std::fprintf(stderr, "compose: the watcher stopped: %s\n", error.message().c_str());
        channel.close();
    });
    net::steady_timer timer(io, tick_period);
    merged_output output(args);
    auto race = args.mode == "group" ? race_with_group(channel, *file, timer, output)
                                     : race_with_or(channel, *file, timer, output);
    net::co_spawn(io, std::move(race), [&](std::exception_ptr failure) {
        if (failure)
            std::fprintf(stderr, "compose: the race failed\n");
        watcher.close();
        channel.close();
    });
    io.run_for(args.timeout);
    return 0;
}
