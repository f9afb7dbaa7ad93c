#include "output_stream.hpp"

#include "stop_request.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>

namespace nflog::watch {
namespace {

using steady = std::chrono::steady_clock;

// Written out once this much has gathered: a full kernel batch of lines
// goes out in a few writes, and the buffer never has to grow.
constexpr std::size_t flush_at = 1 << 16;
// Room for what gathers before a flush plus the largest unit (a pcap record
// of a whole 64 KiB packet with its metadata).
constexpr std::size_t buffer_capacity = 1 << 18;
// A unit is at least a short line: this many always fit below `flush_at`.
constexpr std::size_t event_capacity = 4096;

// How long one wait of a stalled stream lasts at most: a second stop signal
// that came just before the wait began is seen within this.
constexpr std::chrono::milliseconds wait_slice{100};

} // namespace

output_stream::output_stream(int fd, const stop_request* stop) : fd_(fd), stop_(stop)
{
    pending_.reserve(buffer_capacity);
    event_ends_.reserve(event_capacity);
    if (stop_)
        stop_->watch_output(fd_);
}

output_stream::~output_stream()
{
    if (stop_)
        stop_->forget_output(fd_);
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
    if (pending_.size() >= flush_at)
        flush();
}

bool output_stream::flush() noexcept
{
    if (error_ != 0)
        return false;
    const std::size_t whole = unit_begin_;
    std::size_t written = 0;
    std::optional<steady::time_point> stalled_since;
    while (written < whole) {
        const ssize_t put = ::write(fd_, pending_.data() + written, whole - written);
        if (put > 0) {
            written += static_cast<std::size_t>(put);
            stalled_since.reset();
            continue;
        }
        if (put < 0 && errno == EINTR)
            continue;
        if (put < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (!stalled_since)
                stalled_since = steady::now();
            given_up_ = wait_for_room(*stalled_since);
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

auto output_stream::wait_for_room(steady::time_point stalled_since) noexcept -> given_up
{
    pollfd watched[2] = {{fd_, POLLOUT, 0}, {stop_ ? stop_->wake_fd() : -1, POLLIN, 0}};
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
        const auto left = std::chrono::ceil<std::chrono::milliseconds>(stalled_since + stalled_after - steady::now());
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

const char* output_stream::failure_reason() const noexcept
{
    switch (given_up_) {
    case given_up::reader_stalled:
        return "its reader took nothing for a second after the stop";
    case given_up::stop_insisted:
        return "a second stop signal came while its reader was not reading";
    case given_up::no:
        break;
    }
    return std::strerror(error_);
}

} // namespace nflog::watch
