// Receives NFLOG batches in a C++20 coroutine and prints one JSON line per
// event.
//
//   coroutine --netns NAME --group 41 --count 3

#include "example_support.hpp"

#include <nflog/event.hpp>
#include <nflog/socket.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>

namespace {

namespace net = boost::asio;

// [snippet:coroutine]
net::awaitable<void> print_events(nflog::socket& socket, std::size_t count)
{
    while (count > 0) {
        // as_tuple: an overrun is a value to report, not an exception.
        auto [error, received] = co_await socket.async_receive(net::as_tuple(net::use_awaitable));
        if (error == nflog::condition::overrun) {
            example::print_line(example::report_json(error));
            continue;
        }
        if (error)
            co_return; // cancelled or closed
        const auto now = std::chrono::system_clock::now();
        if (received.lost_before() > 0) // dropped by the kernel right before this batch
            example::print_line(example::lost_json(received.lost_before()));
        for (const auto& packet : received) {
            if (!packet) { // a malformed message: reported, and the next one is read
                example::print_line(example::report_json(packet.error()));
            } else if (count > 0) {
                example::print_line(example::event_json(nflog::make_event(packet.value(), now)));
                --count;
            }
        }
        if (received.truncated())
            example::print_line(example::truncated_json());
    }
    socket.close();
}
// [/snippet]

} // namespace

int main(int argc, char** argv)
{
    const auto args = example::parse_arguments(argc, argv);
    net::io_context io;
    auto opened = nflog::socket::open(io, example::options_for(args, args.namespaces.empty() ? "" : args.namespaces[0]));
    if (!opened) {
        std::fprintf(stderr, "coroutine: %s\n", opened.error().message().c_str());
        return 1;
    }
    auto socket = std::move(opened).value();
    net::co_spawn(io, print_events(socket, args.count), net::detached);
    io.run_for(args.timeout);
    return 0;
}
