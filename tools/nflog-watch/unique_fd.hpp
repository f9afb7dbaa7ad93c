#ifndef NFLOG_WATCH_UNIQUE_FD_HPP
#define NFLOG_WATCH_UNIQUE_FD_HPP

#include <unistd.h>

#include <cerrno>
#include <utility>

namespace nflog::watch {

/// A descriptor this tool opened and closes.
class unique_fd {
public:
    unique_fd() noexcept = default;
    explicit unique_fd(int fd) noexcept : fd_(fd) {}
    unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
    unique_fd& operator=(unique_fd&& other) noexcept
    {
        std::swap(fd_, other.fd_);
        return *this;
    }
    ~unique_fd()
    {
        if (fd_ >= 0)
            ::close(fd_);
    }

    int get() const noexcept { return fd_; }
    explicit operator bool() const noexcept { return fd_ >= 0; }

    /// Closes it now; the errno of a failed close (a write-back that
    /// failed), 0 when it went well.
    int close() noexcept
    {
        const int closed = ::close(std::exchange(fd_, -1));
        return closed == 0 ? 0 : errno;
    }

private:
    int fd_ = -1;
};

} // namespace nflog::watch

#endif
