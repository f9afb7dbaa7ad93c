#ifndef NFLOG_WATCH_STOP_REQUEST_HPP
#define NFLOG_WATCH_STOP_REQUEST_HPP

#include <signal.h>

namespace nflog::watch {

/// The stop signals (SIGINT, SIGTERM, SIGHUP) the tool takes, in either
/// mode: those not ignored right now. One ignored from the start (SIGINT for
/// a background job of a script, SIGHUP under nohup) stays ignored, as the
/// shell meant it.
sigset_t stop_signals_not_ignored() noexcept;

/// SIGINT, SIGTERM and SIGHUP (a closed terminal) as a request to stop, in
/// either mode.
///
/// A stop must end every wait the tool can be in: for input, for a FIFO's
/// other end, and for a reader that stopped reading its output (a
/// supervisor would otherwise wait for its SIGKILL, and the counters would
/// never be printed). The handler records the request and wakes
/// `wake_fd()`, which whatever waits polls with what it waits for, so that
/// a signal that comes just before a wait still ends it. It runs with
/// SA_RESTART, so that reads and writes it interrupts go on where they were
/// instead of failing with EINTR: the tool never blocks in a read or write
/// that could wait for long (see `output_stream`).
///
/// A signal ignored when the instance is made is left alone. One blocked
/// then (a supervisor's mask, leaked into what it starts) is unblocked: it
/// must not make the tool unstoppable. One instance at a time, since the
/// handler records into process-wide state. The destructor puts back the
/// handlers and the signal mask it found; a stop signal that comes after it
/// was destroyed is not taken.
class stop_request {
public:
    /// Throws std::system_error when the wake-up pipe cannot be made.
    stop_request();
    stop_request(const stop_request&) = delete;
    stop_request& operator=(const stop_request&) = delete;
    ~stop_request();

    /// True once a stop signal arrived.
    bool requested() const noexcept;

    /// True once a second one arrived: the user insists, nothing may be
    /// waited for any more.
    bool insisted() const noexcept;

    /// Readable once a stop was requested (and from then on).
    int wake_fd() const noexcept { return wake_read_; }

    /// Waits until `fd` has input (or its end, or an error, which the next
    /// read reports). False, without waiting, once a stop was requested.
    bool wait_readable(int fd) const noexcept;

    /// Sleeps for up to `milliseconds`; false once a stop was requested.
    bool sleep(int milliseconds) const noexcept;

private:
    int wake_read_ = -1;
    sigset_t taken_{};
    sigset_t mask_before_{};
    struct sigaction interrupt_before_ {};
    struct sigaction terminate_before_ {};
    struct sigaction hangup_before_ {};
};

} // namespace nflog::watch

#endif
