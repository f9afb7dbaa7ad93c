#ifndef NFLOG_WATCH_OUTPUT_STREAM_HPP
#define NFLOG_WATCH_OUTPUT_STREAM_HPP

#include "unique_fd.hpp"

#include <sys/types.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nflog::watch {

class stop_request;

/// Collects whole units (JSON lines, pcap records) for one descriptor and
/// writes them out, through a stop.
///
/// stdio would do the buffering, but it cannot be told to give up: a
/// write to a reader that stopped reading blocks for as long as the reader
/// sleeps, and a stop signal could not end it. Here no write ever blocks,
/// and a flush waits for room with the stop in view. Before a stop the
/// reader gets all the time it needs. After one the flush goes on while the
/// reader takes anything; once it has taken nothing for `stalled_after`
/// since the stop (or a second stop signal came), the rest is dropped and
/// counted, and the stream writes nothing more. Only then can the last unit
/// the reader got be cut.
///
/// Writes never block, and the flags of a descriptor others share (the
/// terminal, the shell's pipe) never change: a socket is written with
/// MSG_DONTWAIT, and a pipe, FIFO or terminal through an open file
/// description of its own, non-blocking, opened again through /proc. Where
/// that open is refused (another user's pipe, no /proc), each write asks
/// poll() first and writes at most PIPE_BUF bytes, which a pipe with room
/// takes without waiting. A regular file or a device such as /dev/null is
/// written as it is: it never waits for a reader.
///
/// A failure is remembered instead of being reported each time, so that a
/// closed pipe costs one diagnostic, not one per event.
class output_stream {
public:
    /// What a reader that takes nothing gets after a stop.
    static constexpr std::chrono::milliseconds stalled_after{1000};
    /// A full kernel batch of lines goes out in a few writes.
    static constexpr std::size_t default_capacity = 1 << 16;

    /// Writes to `fd`, which it neither closes nor changes. With `stop`, a
    /// stop request ends its waits as described above. `capacity`: the bytes
    /// it gathers before it writes them out by itself.
    output_stream(int fd, const stop_request* stop, std::size_t capacity = default_capacity);
    output_stream(const output_stream&) = delete;
    output_stream& operator=(const output_stream&) = delete;

    /// Adds bytes to the unit being built.
    void append(std::string_view bytes);

    /// Ends the unit being built; `is_event` counts it in `events_dropped`
    /// should it be dropped. Writes out what has gathered once it is large.
    void end_unit(bool is_event);

    /// `line` and a newline as one unit.
    void write_line(std::string_view line, bool is_event)
    {
        append(line);
        append("\n");
        end_unit(is_event);
    }

    /// Writes out every whole unit. False once anything failed.
    bool flush() noexcept;

    /// A write failed: later units cannot reach the reader either.
    bool failed() const noexcept { return error_ != 0; }

    /// The reader went away (see `reader_watch`): fails as a write would
    /// have, with EPIPE, and drops what waits, counted.
    void reader_gone() noexcept;

    /// Why it failed, for a diagnostic: the system's words for the errno of
    /// the first failure, or how a stop gave up on a stalled reader and how
    /// many `units` (a plural noun) that left unwritten.
    std::string failure_reason(std::string_view units) const;

    /// Events in units that were dropped after a failure, or cut.
    std::uint64_t events_dropped() const noexcept { return events_dropped_; }

private:
    enum class given_up { no, reader_stalled, stop_insisted };

    // Waits until the descriptor takes more, unless it is time to give up.
    // `stalled_since` starts at the stop at the earliest.
    given_up wait_for_room(std::optional<std::chrono::steady_clock::time_point>& stalled_since) noexcept;
    ssize_t write_some(const char* bytes, std::size_t size) noexcept;
    void drop_unwritten(std::size_t written) noexcept;

    enum class write_mode {
        plain,  ///< write(2): a regular file, or a non-blocking description
        socket, ///< send(2) with MSG_DONTWAIT
        polled, ///< poll(2), then at most PIPE_BUF bytes
    };
    struct writing {
        unique_fd own_description; ///< when one was opened
        int fd;
        write_mode mode;
    };
    static writing writing_for(int fd);

    writing writing_;
    std::size_t flush_at_;
    const stop_request* stop_;
    std::string pending_;
    std::size_t unit_begin_ = 0;
    // Where each event unit in `pending_` ends, to count what a drop loses.
    std::vector<std::size_t> event_ends_;
    std::uint64_t events_dropped_ = 0;
    int error_ = 0; ///< EAGAIN when `given_up_` says why
    given_up given_up_ = given_up::no;
};

} // namespace nflog::watch

#endif
