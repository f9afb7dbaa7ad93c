// Runs a watcher that feeds a channel of received batches, and a coroutine
// that consumes them: one co_await per datagram, its packets read in place
// and made into events only here, where they are printed. Prints one JSON
// line per event and the watcher's counters at the end.
//
//   packet_channel --netns NAME --group 41 --count 3

#include "example_support.hpp"

#include <nflog/batch.hpp>
#include <nflog/event.hpp>
#include <nflog/event_channel.hpp>
#include <nflog/socket.hpp>
#include <nflog/watcher.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace {

namespace net = boost::asio;

// [snippet:packet-channel-consumer]
net::awaitable<void> consume(nflog::packet_channel& channel, std::size_t count)
{
    while (count > 0) {
        auto [error, received] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        if (error == net::experimental::error::channel_closed)
            co_return;
        if (error) {
            // An overrun: an empty batch, and the watcher goes on.
            example::print_line(example::report_json(error));
            continue;
        }
        const auto now = std::chrono::system_clock::now();
        if (received.lost_before() > 0) // dropped by the kernel right before this batch
            example::print_line(example::lost_json(received.lost_before()));
        for (const auto& packet : received) {
            if (!packet) {
                // A malformed message, at its place among the packets.
                example::print_line(example::report_json(packet.error()));
                continue;
            }
            example::print_line(example::event_json(nflog::make_event(packet.value(), now, received.source())));
            if (--count == 0)
                break;
        }
        if (received.truncated())
            example::print_line(example::truncated_json());
    }
}
// [/snippet]

} // namespace

int main(int argc, char** argv)
{
    const auto args = example::parse_arguments(argc, argv);
    net::io_context io;
    auto opened = nflog::socket::open(io, example::options_for(args, args.namespaces.empty() ? "" : args.namespaces[0]));
    if (!opened) {
        std::fprintf(stderr, "packet_channel: %s\n", opened.error().message().c_str());
        return 1;
    }

    // [snippet:packet-channel-setup]
    // Each batch in the channel holds a receive buffer: keep the capacity small.
    nflog::packet_channel channel(io, 8);
    nflog::packet_watcher watcher(std::move(opened).value(), channel);
    watcher.async_run([&](boost::system::error_code error) {
        // A run that ends by itself (the socket failed, memory ran out) says
        // why, and closing the channel ends the consumer too.
        if (error != net::error::operation_aborted)
            std::fprintf(stderr, "packet_channel: the watcher stopped: %s\n", error.message().c_str());
        channel.close();
    });
    net::co_spawn(io, consume(channel, args.count), [&](std::exception_ptr) {
        watcher.close();
        channel.close();
    });
    io.run_for(args.timeout);
    // [/snippet]

    const auto stats = watcher.stats();
    std::fprintf(stderr, "{\"events\":%llu,\"reports\":%llu,\"overruns\":%llu,\"lost\":%llu}\n",
                 static_cast<unsigned long long>(stats.events), static_cast<unsigned long long>(stats.reports),
                 static_cast<unsigned long long>(stats.socket.overruns),
                 static_cast<unsigned long long>(stats.socket.lost));
    return 0;
}
