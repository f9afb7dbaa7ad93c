// Watches the same NFLOG groups in several network namespaces at once: one
// watcher per namespace, all feeding one channel. Prints one JSON line per
// event, naming the namespace it came from.
//
//   namespaces --netns red --netns blue --group 41 --count 6

#include "example_support.hpp"

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
#include <string>
#include <vector>

namespace {

namespace net = boost::asio;

net::awaitable<void> consume(nflog::event_channel& channel, const std::vector<std::string>& names, std::size_t count)
{
    while (count > 0) {
        auto [error, event] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        if (error == net::experimental::error::channel_closed)
            co_return;
        // Reports carry their source too: an overrun names its namespace.
        const auto& netns = names.at(event.source);
        if (error) {
            example::print_line(example::report_json(error, netns));
            continue;
        }
        example::print_line(example::event_json(event, netns));
        --count;
    }
}

} // namespace

int main(int argc, char** argv)
{
    auto args = example::parse_arguments(argc, argv);
    if (args.namespaces.empty())
        args.namespaces.emplace_back(); // the caller's own namespace
    net::io_context io;

    // [snippet:namespaces]
    nflog::event_channel channel(io, 256);
    std::vector<nflog::watcher> watchers;
    watchers.reserve(args.namespaces.size());
    for (nflog::source_id source = 0; source < args.namespaces.size(); ++source) {
        auto opened = nflog::socket::open(io, example::options_for(args, args.namespaces[source]));
        if (!opened) {
            std::fprintf(stderr, "namespaces: %s: %s\n", args.namespaces[source].c_str(),
                         opened.error().message().c_str());
            return 1;
        }
        // The source id is the index of the namespace's name.
        watchers.emplace_back(std::move(opened).value(), channel, source);
        // The others go on when one run ends by itself; it says why.
        watchers.back().async_run([&, source](boost::system::error_code error) {
            if (error != net::error::operation_aborted)
                std::fprintf(stderr, "namespaces: the watcher of %s stopped: %s\n",
                             args.namespaces[source].c_str(), error.message().c_str());
        });
    }
    // [/snippet]

    net::co_spawn(io, consume(channel, args.namespaces, args.count), [&](std::exception_ptr) {
        for (auto& watcher : watchers)
            watcher.close();
        channel.close();
    });
    io.run_for(args.timeout);
    return 0;
}
