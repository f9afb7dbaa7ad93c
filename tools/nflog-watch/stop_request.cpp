#include "stop_request.hpp"

#include <fcntl.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <initializer_list>
#include <system_error>

namespace nflog::watch {
namespace {

// What the handler reads and changes: signal-safe types only.
volatile std::sig_atomic_t stop_signals_caught = 0;
volatile std::sig_atomic_t wake_write_fd = -1;

extern "C" void take_stop_signal(int)
{
    const int saved_errno = errno;
    if (stop_signals_caught < 2)
        stop_signals_caught = stop_signals_caught + 1;
    if (const int wake = wake_write_fd; wake >= 0) {
        const char byte = 0;
        // A full pipe is awake already.
        [[maybe_unused]] const auto written = ::write(wake, &byte, 1);
    }
    errno = saved_errno;
}

} // namespace

sigset_t stop_signals_not_ignored() noexcept
{
    sigset_t taken;
    ::sigemptyset(&taken);
    for (const int number : {SIGINT, SIGTERM, SIGHUP}) {
        struct sigaction installed {};
        if (::sigaction(number, nullptr, &installed) == 0 && installed.sa_handler != SIG_IGN)
            ::sigaddset(&taken, number);
    }
    return taken;
}

stop_request::stop_request() : taken_(stop_signals_not_ignored())
{
    int ends[2];
    if (::pipe2(ends, O_NONBLOCK | O_CLOEXEC) != 0)
        throw std::system_error(errno, std::system_category(), "cannot make a pipe for the stop signals");
    wake_read_ = ends[0];
    wake_write_fd = ends[1];
    stop_signals_caught = 0;
    ::sigaction(SIGINT, nullptr, &interrupt_before_);
    ::sigaction(SIGTERM, nullptr, &terminate_before_);
    ::sigaction(SIGHUP, nullptr, &hangup_before_);
    struct sigaction taking {};
    taking.sa_handler = take_stop_signal;
    // One stop signal at a time: the handler's steps are not reentrant.
    taking.sa_mask = taken_;
    taking.sa_flags = SA_RESTART;
    for (const int number : {SIGINT, SIGTERM, SIGHUP}) {
        if (::sigismember(&taken_, number) == 1)
            ::sigaction(number, &taking, nullptr);
    }
    // A signal pending since before is taken right here.
    ::pthread_sigmask(SIG_UNBLOCK, &taken_, &mask_before_);
}

stop_request::~stop_request()
{
    ::pthread_sigmask(SIG_BLOCK, &taken_, nullptr);
    ::sigaction(SIGINT, &interrupt_before_, nullptr);
    ::sigaction(SIGTERM, &terminate_before_, nullptr);
    ::sigaction(SIGHUP, &hangup_before_, nullptr);
    // One that came after the last look asked for what has happened by now:
    // it must not act later with the old disposition.
    const timespec no_wait{};
    while (::sigtimedwait(&taken_, nullptr, &no_wait) > 0) {
    }
    ::pthread_sigmask(SIG_SETMASK, &mask_before_, nullptr);
    ::close(wake_write_fd);
    wake_write_fd = -1;
    ::close(wake_read_);
}

bool stop_request::requested() const noexcept { return stop_signals_caught >= 1; }

bool stop_request::insisted() const noexcept { return stop_signals_caught >= 2; }

bool stop_request::wait_readable(int fd) const noexcept
{
    pollfd watched[2] = {{fd, POLLIN, 0}, {wake_read_, POLLIN, 0}};
    while (!requested()) {
        const int ready = ::poll(watched, 2, -1);
        if (requested())
            return false;
        if (ready > 0 && watched[0].revents != 0)
            return true;
        // A failed poll leaves the verdict to the read.
        if (ready < 0 && errno != EINTR)
            return true;
    }
    return false;
}

bool stop_request::sleep(int milliseconds) const noexcept
{
    pollfd wake{wake_read_, POLLIN, 0};
    if (!requested())
        ::poll(&wake, 1, milliseconds);
    return !requested();
}

} // namespace nflog::watch
