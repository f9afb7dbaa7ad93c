#ifndef NFLOG_BENCH_LOAD_READER_TALLY_HPP
#define NFLOG_BENCH_LOAD_READER_TALLY_HPP

#include "latency_histogram.hpp"
#include "stamp.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace nflog::load {

/// What one reader saw during one run. Every reader fills it the same way:
/// the clock is read once per datagram, when the datagram is in hand, and
/// every event of it is timed against that reading.
struct reader_tally {
    std::uint64_t received = 0;  ///< events in hand
    std::uint64_t foreign = 0;   ///< events without a flood stamp
    std::uint64_t datagrams = 0;
    std::uint64_t lost = 0;      ///< reported by the reader itself (sequence gaps)
    std::uint64_t overruns = 0;  ///< ENOBUFS seen
    std::uint64_t prefix_bytes = 0;
    std::uint64_t first_ns = 0;  ///< clock at the first event
    std::uint64_t last_ns = 0;   ///< clock at the last event
    latency_histogram latency;

    /// The clock reading for a datagram that has just arrived.
    std::uint64_t datagram_arrived() noexcept
    {
        const auto now = monotonic_ns();
        ++datagrams;
        if (first_ns == 0)
            first_ns = now;
        last_ns = now;
        return now;
    }

    /// The clock reading for one event, for readers that never see datagrams.
    std::uint64_t event_arrived() noexcept
    {
        const auto now = monotonic_ns();
        if (first_ns == 0)
            first_ns = now;
        last_ns = now;
        return now;
    }

    void event(std::optional<stamp> sent, std::size_t prefix_length, std::uint64_t now) noexcept
    {
        ++received;
        prefix_bytes += prefix_length;
        if (!sent || sent->sent_ns > now) {
            ++foreign;
            return;
        }
        latency.record(now - sent->sent_ns);
    }

    /// For readers that only see the packet mark: the low 32 bits of the
    /// stamp, which the flood also puts there (latencies below 4.29 s).
    void event_by_mark(std::optional<std::uint32_t> mark, std::size_t prefix_length, std::uint64_t now) noexcept
    {
        ++received;
        prefix_bytes += prefix_length;
        if (!mark) {
            ++foreign;
            return;
        }
        latency.record(static_cast<std::uint32_t>(static_cast<std::uint32_t>(now) - *mark));
    }
};

/// Reader CPU time of every thread of the process, in ns: the kernel's part
/// (receive copies, wake-ups) is kept apart, as the readers differ in both.
struct cpu_time {
    std::uint64_t total_ns = 0;
    std::uint64_t system_ns = 0;

    friend cpu_time operator-(const cpu_time& end, const cpu_time& start) noexcept
    {
        return {end.total_ns - start.total_ns, end.system_ns - start.system_ns};
    }
};

cpu_time process_cpu() noexcept;

/// Prints the one CSV line the benchmark script collects:
/// reader,received,lost,overruns,datagrams,foreign,cpu_ns,sys_ns,span_ns,p50_ns,p99_ns,max_ns,note
void print_result(const std::string& reader, const reader_tally& tally, const cpu_time& cpu, const std::string& note);

} // namespace nflog::load

#endif
