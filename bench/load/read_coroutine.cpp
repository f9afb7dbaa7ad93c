// This library from a C++20 coroutine: co_await each batch.

#include "library_reader.hpp"
#include "phased_run.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace {

using namespace nflog::load;
namespace net = boost::asio;

net::awaitable<void> read_all(nflog::socket& socket, reader_tally& tally)
{
    for (;;) {
        auto [error, received] = co_await socket.async_receive(net::as_tuple(net::use_awaitable));
        if (!error)
            take_batch(received, tally);
        else if (error == nflog::errc::kernel_overrun)
            ++tally.overruns;
        else if (error != nflog::condition::overrun) // a datagram lost for memory: its gap comes later
            co_return;
    }
}

net::awaitable<void> watch_the_end(nflog::socket& socket, std::uint16_t group, phased_run& run)
{
    net::steady_timer timer(co_await net::this_coro::executor);
    const auto note = [&](const reader_tally& phase, const phased_run::totals& before) {
        return library_note(socket, group, phase, before);
    };
    for (;;) {
        timer.expires_after(std::chrono::milliseconds(100));
        auto [error] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        if (error || !run.check(note))
            break;
    }
    socket.cancel();
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const args options(argc, argv);
        const auto opts = library_options(options);
        phased_run run(options, "nflog-coroutine");
        options.reject_unused();

        net::io_context io(1);
        auto opened = nflog::socket::open(io, opts);
        if (!opened) {
            std::fprintf(stderr, "nflog_load_coroutine: %s\n", opened.error().message().c_str());
            return 1;
        }
        auto socket = std::move(opened).value();
        run.start();
        net::co_spawn(io, read_all(socket, run.tally), net::detached);
        net::co_spawn(io, watch_the_end(socket, opts.groups.front(), run), net::detached);
        io.run();
        return 0;
    }
    catch (const std::exception& failure) {
        std::fprintf(stderr, "nflog_load_coroutine: %s\n", failure.what());
        return 2;
    }
}
