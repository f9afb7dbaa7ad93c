#ifndef NFLOG_WATCH_STATS_LINE_HPP
#define NFLOG_WATCH_STATS_LINE_HPP

#include <nflog/stats.hpp>

#include <cstdint>
#include <string>

namespace nflog::watch {

/// What `--stats` reports at exit, summed over every watched namespace.
struct watch_totals {
    std::uint64_t events = 0;    ///< events written
    std::uint64_t lost = 0;      ///< nflog::stats::lost: exact, from sequence gaps
    std::uint64_t overruns = 0;  ///< receives that reported a kernel overrun (ENOBUFS)
    std::uint64_t malformed = 0; ///< messages that did not parse
    std::uint64_t truncated = 0; ///< datagrams cut by the receive buffer
    std::uint64_t discarded = 0; ///< events received or still queued when the tool stopped, never written
    /// nflog::stats::dropped_datagrams: what the kernel dropped, also where
    /// `lost` could not count the events (no later message before the stop)
    std::uint64_t dropped_datagrams = 0;

    /// Adds one socket's counters (all but the events, which the tool counts
    /// as it writes them).
    void add(const nflog::stats& counters) noexcept;
};

/// Replaces `line` with {"events":N,"lost":N,"overruns":N,"malformed":N,"truncated":N,
/// "discarded":N,"dropped_datagrams":N}
/// (no newline).
void write_stats(std::string& line, const watch_totals& totals);

} // namespace nflog::watch

#endif
