#ifndef NFLOG_STATS_HPP
#define NFLOG_STATS_HPP

#include <cstdint>

namespace nflog {

/// Counters of one socket since it was opened. Nothing is lost unseen: every
/// event the kernel logged for a bound group is in `packets`, `discarded`,
/// `lost`, or behind an error a receive reported at once (an `overruns` or
/// `truncated` increment, or `errc::receive_out_of_memory`, which no counter
/// counts) until a later message of its group reveals the exact gap in
/// `lost`; a socket closed before that message came leaves those events
/// uncounted, but not unseen: their datagrams are in `dropped_datagrams`.
/// A message that did not parse is in
/// `malformed`, and, its sequence number unread, in that gap as well.
struct stats {
    /// Netlink datagrams received, the kernel's answers to adaptive
    /// batching changes included: an acknowledgement is never handed out,
    /// a refusal comes as an error element of its batch.
    std::uint64_t datagrams = 0;
    std::uint64_t packets = 0;   ///< NFLOG packet messages that parsed and were handed out
    std::uint64_t malformed = 0; ///< messages that did not parse (reported, skipped)
    /// ENOBUFS: the kernel dropped at least one batch. It says so once until
    /// the socket's queue has been emptied, so drops while the reader still
    /// lags add to `lost` at the next message and to `dropped_datagrams`,
    /// but not here.
    std::uint64_t overruns = 0;
    std::uint64_t lost = 0;      ///< events missing from sequence gaps (exact; needs sequence_numbers)
    std::uint64_t truncated = 0; ///< datagrams larger than the receive buffer (cut)
    /// NFLOG packets that reached the socket but were never handed out: still
    /// queued, or still batched in the kernel, when `close()` came.
    std::uint64_t discarded = 0;
    /// Datagrams (batches of events) the kernel dropped because the receive
    /// buffer was full: its own count for the socket, read at each overrun
    /// and at `close()`. It does not say how many events they held (`lost`
    /// does, once a later message of the group came); it says at once, and
    /// still at close, that some were dropped.
    std::uint64_t dropped_datagrams = 0;
};

} // namespace nflog

#endif
