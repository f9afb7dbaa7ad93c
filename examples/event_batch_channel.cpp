// Runs a watcher that feeds a channel of event batches, and a coroutine that
// consumes them: one co_await per batch, however many events the kernel
// delivered at once. Prints one JSON line per event and the watcher's
// counters at the end.
//
//   event_batch_channel --netns NAME --group 41 --count 3

#include "example_support.hpp"

#include <nflog/event_batch.hpp>
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

#include <cstdio>
#include <exception>

namespace {

namespace net = boost::asio;

// [snippet:event-batch-channel-consumer]
net::awaitable<void> consume(nflog::event_batch_channel& channel, std::size_t count)
{
    while (count > 0) {
        auto [error, events] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        if (error == net::experimental::error::channel_closed)
            co_return;
        if (error) {
            // An overrun or a malformed message: an empty batch, and the watcher goes on.
            example::print_line(example::report_json(error));
            continue;
        }
        for (const nflog::event& event : events) {
            example::print_line(example::event_json(event));
            if (--count == 0)
                break;
        }
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
        std::fprintf(stderr, "event_batch_channel: %s\n", opened.error().message().c_str());
        return 1;
    }

    // [snippet:event-batch-channel-setup]
    // The capacity counts batches of up to nflog::event_batch::max_size events.
    nflog::event_batch_channel channel(io, 16);
    nflog::event_batch_watcher watcher(std::move(opened).value(), channel);
    watcher.async_run([&](boost::system::error_code error) {
        // A run that ends by itself (the socket failed, memory ran out) says
        // why, and closing the channel ends the consumer too.
        if (error != net::error::operation_aborted)
            std::fprintf(stderr, "event_batch_channel: the watcher stopped: %s\n", error.message().c_str());
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
