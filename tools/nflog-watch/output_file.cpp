#include "output_file.hpp"

#include "stop_request.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>

#include <cerrno>
#include <utility>

namespace nflog::watch {
namespace {

// How often a FIFO is tried again for a reader: no event says one came.
constexpr int reader_poll_ms = 50;

} // namespace

opened_output open_output_file(const std::string& path, bool truncate, const stop_request* stop)
{
    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NONBLOCK | (truncate ? O_TRUNC : 0);
    for (;;) {
        const int fd = ::open(path.c_str(), flags, 0666);
        if (fd >= 0)
            return {unique_fd(fd), 0};
        // ENXIO from a FIFO: no reader yet, where a blocking open would wait.
        // From anything else (a socket, a device without its hardware) it
        // is final.
        const int reason = errno;
        struct stat status {};
        if (reason != ENXIO || ::stat(path.c_str(), &status) != 0 || !S_ISFIFO(status.st_mode))
            return {unique_fd(), reason};
        if (!stop)
            ::poll(nullptr, 0, reader_poll_ms);
        else if (!stop->sleep(reader_poll_ms))
            return {};
    }
}

} // namespace nflog::watch
