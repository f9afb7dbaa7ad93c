#include "reader_watch.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

namespace nflog::watch {

void reader_watch::start(int fd, std::function<void()> on_gone)
{
    struct stat about {};
    if (::fstat(fd, &about) != 0 || !(S_ISFIFO(about.st_mode) || S_ISSOCK(about.st_mode) || S_ISCHR(about.st_mode)))
        return;
    // A descriptor of its own: the reactor may change its flags, and those of
    // the shared one must not change.
    const int own = ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0)
        return;
    boost::system::error_code error;
    descriptor_.assign(own, error);
    if (error) {
        ::close(own);
        return;
    }
    on_gone_ = std::move(on_gone);
    wait();
}

void reader_watch::cancel() noexcept
{
    boost::system::error_code ignored;
    descriptor_.close(ignored);
}

// epoll reports an error or a hang-up to a wait for errors: the write end of
// a pipe without readers, a socket whose peer closed. A device that epoll
// does not take (/dev/null) fails the wait, and is not watched.
void reader_watch::wait()
{
    descriptor_.async_wait(boost::asio::posix::descriptor_base::wait_error,
                           [this](const boost::system::error_code& error) {
                               if (error)
                                   return;
                               pollfd state{descriptor_.native_handle(), 0, 0};
                               if (::poll(&state, 1, 0) == 1 && (state.revents & (POLLERR | POLLHUP)) != 0)
                                   return on_gone_();
                               wait();
                           });
}

} // namespace nflog::watch
