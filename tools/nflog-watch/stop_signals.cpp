#include "stop_signals.hpp"

#include <poll.h>
#include <time.h>

#include <cerrno>
#include <csignal>
#include <initializer_list>

namespace nflog::watch {
namespace {

volatile std::sig_atomic_t stop_signal_caught = 0;

extern "C" void record_stop_signal(int) { stop_signal_caught = 1; }

} // namespace

sigset_t stop_signals_not_ignored() noexcept
{
    sigset_t taken;
    ::sigemptyset(&taken);
    for (const int number : {SIGINT, SIGTERM}) {
        struct sigaction installed {};
        if (::sigaction(number, nullptr, &installed) == 0 && installed.sa_handler != SIG_IGN)
            ::sigaddset(&taken, number);
    }
    return taken;
}

stop_signals::stop_signals() noexcept : watched_(stop_signals_not_ignored())
{
    stop_signal_caught = 0;
    ::sigaction(SIGINT, nullptr, &interrupt_before_);
    ::sigaction(SIGTERM, nullptr, &terminate_before_);
    // Blocked before the handler is in place: a signal in between stays
    // pending instead of ending the process.
    ::pthread_sigmask(SIG_BLOCK, &watched_, &mask_before_);
    mask_while_waiting_ = mask_before_;
    struct sigaction recording {};
    recording.sa_handler = record_stop_signal;
    ::sigemptyset(&recording.sa_mask);
    for (const int number : {SIGINT, SIGTERM}) {
        if (::sigismember(&watched_, number) == 1) {
            ::sigdelset(&mask_while_waiting_, number);
            ::sigaction(number, &recording, nullptr);
        }
    }
}

stop_signals::~stop_signals()
{
    // A stop that came after the last wait (while the last lines were
    // written) asked for what has happened by now: the read is over.
    while (take_pending()) {
    }
    ::sigaction(SIGINT, &interrupt_before_, nullptr);
    ::sigaction(SIGTERM, &terminate_before_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &mask_before_, nullptr);
}

// Takes a stop signal that is pending (blocked), without waiting.
bool stop_signals::take_pending() const noexcept
{
    const timespec no_wait{};
    return ::sigtimedwait(&watched_, nullptr, &no_wait) > 0;
}

bool stop_signals::requested() const noexcept { return stop_signal_caught != 0; }

bool stop_signals::wait_readable(int fd) const noexcept
{
    // ppoll delivers a pending signal only when it has to wait: a file
    // that is always readable would never see one that came during a write.
    if (take_pending())
        stop_signal_caught = 1;
    pollfd input{fd, POLLIN, 0};
    while (!requested()) {
        // The mask is swapped atomically with the wait: a signal that comes
        // while it waits wakes it, and one that came just before is
        // delivered at its start, never lost in between.
        if (::ppoll(&input, 1, nullptr, &mask_while_waiting_) >= 0 || errno != EINTR)
            return true;
    }
    return false;
}

} // namespace nflog::watch
