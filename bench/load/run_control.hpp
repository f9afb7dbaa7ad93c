#ifndef NFLOG_BENCH_LOAD_RUN_CONTROL_HPP
#define NFLOG_BENCH_LOAD_RUN_CONTROL_HPP

#include <atomic>
#include <cstdint>
#include <limits>

namespace nflog::load {

/// When a reader ends a phase and when it stops. Once the senders of a
/// phase have finished, the script writes the rule's counter (events logged
/// since the reader bound) as one line to the reader's standard input; the
/// phase ends as soon as the reader has accounted for that many events, or
/// when nothing has arrived for `idle_ns` (the rest is lost). The reader
/// stops after the last phase, once standard input is closed, and in any
/// case after `limit_ns`: every run is bounded.
class run_control {
public:
    enum class verdict { running, phase_done, stop };

    run_control(std::uint64_t limit_ns, std::uint64_t idle_ns);

    /// Starts listening on standard input (a detached thread that blocks in read).
    void listen();

    /// `accounted`: events received plus events known lost, over all phases;
    /// `last_event_ns`: clock of the last arrival (0: none yet).
    verdict check(std::uint64_t accounted, std::uint64_t last_event_ns) noexcept;

    /// Why the last phase ended, for the result line.
    const char* reason() const noexcept { return reason_; }

private:
    static constexpr std::uint64_t none = std::numeric_limits<std::uint64_t>::max();

    std::uint64_t start_ns_;
    std::uint64_t limit_ns_;
    std::uint64_t idle_ns_;
    std::atomic<std::uint64_t> target_{none};
    std::atomic<std::uint64_t> told_at_ns_{0};
    std::atomic<bool> closed_{false};
    const char* reason_ = "running";
};

} // namespace nflog::load

#endif
