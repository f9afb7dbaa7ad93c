// Receives NFLOG batches with plain callback handlers and prints one JSON
// line per event.
//
//   callback --netns NAME --group 41 --count 3

#include "example_support.hpp"

#include <nflog/event.hpp>
#include <nflog/socket.hpp>

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdio>

namespace {

// [snippet:callback]
/// Prints `count` events, then closes the socket.
class printer {
public:
    printer(nflog::socket& socket, std::size_t count) : socket_(socket), remaining_(count) {}

    void start()
    {
        socket_.async_receive([this](boost::system::error_code error, nflog::batch received) {
            on_batch(error, std::move(received));
        });
    }

private:
    void on_batch(boost::system::error_code error, nflog::batch received)
    {
        if (error == nflog::condition::overrun) {
            example::print_line(example::report_json(error)); // lost events are counted; keep going
            return start();
        }
        if (error)
            return; // cancelled or closed
        const auto now = std::chrono::system_clock::now();
        if (received.lost_before() > 0) // dropped by the kernel right before this batch
            example::print_line(example::lost_json(received.lost_before()));
        for (const auto& packet : received) {
            if (!packet) {
                example::print_line(example::report_json(packet.error()));
                continue;
            }
            example::print_line(example::event_json(nflog::make_event(packet.value(), now)));
            if (--remaining_ == 0)
                return socket_.close();
        }
        if (received.truncated())
            example::print_line(example::truncated_json());
        start();
    }

    nflog::socket& socket_;
    std::size_t remaining_;
};
// [/snippet]

} // namespace

int main(int argc, char** argv)
{
    const auto args = example::parse_arguments(argc, argv);
    if (args.count == 0)
        return 0;
    boost::asio::io_context io;
    auto opened = nflog::socket::open(io, example::options_for(args, args.namespaces.empty() ? "" : args.namespaces[0]));
    if (!opened) {
        std::fprintf(stderr, "callback: %s\n", opened.error().message().c_str());
        return 1;
    }
    auto socket = std::move(opened).value();

    printer events(socket, args.count);
    events.start();
    // Returns when the printer is done (no work is left) or the time is up.
    io.run_for(args.timeout);
    return 0;
}
