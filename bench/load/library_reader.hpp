#ifndef NFLOG_BENCH_LOAD_LIBRARY_READER_HPP
#define NFLOG_BENCH_LOAD_LIBRARY_READER_HPP

#include "args.hpp"
#include "phased_run.hpp"
#include "reader_tally.hpp"

#include <nflog/batch.hpp>
#include <nflog/options.hpp>
#include <nflog/socket.hpp>

#include <cstdint>
#include <string>

namespace nflog::load {

/// The library's options for a reader run: the library's defaults unless
/// the command line fixes a setting (`--qthresh N` turns adaptation off).
nflog::options library_options(const args& options);

/// Stands in for what an application does with an event (`--work-ns`):
/// the overload run uses it to make the reader slower than the flood.
inline void simulate_work(std::uint64_t ns) noexcept
{
    if (ns == 0)
        return;
    const auto until = monotonic_ns() + ns;
    while (monotonic_ns() < until) {
    }
}

/// What every library reader does with a batch: time it, then read each
/// packet's prefix and stamp.
inline void take_batch(const nflog::batch& received, reader_tally& tally, std::uint64_t work_ns = 0) noexcept
{
    const auto now = tally.datagram_arrived();
    for (const auto& item : received) {
        if (!item)
            continue;
        const auto& packet = item.value();
        tally.event(read_stamp(packet.payload()), packet.prefix().size(), now);
        simulate_work(work_ns);
    }
    tally.lost += received.lost_before();
}

/// The result line's note for a library socket: its batching and whether
/// its own counters agree with what the reader saw over all phases.
std::string library_note(const nflog::socket& socket, std::uint16_t group, const reader_tally& phase,
                         const phased_run::totals& before);

} // namespace nflog::load

#endif
