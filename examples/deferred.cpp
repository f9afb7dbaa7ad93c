// Builds NFLOG receive operations as values with net::deferred, chains a
// step onto them, and launches them later; prints one JSON line per event.
//
//   deferred --netns NAME --group 41 --count 3

#include "example_support.hpp"

#include <nflog/event.hpp>
#include <nflog/socket.hpp>

#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>

namespace {

namespace net = boost::asio;

// [snippet:deferred]
/// Receives one batch and prints up to `remaining` of its events. Nothing
/// happens until the returned operation is launched with a completion token;
/// it then completes with `void(error_code, std::size_t printed)`.
auto print_one_batch(nflog::socket& socket, std::size_t& remaining)
{
    return socket.async_receive(
        net::deferred([&remaining](boost::system::error_code error, nflog::batch received) {
            std::size_t printed = 0;
            const auto now = std::chrono::system_clock::now();
            if (received.lost_before() > 0)
                example::print_line(example::lost_json(received.lost_before()));
            for (const auto& packet : received) {
                if (!packet) {
                    example::print_line(example::report_json(packet.error()));
                } else if (remaining > 0) {
                    example::print_line(example::event_json(nflog::make_event(packet.value(), now)));
                    --remaining;
                    ++printed;
                }
            }
            if (received.truncated())
                example::print_line(example::truncated_json());
            return net::deferred.values(error, printed);
        }));
}

void print_until_done(nflog::socket& socket, std::size_t& remaining)
{
    auto operation = print_one_batch(socket, remaining);
    std::move(operation)([&socket, &remaining](boost::system::error_code error, std::size_t) {
        if (error == nflog::condition::overrun)
            example::print_line(example::report_json(error));
        else if (error)
            return; // cancelled or closed
        if (remaining == 0)
            return socket.close();
        print_until_done(socket, remaining);
    });
}
// [/snippet]

} // namespace

int main(int argc, char** argv)
{
    const auto args = example::parse_arguments(argc, argv);
    net::io_context io;
    auto opened = nflog::socket::open(io, example::options_for(args, args.namespaces.empty() ? "" : args.namespaces[0]));
    if (!opened) {
        std::fprintf(stderr, "deferred: %s\n", opened.error().message().c_str());
        return 1;
    }
    auto socket = std::move(opened).value();
    std::size_t remaining = args.count;
    if (remaining > 0)
        print_until_done(socket, remaining);
    io.run_for(args.timeout);
    return 0;
}
