#include "capture_reader.hpp"

#include "stop_request.hpp"

#include <fcntl.h>
#include <pcap/pcap.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <new>

namespace nflog::watch {
namespace {

// A pcapng timestamp is 64 bits of arbitrary units plus an interface's
// signed offset: a hostile one must not overflow the clock. +-9e9 s (years
// 1684 and 2255) is inside every system_clock; a capture's time before 1970
// is kept as it is.
std::chrono::system_clock::time_point capture_time(const timeval& stamp) noexcept
{
    using namespace std::chrono;
    constexpr long long latest_second = 9'000'000'000;
    const auto seconds_part = std::clamp<long long>(stamp.tv_sec, -latest_second, latest_second);
    const auto micros_part = std::clamp<long long>(stamp.tv_usec, 0, 999'999);
    return system_clock::time_point(duration_cast<system_clock::duration>(seconds(seconds_part) +
                                                                          microseconds(micros_part)));
}

// The capture as libpcap reads it: a stdio stream over the descriptor whose
// reads first wait, until there is input or a stop.
struct capture_input {
    int fd;
    bool owns_fd;
    const stop_request* stop;
};

ssize_t read_capture_input(void* cookie, char* buffer, std::size_t size)
{
    const auto& input = *static_cast<const capture_input*>(cookie);
    for (;;) {
        // A stop reads as the end of the capture: a record it cuts is not damage.
        if (input.stop && !input.stop->wait_readable(input.fd))
            return 0;
        const ssize_t got = ::read(input.fd, buffer, size);
        if (got >= 0 || errno != EINTR)
            return got;
    }
}

int close_capture_input(void* cookie)
{
    const auto* input = static_cast<const capture_input*>(cookie);
    const int closed = input->owns_fd ? ::close(input->fd) : 0;
    delete input;
    return closed;
}

std::FILE* open_capture_input(const std::string& path, const stop_request* stop)
{
    const bool standard_input = path == "-";
    // Opening a FIFO waits for its writer, and a stop signal only restarts
    // that wait: with a stop, the open does not wait, and the first read's
    // wait (which sees no input before a writer came) takes its place.
    const int fd = standard_input ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC | (stop ? O_NONBLOCK : 0));
    if (fd < 0)
        return nullptr;
    if (stop && !standard_input)
        ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    auto* input = new (std::nothrow) capture_input{fd, !standard_input, stop};
    std::FILE* stream = input ? ::fopencookie(input, "r", {read_capture_input, nullptr, nullptr, close_capture_input})
                              : nullptr;
    if (!stream) {
        const int reason = input ? errno : ENOMEM;
        if (!standard_input)
            ::close(fd);
        delete input;
        errno = reason;
    }
    return stream;
}

} // namespace

void capture_reader::closer::operator()(pcap* handle) const noexcept { pcap_close(handle); }

std::optional<capture_reader> capture_reader::open(const std::string& path, std::string& error,
                                                   const stop_request* stop)
{
    std::FILE* stream = open_capture_input(path, stop);
    if (!stream) {
        error = std::strerror(errno);
        return std::nullopt;
    }
    char reason[PCAP_ERRBUF_SIZE] = {};
    // Microseconds whatever the file stores: that is the precision of `ts`.
    pcap* handle = pcap_fopen_offline_with_tstamp_precision(stream, PCAP_TSTAMP_PRECISION_MICRO, reason);
    if (!handle) {
        std::fclose(stream);
        error = reason;
        return std::nullopt;
    }
    return capture_reader(handle);
}

int capture_reader::link_type() const noexcept { return pcap_datalink(handle_.get()); }

capture_reader::step capture_reader::read(capture_record& record, std::string& error)
{
    pcap_pkthdr* header = nullptr;
    const u_char* data = nullptr;
    switch (pcap_next_ex(handle_.get(), &header, &data)) {
    case 1:
        break;
    case PCAP_ERROR_BREAK:
        return step::end;
    default:
        error = pcap_geterr(handle_.get());
        return step::damaged;
    }
    record.number = ++records_read_;
    record.time = capture_time(header->ts);
    record.data = {reinterpret_cast<const std::byte*>(data), header->caplen};
    record.original_length = header->len;
    return step::record;
}

} // namespace nflog::watch
