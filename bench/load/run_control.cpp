#include "run_control.hpp"

#include "stamp.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <thread>

namespace nflog::load {

run_control::run_control(std::uint64_t limit_ns, std::uint64_t idle_ns)
    : start_ns_(monotonic_ns()), limit_ns_(limit_ns), idle_ns_(idle_ns)
{
}

void run_control::listen()
{
    std::thread([this] {
        std::string line;
        char c = 0;
        for (;;) {
            const auto got = ::read(STDIN_FILENO, &c, 1);
            if (got == 1 && c != '\n') {
                line.push_back(c);
                continue;
            }
            if (!line.empty()) {
                // The reader clears the target when it ends a phase; a new
                // one waits until then, so no phase is skipped.
                while (target_.load() != none)
                    ::usleep(10000);
                told_at_ns_.store(monotonic_ns());
                target_.store(std::strtoull(line.c_str(), nullptr, 10));
                line.clear();
            }
            if (got != 1) {
                closed_.store(true);
                return;
            }
        }
    }).detach();
}

run_control::verdict run_control::check(std::uint64_t accounted, std::uint64_t last_event_ns) noexcept
{
    const auto now = monotonic_ns();
    if (now - start_ns_ >= limit_ns_) {
        reason_ = "time-limit";
        return verdict::stop;
    }
    const auto target = target_.load();
    if (target == none)
        return closed_.load() ? verdict::stop : verdict::running;
    if (accounted >= target)
        reason_ = "complete";
    else if (now - std::max(last_event_ns, told_at_ns_.load()) >= idle_ns_)
        reason_ = "idle";
    else
        return verdict::running;
    target_.store(none);
    return verdict::phase_done;
}

} // namespace nflog::load
