#ifndef NFLOG_EXAMPLES_LINE_FOLLOWER_HPP
#define NFLOG_EXAMPLES_LINE_FOLLOWER_HPP

// Another watcher to compose with NFLOG events: follows a text file as
// `tail -f` does, woken by inotify through a posix::stream_descriptor.

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <fcntl.h>
#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <string>
#include <utility>

namespace example {

/// Yields the lines appended to a file after it was opened, one per
/// `async_read_line`. Follows appends only: a file that is truncated or
/// replaced is not reopened.
class line_follower {
public:
    /// Opens `path` at its current end. Throws `boost::system::system_error`.
    line_follower(const boost::asio::any_io_executor& executor, const std::string& path)
        : notifications_(executor)
    {
        file_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
        if (file_ < 0)
            fail("open " + path);
        if (::lseek(file_, 0, SEEK_END) < 0)
            fail("seek " + path);
        const int inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        if (inotify < 0)
            fail("inotify_init1");
        notifications_.assign(inotify);
        if (::inotify_add_watch(inotify, path.c_str(), IN_MODIFY) < 0)
            fail("inotify_add_watch " + path);
    }
    line_follower(const line_follower&) = delete;
    line_follower& operator=(const line_follower&) = delete;
    ~line_follower()
    {
        if (file_ >= 0)
            ::close(file_);
    }

    /// Completes with the next line, without its newline.
    ///
    /// Completion signature: `void(boost::system::error_code, std::string)`.
    /// Per-operation cancellation: `terminal`, through the inotify wait; a
    /// line is taken from the buffer only by the completion that returns it,
    /// so a cancelled read loses nothing.
    template <class CompletionToken>
    auto async_read_line(CompletionToken&& token)
    {
        return boost::asio::async_compose<CompletionToken, void(boost::system::error_code, std::string)>(
            read_line_op{this}, token, notifications_);
    }

private:
    struct read_line_op {
        line_follower* follower;
        bool started = false;

        template <class Self>
        void operator()(Self& self, boost::system::error_code error = {})
        {
            if (!started) {
                started = true;
                // Never complete inside async_read_line itself.
                return boost::asio::post(follower->notifications_.get_executor(),
                                         boost::asio::append(std::move(self), error));
            }
            if (error)
                return self.complete(error, std::string());
            // Drain the notifications before reading, so a write that lands
            // after the read wakes the next wait.
            follower->drain_notifications();
            follower->read_appended();
            std::string line;
            if (follower->take_line(line))
                return self.complete(error, std::move(line));
            if (self.cancelled() != boost::asio::cancellation_type::none)
                return self.complete(boost::asio::error::operation_aborted, std::string());
            follower->notifications_.async_wait(boost::asio::posix::stream_descriptor::wait_read, std::move(self));
        }
    };

    [[noreturn]] void fail(const std::string& what)
    {
        const int error = errno;
        // The destructor does not run for a constructor that throws.
        if (file_ >= 0)
            ::close(file_);
        file_ = -1;
        throw boost::system::system_error(boost::system::error_code(error, boost::system::system_category()), what);
    }

    void drain_notifications()
    {
        std::array<char, 4096> scratch;
        while (::read(notifications_.native_handle(), scratch.data(), scratch.size()) > 0) {
        }
    }

    void read_appended()
    {
        std::array<char, 4096> chunk;
        for (;;) {
            const auto got = ::read(file_, chunk.data(), chunk.size());
            if (got <= 0)
                return;
            pending_.append(chunk.data(), static_cast<std::size_t>(got));
        }
    }

    bool take_line(std::string& line)
    {
        const auto end = pending_.find('\n');
        if (end == std::string::npos)
            return false;
        line.assign(pending_, 0, end);
        pending_.erase(0, end + 1);
        return true;
    }

    int file_ = -1;
    boost::asio::posix::stream_descriptor notifications_;
    std::string pending_;
};

} // namespace example

#endif
