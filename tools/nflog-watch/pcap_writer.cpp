#include "pcap_writer.hpp"

#include "capture_record.hpp"

#include <pcap/pcap.h>

#include <cerrno>
#include <cstdio>

namespace nflog::watch {
namespace {

// The largest NFLOG message: a 65531-byte copy plus every other attribute
// fits easily. Readers refuse records longer than the file's snap length.
constexpr int snap_length = 262144;

} // namespace

void pcap_writer::closer::operator()(pcap* handle) const noexcept { pcap_close(handle); }
void pcap_writer::closer::operator()(pcap_dumper* dumper) const noexcept { pcap_dump_close(dumper); }

std::optional<pcap_writer> pcap_writer::open(const std::string& path, std::string& error)
{
    pcap* handle = pcap_open_dead_with_tstamp_precision(link_type_nflog, snap_length, PCAP_TSTAMP_PRECISION_MICRO);
    if (!handle) {
        error = "cannot set up libpcap";
        return std::nullopt;
    }
    pcap_dumper* dumper = pcap_dump_open(handle, path.c_str());
    if (!dumper) {
        error = pcap_geterr(handle);
        pcap_close(handle);
        return std::nullopt;
    }
    return pcap_writer(handle, dumper);
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
    // pcap_dump reports nothing; the stream underneath remembers a failure,
    // but only errno right now says why.
    errno = 0;
    pcap_dump(reinterpret_cast<u_char*>(dumper_.get()), &header, reinterpret_cast<const u_char*>(record.data()));
    if (error_ == 0 && std::ferror(pcap_dump_file(dumper_.get())))
        fail();
}

bool pcap_writer::flush() noexcept
{
    errno = 0;
    if (pcap_dump_flush(dumper_.get()) != 0 || std::ferror(pcap_dump_file(dumper_.get())))
        fail();
    return error_ == 0;
}

void pcap_writer::fail() noexcept
{
    if (error_ == 0)
        error_ = errno != 0 ? errno : EIO;
}

} // namespace nflog::watch
