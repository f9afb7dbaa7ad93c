#ifndef NFLOG_BENCH_LOAD_PHASED_RUN_HPP
#define NFLOG_BENCH_LOAD_PHASED_RUN_HPP

#include "args.hpp"
#include "reader_tally.hpp"
#include "run_control.hpp"

#include <cstdint>
#include <functional>
#include <string>

namespace nflog::load {

/// What every reader's loop shares: the tally of the current phase, the
/// totals of the ones before, the CPU clock, and printing one result line
/// per phase. A reader calls `check` about ten times a second.
class phased_run {
public:
    /// Events and losses over all finished phases.
    struct totals {
        std::uint64_t received = 0;
        std::uint64_t lost = 0;
        std::uint64_t overruns = 0;
    };
    /// Extra text for the result line, given the phase and the totals before it.
    using note_function = std::function<std::string(const reader_tally& phase, const totals& before)>;

    /// Reads --label (default `label`), --limit-seconds and --idle-ms.
    phased_run(const args& options, std::string label);

    /// Starts the clock and listens for phase targets.
    void start();

    /// False when the reader should stop. Prints a line when a phase ends.
    bool check(const note_function& note = {});

    reader_tally tally;

private:
    run_control control_;
    std::string label_;
    totals before_;
    cpu_time cpu_start_;
};

} // namespace nflog::load

#endif
