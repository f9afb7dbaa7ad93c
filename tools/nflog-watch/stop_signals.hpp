#ifndef NFLOG_WATCH_STOP_SIGNALS_HPP
#define NFLOG_WATCH_STOP_SIGNALS_HPP

#include <signal.h>

namespace nflog::watch {

/// The stop signals (SIGINT, SIGTERM) the tool takes, in either mode: those
/// not ignored right now. One ignored from the start (SIGINT for a
/// background job of a script) stays ignored, as the shell meant it.
sigset_t stop_signals_not_ignored() noexcept;

/// SIGINT and SIGTERM as a request to stop reading a capture, taken only
/// while the reader waits for input.
///
/// While an instance lives both signals are blocked, and `wait_readable`
/// lets them in for the duration of its wait alone. So a signal never cuts
/// a write of the output short (it stays pending until the next wait), and
/// a reader blocked on a quiet pipe wakes at once. A signal ignored when
/// the instance is made (SIGINT for a background job of a script) is left
/// alone: neither blocked, which would keep it pending instead of dropped,
/// nor taken. One blocked when the instance is made is let in during the
/// waits like the other: a mask leaked from whatever started the tool must
/// not make it unstoppable. One instance at a time: the handler records into
/// process-wide state. The destructor restores the handlers and the signal
/// mask it found.
class stop_signals {
public:
    stop_signals() noexcept;
    stop_signals(const stop_signals&) = delete;
    stop_signals& operator=(const stop_signals&) = delete;
    ~stop_signals();

    /// True once SIGINT or SIGTERM arrived.
    bool requested() const noexcept;

    /// Waits until `fd` has input (or its end, or an error, which the next
    /// read reports). False, without waiting, once a stop was requested.
    bool wait_readable(int fd) const noexcept;

private:
    bool take_pending() const noexcept;

    sigset_t watched_{}; ///< the stop signals that were not ignored
    sigset_t mask_before_{};
    sigset_t mask_while_waiting_{};
    struct sigaction interrupt_before_ {};
    struct sigaction terminate_before_ {};
};

} // namespace nflog::watch

#endif
