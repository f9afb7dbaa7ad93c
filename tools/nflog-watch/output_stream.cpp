#include "output_stream.hpp"

#include "stop_request.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <utility>

namespace nflog::watch {
namespace {

using steady = std::chrono::steady_clock;

// Room for what gathers before a flush plus the largest unit (a pcap record
// of a whole 64 KiB packet with its metadata): the buffer never grows.
constexpr std::size_t largest_unit = 1 << 17;
// A unit is at least a short line.
constexpr std::size_t shortest_unit = 16;

// How long one wait of a stalled stream lasts at most: a second stop signal
// that came just before the wait began is seen within this.
constexpr std::chrono::milliseconds wait_slice{100};

// A pipe, a FIFO or a terminal (not a pseudo-terminal's master, which
// would open as a new pseudo-terminal) waits for whoever reads it.
bool waits_for_its_reader(int fd, const struct stat& status)
{
    if (S_ISFIFO(status.st_mode))
        return true;
    unsigned int pty_number = 0;
    return ::isatty(fd) == 1 && ::ioctl(fd, TIOCGPTN, &pty_number) != 0;
}

} // namespace

auto output_stream::writing_for(int fd) -> writing
{
    struct stat status {};
    if (::fstat(fd, &status) != 0)
        return {unique_fd(), fd, write_mode::plain};
    if (S_ISSOCK(status.st_mode))
        return {unique_fd(), fd, write_mode::socket};
    const int flags = ::fcntl(fd, F_GETFL);
    // Non-blocking already, or never waiting for a reader (a file, /dev/null).
    if (flags < 0 || (flags & O_NONBLOCK) != 0 || !waits_for_its_reader(fd, status))
        return {unique_fd(), fd, write_mode::plain};
    const auto path = "/proc/self/fd/" + std::to_string(fd);
    unique_fd own(::open(path.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC | (flags & O_APPEND)));
    if (own) {
        const int own_fd = own.get();
        return {std::move(own), own_fd, write_mode::plain};
    }
    // Another user's pipe, no /proc: ask before each write instead.
    return {unique_fd(), fd, write_mode::polled};
}

output_stream::output_stream(int fd, const stop_request* stop, std::size_t capacity)
    : writing_(writing_for(fd)), flush_at_(capacity), stop_(stop)
{
    pending_.reserve(flush_at_ + largest_unit);
    event_ends_.reserve(flush_at_ / shortest_unit + 1);
}

void output_stream::append(std::string_view bytes)
{
    if (error_ == 0)
        pending_.append(bytes);
}

void output_stream::end_unit(bool is_event)
{
    if (error_ != 0) {
        events_dropped_ += is_event ? 1 : 0;
        return;
    }
    unit_begin_ = pending_.size();
    if (is_event)
        event_ends_.push_back(unit_begin_);
    if (pending_.size() >= flush_at_)
        flush();
}

ssize_t output_stream::write_some(const char* bytes, std::size_t size) noexcept
{
    switch (writing_.mode) {
    case write_mode::socket:
        return ::send(writing_.fd, bytes, size, MSG_DONTWAIT);
    case write_mode::polled: {
        // Room for one byte is room for PIPE_BUF of them: a pipe that polls
        // writable has a free page, and takes that much whole.
        pollfd room{writing_.fd, POLLOUT, 0};
        const int ready = ::poll(&room, 1, 0);
        if (ready <= 0) {
            if (ready == 0)
                errno = EAGAIN;
            return -1;
        }
        return ::write(writing_.fd, bytes, std::min<std::size_t>(size, PIPE_BUF));
    }
    case write_mode::plain:
        break;
    }
    return ::write(writing_.fd, bytes, size);
}

bool output_stream::flush() noexcept
{
    if (error_ != 0)
        return false;
    const std::size_t whole = unit_begin_;
    std::size_t written = 0;
    std::optional<steady::time_point> stalled_since;
    while (written < whole) {
        const ssize_t put = write_some(pending_.data() + written, whole - written);
        if (put > 0) {
            written += static_cast<std::size_t>(put);
            stalled_since.reset();
            continue;
        }
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            given_up_ = wait_for_room(stalled_since);
            if (given_up_ == given_up::no)
                continue;
            error_ = EAGAIN;
        } else {
            error_ = put < 0 ? errno : EIO;
        }
        drop_unwritten(written);
        return false;
    }
    // What is left is the unit being built, if any.
    pending_.erase(0, whole);
    unit_begin_ = 0;
    event_ends_.clear();
    return true;
}

auto output_stream::wait_for_room(std::optional<steady::time_point>& stalled_since) noexcept -> given_up
{
    pollfd watched[2] = {{writing_.fd, POLLOUT, 0}, {stop_ ? stop_->wake_fd() : -1, POLLIN, 0}};
    for (;;) {
        if (!stop_ || !stop_->requested()) {
            // Before a stop the reader gets all the time it needs; the
            // wake-up pipe ends this wait at a stop.
            const int ready = ::poll(watched, 2, -1);
            if (ready > 0 && watched[0].revents != 0)
                return given_up::no;
            if (ready < 0 && errno != EINTR)
                return given_up::no; // the next write says what is wrong
            continue;
        }
        if (stop_->insisted())
            return given_up::stop_insisted;
        // A reader slow before the stop still gets its second after it.
        if (!stalled_since)
            stalled_since = steady::now();
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(*stalled_since + stalled_after - steady::now());
        if (left.count() <= 0)
            return given_up::reader_stalled;
        const int ready = ::poll(watched, 1, static_cast<int>(std::min(left, wait_slice).count()));
        if (ready > 0)
            return given_up::no;
    }
}

void output_stream::drop_unwritten(std::size_t written) noexcept
{
    // A unit the reader got part of is lost as much as one it never saw.
    events_dropped_ += static_cast<std::uint64_t>(
        std::count_if(event_ends_.begin(), event_ends_.end(), [written](std::size_t end) { return end > written; }));
    pending_.clear();
    unit_begin_ = 0;
    event_ends_.clear();
}

void output_stream::reader_gone() noexcept
{
    if (error_ != 0)
        return;
    error_ = EPIPE;
    drop_unwritten(0);
}

std::string output_stream::failure_reason(std::string_view units) const
{
    std::string reason;
    switch (given_up_) {
    case given_up::reader_stalled:
        reason = "its reader took nothing for a second after the stop";
        break;
    case given_up::stop_insisted:
        reason = "a second stop signal came while its reader was not reading";
        break;
    case given_up::no:
        return std::strerror(error_);
    }
    reason += "; " + std::to_string(events_dropped_) + " ";
    // `units` is a plural noun ("events", "records").
    reason += events_dropped_ == 1 && units.ends_with('s') ? units.substr(0, units.size() - 1) : units;
    reason += " not written";
    return reason;
}

} // namespace nflog::watch
