#ifndef NFLOG_DETAIL_BATCH_CURSOR_HPP
#define NFLOG_DETAIL_BATCH_CURSOR_HPP

#include <nflog/batch.hpp>
#include <nflog/detail/event_cursor.hpp>
#include <nflog/event_batch.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>

namespace nflog::detail {

/// The messages a watcher sends into a channel of event batches for one
/// received datagram: its events gathered into batches of up to
/// `event_batch::max_size`, and each report (a message that did not parse, a
/// cut datagram) on its own with an empty batch, at its place in between.
/// The same order as `event_cursor`'s, fewer messages.
class batch_cursor {
public:
    void reset(batch received, std::chrono::system_clock::time_point received_at, source_id source) noexcept
    {
        events_.reset(std::move(received), received_at, source);
        source_ = source;
    }

    /// Drops the datagram and whatever was not taken.
    void clear() noexcept
    {
        events_.clear();
        writer_.clear();
        held_report_ = {};
    }

    /// The next message into `error` / `out`; false when there is none.
    /// Throws only when a new block cannot be allocated.
    bool next(boost::system::error_code& error, event_batch& out)
    {
        if (held_report_) {
            error = std::exchange(held_report_, {});
            out = event_batch(source_);
            return true;
        }
        // Asks for a block only when a message is left: a watcher waiting
        // for its next datagram holds none.
        while (!writer_.full() && events_.remaining() > 0) {
            boost::system::error_code item_error;
            auto& slot = writer_.slot();
            writer_.prefetch_ahead();
            if (!events_.next(item_error, slot))
                break;
            if (!item_error) {
                writer_.commit();
                continue;
            }
            // A report goes after the events before it, in a message of its own.
            if (writer_.size() == 0) {
                // Its slot was only borrowed; reports are rare, and the
                // block may otherwise wait in the writer for the next datagram.
                writer_.clear();
                error = item_error;
                out = event_batch(source_);
                return true;
            }
            held_report_ = item_error;
            break;
        }
        if (writer_.size() == 0)
            return false;
        error = {};
        out = writer_.finish(source_);
        return true;
    }

    /// Events and reports not taken yet: what a closing watcher discards.
    std::size_t remaining() const noexcept { return events_.remaining() + (held_report_ ? 1 : 0); }

    /// The message that accompanies an error report outside a datagram (an
    /// overrun): an empty batch with its source.
    static event_batch report(source_id source, std::chrono::system_clock::time_point) noexcept
    {
        return event_batch(source);
    }

private:
    event_cursor events_;
    event_batch_writer writer_;
    source_id source_ = 0;
    // A report met while a batch had events: sent right after that batch.
    boost::system::error_code held_report_;
};

} // namespace nflog::detail

#endif
