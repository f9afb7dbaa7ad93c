#include "pcap_writer.hpp"

#include "capture_record.hpp"
#include "output_file.hpp"

#include <pcap/pcap.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <utility>

namespace nflog::watch {
namespace {

// The largest NFLOG message: a 65531-byte copy plus every other attribute
// fits easily. Readers refuse records longer than the file's snap length.
constexpr int snap_length = 262144;

ssize_t write_into_stream(void* cookie, const char* bytes, std::size_t size)
{
    static_cast<output_stream*>(cookie)->append({bytes, size});
    return static_cast<ssize_t>(size);
}

} // namespace

void pcap_writer::closer::operator()(pcap* handle) const noexcept { pcap_close(handle); }
void pcap_writer::closer::operator()(pcap_dumper* dumper) const noexcept { pcap_dump_close(dumper); }

opened_pcap pcap_writer::open(const std::string& path, const stop_request* stop)
{
    int fd = STDOUT_FILENO;
    pcap_writer writer;
    if (path != "-") {
        auto file = open_output_file(path, true, stop);
        if (!file.fd)
            return {std::nullopt, file.error};
        writer.owned_fd_ = std::move(file.fd);
        fd = writer.owned_fd_.get();
    }
    writer.stream_ = std::make_unique<output_stream>(fd, stop);
    writer.handle_.reset(pcap_open_dead_with_tstamp_precision(link_type_nflog, snap_length, PCAP_TSTAMP_PRECISION_MICRO));
    if (!writer.handle_)
        return {std::nullopt, ENOMEM};
    std::FILE* into_stream = ::fopencookie(writer.stream_.get(), "w", {nullptr, write_into_stream, nullptr, nullptr});
    if (!into_stream)
        return {std::nullopt, errno != 0 ? errno : ENOMEM};
    // Unbuffered: every byte libpcap writes is in the output stream at once,
    // so that a record ends a unit right where pcap_dump returns.
    std::setvbuf(into_stream, nullptr, _IONBF, 0);
    writer.dumper_.reset(pcap_dump_fopen(writer.handle_.get(), into_stream));
    if (!writer.dumper_) {
        std::fclose(into_stream);
        return {std::nullopt, ENOMEM};
    }
    writer.stream_->end_unit(false); // the file header
    return {std::move(writer), 0};
}

void pcap_writer::write(std::span<const std::byte> record, std::chrono::system_clock::time_point time) noexcept
{
    using namespace std::chrono;
    const auto since_epoch = duration_cast<microseconds>(time.time_since_epoch());
    const auto whole_seconds = duration_cast<seconds>(since_epoch);
    pcap_pkthdr header{};
    header.ts.tv_sec = static_cast<time_t>(whole_seconds.count());
    header.ts.tv_usec = static_cast<suseconds_t>((since_epoch - whole_seconds).count());
    header.caplen = static_cast<bpf_u_int32>(record.size());
    header.len = header.caplen;
    pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &header, reinterpret_cast<const u_char*>(record.data()));
    stream_->end_unit(true);
}

} // namespace nflog::watch
