#include "capture_reader.hpp"

#include <pcap/pcap.h>

#include <algorithm>

namespace nflog::watch {
namespace {

// A pcapng timestamp is 64 bits of arbitrary units: a hostile one must not
// overflow the clock. 9e9 s (year 2255) is inside every system_clock.
std::chrono::system_clock::time_point capture_time(const timeval& stamp) noexcept
{
    using namespace std::chrono;
    constexpr long long latest_second = 9'000'000'000;
    const auto seconds_part = std::clamp<long long>(stamp.tv_sec, 0, latest_second);
    const auto micros_part = std::clamp<long long>(stamp.tv_usec, 0, 999'999);
    return system_clock::time_point(duration_cast<system_clock::duration>(seconds(seconds_part) +
                                                                          microseconds(micros_part)));
}

} // namespace

void capture_reader::closer::operator()(pcap* handle) const noexcept { pcap_close(handle); }

std::optional<capture_reader> capture_reader::open(const std::string& path, std::string& error)
{
    char reason[PCAP_ERRBUF_SIZE] = {};
    // Microseconds whatever the file stores: that is the precision of `ts`.
    pcap* handle = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_MICRO, reason);
    if (!handle) {
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
