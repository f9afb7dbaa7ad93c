#ifndef NFLOG_WATCH_CAPTURE_READER_HPP
#define NFLOG_WATCH_CAPTURE_READER_HPP

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

struct pcap;

namespace nflog::watch {

class stop_request;

/// One record of a capture file. `data` stays valid until the next `read`.
struct capture_record {
    std::uint64_t number = 0;                         ///< 1 for the first record, as tcpdump counts
    std::chrono::system_clock::time_point time{};     ///< when it was captured
    std::span<const std::byte> data;                  ///< the captured bytes (possibly cut by the snap length)
    std::uint32_t original_length = 0;                ///< the length on the wire
};

/// Reads a pcap or pcapng file through libpcap, record by record.
class capture_reader {
public:
    enum class step {
        record,  ///< the next record was read
        end,     ///< the file ended cleanly
        damaged, ///< a record could not be read (cut short, corrupt block); reading stops
    };

    /// Opens `path` ("-" is standard input). On failure, `error` holds the
    /// system's or libpcap's reason. With `stop`, every wait for input ends
    /// when a stop is requested, and the capture then ends there.
    static std::optional<capture_reader> open(const std::string& path, std::string& error,
                                              const stop_request* stop = nullptr);

    /// The file's LINKTYPE_* / DLT_* value.
    int link_type() const noexcept;

    /// Reads the next record into `record`; on `damaged`, `error` says why.
    step read(capture_record& record, std::string& error);

private:
    struct closer {
        void operator()(pcap* handle) const noexcept;
    };

    explicit capture_reader(pcap* handle) noexcept : handle_(handle) {}

    std::unique_ptr<pcap, closer> handle_;
    std::uint64_t records_read_ = 0;
};

} // namespace nflog::watch

#endif
