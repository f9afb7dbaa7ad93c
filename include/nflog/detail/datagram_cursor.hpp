#ifndef NFLOG_DETAIL_DATAGRAM_CURSOR_HPP
#define NFLOG_DETAIL_DATAGRAM_CURSOR_HPP

#include <nflog/batch.hpp>
#include <nflog/source_id.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <utility>

namespace nflog::detail {

/// The message a watcher sends into a channel of batches for one received
/// datagram: the batch itself, marked with the watcher's source, its
/// malformed messages and truncation inside it as the socket delivers them.
/// A datagram without a packet (only acknowledgements) is not sent.
class datagram_cursor {
public:
    void reset(batch received, std::chrono::system_clock::time_point, source_id source) noexcept
    {
        held_ = std::move(received);
        held_.set_source(source);
        pending_ = held_.begin() != held_.end() || held_.truncated();
    }

    /// Drops the datagram if it was not taken.
    void clear() noexcept
    {
        held_ = batch{};
        pending_ = false;
    }

    /// The datagram into `out`; false when there is none.
    bool next(boost::system::error_code& error, batch& out) noexcept
    {
        if (!pending_)
            return false;
        pending_ = false;
        error = {};
        out = std::move(held_);
        return true;
    }

    /// Events and reports not taken yet: what a closing watcher discards.
    std::size_t remaining() const noexcept { return pending_ ? carried_by(held_) : 0; }

    /// What a batch carries when counted as a watcher's messages: an event
    /// per packet and a report per other element (a malformed message, an
    /// error answer), and its truncation; what the other cursors send for it.
    static std::size_t carried_by(const batch& datagram) noexcept
    {
        return static_cast<std::size_t>(datagram.end() - datagram.begin()) + (datagram.truncated() ? 1 : 0);
    }

    /// The message that accompanies an error report outside a datagram (an
    /// overrun): an empty batch with its source.
    static batch report(source_id source, std::chrono::system_clock::time_point) noexcept
    {
        batch out;
        out.set_source(source);
        return out;
    }

private:
    batch held_;
    bool pending_ = false;
};

} // namespace nflog::detail

#endif
