// Hand-off benchmark: what it costs to pass events through this library's
// channels on one io_context, before any NFLOG work. A producer fills the
// channel with try_send, as a watcher does with a received datagram, and a
// coroutine takes the events out in the ways bench/load's channel readers do.
//
//   nflog_channel_bench [benchmark flags]
//
// The cases with "reactor" keep an I/O object on the io_context, as a
// watcher's socket does: the scheduler then polls the reactor once per
// trip through its queue. The load benchmark's single-event channel reader
// pays that per event; the table in bench/README.md shows what is left for
// the reader's budget once the hand-off is paid.

#include <nflog/event.hpp>
#include <nflog/event_batch.hpp>
#include <nflog/event_channel.hpp>

#include <benchmark/benchmark.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <optional>

namespace {

namespace net = boost::asio;

// The load benchmark's channel readers use the same cushions.
constexpr std::size_t event_capacity = 4096;
constexpr std::size_t batch_capacity = event_capacity / nflog::event_batch::max_size;
constexpr std::int64_t events_per_run = 1 << 16;

nflog::event sample_event()
{
    nflog::event sample;
    sample.group = 7;
    sample.set_prefix("flood");
    sample.action = "nflog";
    sample.mark = 1;
    return sample;
}

// One io_context per run, with or without an I/O object whose reactor the
// scheduler then polls.
struct context {
    explicit context(bool with_reactor)
    {
        if (with_reactor)
            timer.emplace(io);
    }
    net::io_context io{1};
    std::optional<net::steady_timer> timer;
};

// Sends `total` copies of `message` with try_send, and posts itself again
// whenever the channel is full, so the consumer runs in between.
template <class Channel, class Message>
struct producer {
    Channel& channel;
    const Message& message;
    std::int64_t remaining;

    void operator()()
    {
        while (remaining > 0 && channel.try_send(boost::system::error_code(), message))
            --remaining;
        if (remaining > 0)
            net::post(channel.get_executor(), *this);
    }
};

net::awaitable<void> one_await_per_event(nflog::event_channel& channel, std::int64_t total, std::uint64_t& sum)
{
    for (std::int64_t taken = 0; taken < total; ++taken) {
        auto [error, event] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        sum += event.group + static_cast<std::uint64_t>(error.value());
    }
}

net::awaitable<void> await_then_drain(nflog::event_channel& channel, std::int64_t total, std::uint64_t& sum)
{
    std::int64_t taken = 0;
    while (taken < total) {
        auto [error, event] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        sum += event.group + static_cast<std::uint64_t>(error.value());
        ++taken;
        while (channel.try_receive([&](boost::system::error_code more, nflog::event next) {
            sum += next.group + static_cast<std::uint64_t>(more.value());
            ++taken;
        })) {
        }
    }
}

net::awaitable<void> one_await_per_batch(nflog::event_batch_channel& channel, std::int64_t total,
                                         std::uint64_t& sum)
{
    std::int64_t taken = 0;
    while (taken < total) {
        auto [error, batch] = co_await channel.async_receive(net::as_tuple(net::use_awaitable));
        for (const auto& event : batch)
            sum += event.group;
        sum += static_cast<std::uint64_t>(error.value());
        taken += static_cast<std::int64_t>(batch.size());
    }
}

// Runs `consume` against a producer that sends `message` `sends` times, once
// per benchmark iteration, on a fresh io_context; the events a run carries
// are `events_per_run` either way.
template <class Channel, class Message, class Consume>
void run_through(benchmark::State& state, std::size_t capacity, const Message& message, std::int64_t sends,
                 Consume consume)
{
    const bool with_reactor = state.range(0) != 0;
    std::uint64_t sum = 0;
    for (auto _ : state) {
        context run(with_reactor);
        Channel channel(run.io, capacity);
        net::co_spawn(run.io, consume(channel, events_per_run, sum), net::detached);
        net::post(run.io, producer<Channel, Message>{channel, message, sends});
        run.io.run();
    }
    benchmark::DoNotOptimize(sum);
    state.SetItemsProcessed(state.iterations() * events_per_run);
    state.counters["ns/event"] = benchmark::Counter(static_cast<double>(state.iterations() * events_per_run),
                                                    benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}

void event_channel_await_each(benchmark::State& state)
{
    run_through<nflog::event_channel>(state, event_capacity, sample_event(), events_per_run, one_await_per_event);
}

void event_channel_await_then_drain(benchmark::State& state)
{
    run_through<nflog::event_channel>(state, event_capacity, sample_event(), events_per_run, await_then_drain);
}

void event_batch_channel_await_each(benchmark::State& state)
{
    nflog::detail::event_batch_writer writer;
    const auto message = sample_event();
    while (!writer.full()) {
        writer.slot() = message;
        writer.commit();
    }
    // Every send copies it: the copies share the one block, as a consumer's do.
    const auto full = writer.finish(0);
    const auto batches = events_per_run / static_cast<std::int64_t>(nflog::event_batch::max_size);
    run_through<nflog::event_batch_channel>(state, batch_capacity, full, batches, one_await_per_batch);
}

} // namespace

BENCHMARK(event_channel_await_each)->ArgName("reactor")->Arg(1)->Arg(0)->UseRealTime();
BENCHMARK(event_channel_await_then_drain)->ArgName("reactor")->Arg(1)->Arg(0)->UseRealTime();
BENCHMARK(event_batch_channel_await_each)->ArgName("reactor")->Arg(1)->Arg(0)->UseRealTime();

BENCHMARK_MAIN();
