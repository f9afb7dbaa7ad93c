#ifndef NFLOG_WATCH_READER_WATCH_HPP
#define NFLOG_WATCH_READER_WATCH_HPP

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <functional>

namespace nflog::watch {

/// Tells when the reader of an output has gone while nothing is written: a
/// pipe whose reader exited, a socket whose peer closed, a terminal hung up.
/// Without it a watch of a quiet group would learn that only at its next
/// event, and keep its groups bound (and a restarted watch refused) until
/// then. A regular file or a device such as /dev/null has no reader to lose:
/// it is not watched.
class reader_watch {
public:
    explicit reader_watch(boost::asio::io_context& io) : descriptor_(io) {}

    /// Watches `fd` (which it neither closes nor changes) and calls
    /// `on_gone` once, from the loop, when its reader has gone.
    void start(int fd, std::function<void()> on_gone);

    /// Ends the watch, so that the loop can end.
    void cancel() noexcept;

private:
    void wait();

    boost::asio::posix::stream_descriptor descriptor_;
    std::function<void()> on_gone_;
};

} // namespace nflog::watch

#endif
