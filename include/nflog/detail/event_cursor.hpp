#ifndef NFLOG_DETAIL_EVENT_CURSOR_HPP
#define NFLOG_DETAIL_EVENT_CURSOR_HPP

#include <nflog/batch.hpp>
#include <nflog/error.hpp>
#include <nflog/event.hpp>
#include <nflog/packet.hpp>

#include <boost/system/error_code.hpp>

#include <chrono>
#include <cstddef>
#include <utility>

namespace nflog::detail {

/// The messages a watcher sends for one batch, in order: an event per packet,
/// an error report per message that did not parse (at its place in the
/// batch), and `errc::datagram_truncated` last when the datagram was cut.
/// The batch's `lost_before` goes on its first event.
///
/// Holds the batch (and so its buffer) until every message was taken or the
/// cursor is cleared.
class event_cursor {
public:
    event_cursor() = default;

    void reset(batch received, std::chrono::system_clock::time_point received_at, source_id source) noexcept
    {
        batch_ = std::move(received);
        at_ = batch_.begin();
        end_ = batch_.end();
        received_at_ = received_at;
        source_ = source;
        lost_pending_ = batch_.lost_before();
        truncation_pending_ = batch_.truncated();
    }

    /// Drops the batch and whatever was not taken.
    void clear() noexcept { reset(batch{}, {}, source_); }

    /// The next message into `error` / `out`; false when there is none.
    bool next(boost::system::error_code& error, event& out) noexcept
    {
        if (at_ != end_) {
            const auto& item = *at_;
            if (item) {
                error = {};
                out.assign(item.value(), received_at_, source_);
                out.lost_before = std::exchange(lost_pending_, 0);
            }
            else {
                error = item.error();
                out = report(source_, received_at_);
            }
            ++at_;
            return true;
        }
        if (truncation_pending_) {
            truncation_pending_ = false;
            error = make_error_code(errc::datagram_truncated);
            out = report(source_, received_at_);
            return true;
        }
        return false;
    }

    /// Messages `next` would still produce.
    std::size_t remaining() const noexcept
    {
        return static_cast<std::size_t>(end_ - at_) + (truncation_pending_ ? 1 : 0);
    }

    /// The event that accompanies an error report: only where and when.
    static event report(source_id source, std::chrono::system_clock::time_point when) noexcept
    {
        event out;
        out.source = source;
        out.timestamp = when;
        out.time_source = timestamp_source::local;
        return out;
    }

private:
    batch batch_;
    batch::iterator at_ = nullptr;
    batch::iterator end_ = nullptr;
    std::chrono::system_clock::time_point received_at_{};
    source_id source_ = 0;
    std::uint64_t lost_pending_ = 0;
    bool truncation_pending_ = false;
};

} // namespace nflog::detail

#endif
