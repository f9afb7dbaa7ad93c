// This library's event channels: a watcher runs the receive loop and sends
// owned events into an nflog::event_channel; a coroutine consumes them, by
// default one co_await per event, with `--drain 1` one co_await and then
// try_receive until the channel is empty. With `--batches 1` the watcher
// sends into an nflog::event_batch_channel and the coroutine takes a batch
// of events per co_await; with `--packets 1` into an nflog::packet_channel,
// and the coroutine reads each received datagram's packets in place, as the
// socket readers do. Events carry no payload, so the
// reader times them by the packet mark, where the flood puts the low 32
// bits of its stamp, and reads the clock once per event (it never sees
// datagrams).

#include "args.hpp"
#include "library_reader.hpp"
#include "phased_run.hpp"
#include "reader_tally.hpp"

#include <nflog/event_channel.hpp>
#include <nflog/watcher.hpp>

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

// Large enough to ride out a scheduling hiccup of the consumer at a flood;
// the socket's receive buffer behind it is the real queue.
constexpr std::size_t channel_capacity = 4096;
// The same cushion in events for a channel of batches.
constexpr std::size_t batch_channel_capacity = channel_capacity / nflog::event_batch::max_size;
// Datagrams at a flood hold hundreds of events, and each one in the channel
// holds a receive buffer.
constexpr std::size_t packet_channel_capacity = 16;

// False when the channel has nothing more to give (cancelled or closed).
bool take(boost::system::error_code error, const nflog::event& event, reader_tally& tally) noexcept
{
    // The other reports of a lost datagram (cut, or lost for memory) leave
    // their gap to the next event; only an overrun is counted as one.
    if (error == nflog::condition::overrun) {
        tally.overruns += error == nflog::errc::kernel_overrun;
        return true;
    }
    if (error)
        return false;
    tally.event_by_mark(event.mark, event.prefix().size(), tally.event_arrived());
    tally.lost += event.lost_before;
    return true;
}

bool take(boost::system::error_code error, const nflog::event_batch& batch, reader_tally& tally) noexcept
{
    // The other reports of a lost datagram (cut, or lost for memory) leave
    // their gap to the next event; only an overrun is counted as one.
    if (error == nflog::condition::overrun) {
        tally.overruns += error == nflog::errc::kernel_overrun;
        return true;
    }
    if (error)
        return false;
    // The batch came in one piece: one clock reading for all of it.
    const auto arrived = tally.event_arrived();
    for (const auto& event : batch) {
        tally.event_by_mark(event.mark, event.prefix().size(), arrived);
        tally.lost += event.lost_before;
    }
    return true;
}

net::awaitable<void> consume(nflog::event_channel& channel, reader_tally& tally, bool drain)
{
    for (;;) {
        auto [error, event] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        if (!take(error, event, tally))
            co_return;
        // Each co_await is a trip through the io_context (and a poll of the
        // reactor); what is already buffered can be taken without one.
        while (drain && channel.try_receive([&](boost::system::error_code more, nflog::event next) {
            take(more, next, tally);
        })) {
        }
    }
}

net::awaitable<void> consume(nflog::packet_channel& channel, reader_tally& tally, bool)
{
    for (;;) {
        auto [error, received] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        if (error == nflog::condition::overrun)
            tally.overruns += error == nflog::errc::kernel_overrun;
        else if (error)
            co_return;
        else
            take_batch(received, tally);
    }
}

net::awaitable<void> consume(nflog::event_batch_channel& channel, reader_tally& tally, bool)
{
    for (;;) {
        auto [error, batch] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        if (!take(error, batch, tally))
            co_return;
    }
}

template <class Watcher, class Channel>
net::awaitable<void> watch_the_end(Watcher& watcher, Channel& channel, std::uint16_t group, phased_run& run)
{
    net::steady_timer timer(co_await net::this_coro::executor);
    const auto note = [&](const reader_tally& phase, const phased_run::totals& before) {
        return library_note(watcher.socket(), group, phase, before);
    };
    // The watcher never shows datagrams: the phase's count is the socket's
    // count since the phase began.
    std::uint64_t datagrams_before = 0;
    for (;;) {
        timer.expires_after(std::chrono::milliseconds(100));
        auto [error] = co_await timer.async_wait(net::as_tuple(net::use_awaitable));
        if (error)
            break;
        const auto datagrams = watcher.stats().socket.datagrams;
        run.tally.datagrams = datagrams - datagrams_before;
        if (!run.check(note))
            break;
        if (run.tally.datagrams == 0)
            datagrams_before = datagrams;
    }
    watcher.cancel();
    channel.cancel();
}

template <class Channel>
int run_watcher(const nflog::options& opts, phased_run& run, std::size_t capacity, bool drain)
{
    net::io_context io(1);
    auto opened = nflog::socket::open(io, opts);
    if (!opened) {
        std::fprintf(stderr, "nflog_load_watcher: %s\n", opened.error().message().c_str());
        return 1;
    }
    Channel channel(io, capacity);
    nflog::basic_watcher<net::any_io_executor, Channel> watcher(std::move(opened).value(), channel);
    run.start();
    watcher.async_run(net::detached);
    net::co_spawn(io, consume(channel, run.tally, drain), net::detached);
    net::co_spawn(io, watch_the_end(watcher, channel, opts.groups.front(), run), net::detached);
    io.run();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const args options(argc, argv);
        const auto opts = library_options(options);
        const bool batches = options.number("batches", 0) != 0;
        const bool packets = options.number("packets", 0) != 0;
        phased_run run(options, packets ? "nflog-watcher-packets" : batches ? "nflog-watcher-batch" : "nflog-watcher");
        const bool drain = options.number("drain", 0) != 0;
        options.reject_unused();
        if (packets)
            return run_watcher<nflog::packet_channel>(opts, run, packet_channel_capacity, drain);
        if (batches)
            return run_watcher<nflog::event_batch_channel>(opts, run, batch_channel_capacity, drain);
        return run_watcher<nflog::event_channel>(opts, run, channel_capacity, drain);
    }
    catch (const std::exception& failure) {
        std::fprintf(stderr, "nflog_load_watcher: %s\n", failure.what());
        return 2;
    }
}
