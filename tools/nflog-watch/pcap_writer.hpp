#ifndef NFLOG_WATCH_PCAP_WRITER_HPP
#define NFLOG_WATCH_PCAP_WRITER_HPP

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

struct pcap;
struct pcap_dumper;

namespace nflog::watch {

/// Writes a classic pcap file of link type NFLOG (239), microsecond time
/// stamps, in this host's byte order, through libpcap: what `tcpdump -i
/// nflog:N -w FILE` would write, readable by tcpdump, tshark and `--read`.
class pcap_writer {
public:
    /// Creates (or replaces) `path`; "-" is standard output. On failure,
    /// `error` holds libpcap's reason.
    static std::optional<pcap_writer> open(const std::string& path, std::string& error);

    /// Adds one record (see `nflog_record_of`) into the writer's buffer.
    void write(std::span<const std::byte> record, std::chrono::system_clock::time_point time) noexcept;

    /// Hands the buffered records to the system; false once anything failed.
    bool flush() noexcept;

    /// The errno of the first failure, 0 when there was none.
    int error() const noexcept { return error_; }

private:
    struct closer {
        void operator()(pcap* handle) const noexcept;
        void operator()(pcap_dumper* dumper) const noexcept;
    };

    pcap_writer(pcap* handle, pcap_dumper* dumper) noexcept : handle_(handle), dumper_(dumper) {}

    // Called right after the stream's failed call, while errno is still its reason.
    void fail() noexcept;

    // The dumper is declared last so that it closes (and flushes) first.
    std::unique_ptr<pcap, closer> handle_;
    std::unique_ptr<pcap_dumper, closer> dumper_;
    int error_ = 0;
};

} // namespace nflog::watch

#endif
