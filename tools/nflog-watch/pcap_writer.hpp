#ifndef NFLOG_WATCH_PCAP_WRITER_HPP
#define NFLOG_WATCH_PCAP_WRITER_HPP

#include "output_file.hpp"
#include "output_stream.hpp"

#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>

struct pcap;
struct pcap_dumper;

namespace nflog::watch {

class stop_request;
struct opened_pcap;

/// Writes a classic pcap file of link type NFLOG (239), microsecond time
/// stamps, in this host's byte order, through libpcap: what `tcpdump -i
/// nflog:N -w FILE` would write, readable by tcpdump, tshark and `--read`.
///
/// libpcap formats into an `output_stream`, not into a file of its own, so
/// that a stop ends a wait for a reader of a FIFO as it does for the events.
class pcap_writer {
public:
    /// Creates (or replaces) `path`; "-" is standard output.
    static opened_pcap open(const std::string& path, const stop_request* stop);

    /// Adds one record (see `nflog_record_of`).
    void write(std::span<const std::byte> record, std::chrono::system_clock::time_point time) noexcept;

    /// Writes out the records added so far; false once anything failed.
    bool flush() noexcept { return stream_->flush(); }

    /// Why it failed, for a diagnostic.
    std::string failure_reason() const { return stream_->failure_reason("records"); }

    /// The descriptor written to.
    int fd() const noexcept { return owned_fd_ ? owned_fd_.get() : STDOUT_FILENO; }

    /// See `output_stream::reader_gone`.
    void reader_gone() noexcept { stream_->reader_gone(); }

private:
    struct closer {
        void operator()(pcap* handle) const noexcept;
        void operator()(pcap_dumper* dumper) const noexcept;
    };

    pcap_writer() = default;

    // Destroyed in reverse: libpcap's stream before the output stream it
    // writes into, the descriptor last.
    unique_fd owned_fd_; ///< none for standard output
    std::unique_ptr<output_stream> stream_;
    std::unique_ptr<pcap, closer> handle_;
    std::unique_ptr<pcap_dumper, closer> dumper_;
};

/// What `pcap_writer::open` got: a writer, or the errno of the failure, or
/// neither when a stop came while a FIFO waited for its reader.
struct opened_pcap {
    std::optional<pcap_writer> writer;
    int error = 0;
};

} // namespace nflog::watch

#endif
