#include "library_reader.hpp"

#include <chrono>

namespace nflog::load {

nflog::options library_options(const args& options)
{
    nflog::options opts;
    opts.groups = {static_cast<std::uint16_t>(options.number("group", 7))};
    if (options.has("rcvbuf"))
        opts.receive_buffer_size = options.number("rcvbuf", 0);
    if (options.has("qthresh")) {
        opts.adaptive_batching = false;
        opts.queue_threshold = static_cast<std::uint32_t>(options.number("qthresh", 1));
    }
    if (options.has("nlbufsiz"))
        opts.nlbufsiz = static_cast<std::uint32_t>(options.number("nlbufsiz", 0));
    if (options.has("timeout-ms"))
        opts.flush_timeout = std::chrono::milliseconds(options.number("timeout-ms", 0));
    if (options.has("batching-rate"))
        opts.batching_rate = static_cast<std::uint32_t>(options.number("batching-rate", 0));
    if (options.has("delay-us"))
        opts.batching_delay = std::chrono::microseconds(options.number("delay-us", 0));
    return opts;
}

std::string library_note(const nflog::socket& socket, std::uint16_t group, const reader_tally& phase,
                         const phased_run::totals& before)
{
    const auto batching = socket.batching(group);
    const auto& counters = socket.stats();
    const bool agree = counters.packets == before.received + phase.received &&
                       counters.lost == before.lost + phase.lost &&
                       counters.overruns == before.overruns + phase.overruns;
    return "qthresh=" + std::to_string(batching.queue_threshold) + " nlbufsiz=" + std::to_string(batching.nlbufsiz) +
           " changes=" + std::to_string(batching.changes) +
           " timer_flushes=" + std::to_string(batching.timer_flushes) + (batching.adaptive ? " adaptive" : " fixed") +
           (agree ? " stats-agree" : " stats-DISAGREE");
}

} // namespace nflog::load
