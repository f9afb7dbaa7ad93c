// Receives NFLOG batches from a plain thread through std::future, while an
// io_context runs in the background, and prints one JSON line per event.
//
//   use_future --netns NAME --group 41 --count 3

#include "example_support.hpp"

#include <nflog/event.hpp>
#include <nflog/socket.hpp>

#include <boost/asio/deferred.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstdio>
#include <future>
#include <thread>

namespace {

namespace net = boost::asio;

// [snippet:use_future]
/// Starts a receive on the socket's own thread (sockets are not thread-safe)
/// and hands its result to the calling thread as a future.
std::future<nflog::batch> receive_from_another_thread(nflog::socket& socket)
{
    return net::post(socket.get_executor(),
                     net::deferred([&socket] { return socket.async_receive(net::deferred); }))(net::use_future);
}
// [/snippet]

} // namespace

int main(int argc, char** argv)
{
    const auto args = example::parse_arguments(argc, argv);
    net::io_context io;
    auto opened = nflog::socket::open(io, example::options_for(args, args.namespaces.empty() ? "" : args.namespaces[0]));
    if (!opened) {
        std::fprintf(stderr, "use_future: %s\n", opened.error().message().c_str());
        return 1;
    }
    auto socket = std::move(opened).value();
    auto work = net::make_work_guard(io);
    std::thread runner([&io] { io.run(); });

    const auto give_up = std::chrono::steady_clock::now() + args.timeout;
    std::size_t printed = 0;
    while (printed < args.count) {
        auto next = receive_from_another_thread(socket);
        if (next.wait_until(give_up) == std::future_status::timeout) {
            net::post(io, [&socket] { socket.cancel(); });
            next.wait();
            break;
        }
        try {
            const auto received = next.get();
            const auto now = std::chrono::system_clock::now();
            if (received.lost_before() > 0)
                example::print_line(example::lost_json(received.lost_before()));
            for (const auto& packet : received) {
                if (!packet) {
                    example::print_line(example::report_json(packet.error()));
                } else if (printed < args.count) {
                    example::print_line(example::event_json(nflog::make_event(packet.value(), now)));
                    ++printed;
                }
            }
            if (received.truncated())
                example::print_line(example::truncated_json());
        }
        catch (const boost::system::system_error& failure) {
            // use_future turns an error into an exception: an overrun is worth
            // a line and another try, anything else ends the loop.
            example::print_line(example::report_json(failure.code()));
            if (failure.code() != nflog::condition::overrun)
                break;
        }
    }
    net::post(io, [&socket] { socket.close(); });
    work.reset();
    runner.join();
    return 0;
}
