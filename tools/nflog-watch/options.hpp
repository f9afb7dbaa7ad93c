#ifndef NFLOG_WATCH_OPTIONS_HPP
#define NFLOG_WATCH_OPTIONS_HPP

#include "exit_status.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace nflog::watch {

/// Kernel settings a power user may change; unset ones keep nflog::options'
/// defaults, so the tool behaves like any program using the library.
struct tuning {
    std::optional<std::size_t> receive_buffer;        ///< --rcvbuf: bytes, 0 = the system default
    std::optional<std::uint32_t> queue_threshold;     ///< --qthresh: messages per kernel batch
    std::optional<std::chrono::milliseconds> timeout; ///< --timeout: longest wait of a partial batch
    std::optional<std::uint32_t> nlbufsiz;            ///< --nlbufsiz: kernel batch buffer in bytes
};

struct options {
    bool help = false;
    std::string container;  ///< --container: label copied into every event

    // Reading a capture.
    std::string read_path;  ///< --read: the capture to read ("-" for standard input)

    // Watching live; watching is asked for by giving at least one group.
    std::vector<std::uint16_t> groups; ///< --group, in the order given
    std::vector<std::string> netns;    ///< --netns, in the order given; empty: this namespace
    /// --copy-range: payload bytes copied per packet; 0 copies none (metadata only).
    std::optional<std::uint32_t> copy_range;
    std::optional<std::uint64_t> count;                  ///< --count: stop after this many events
    std::optional<std::chrono::milliseconds> idle_exit;  ///< --idle-exit: stop after this long without events
    bool stats = false;                                  ///< --stats: counters on stderr at exit
    std::string pcap_path;                               ///< --pcap: also write the packets here
    tuning kernel;

    // Both modes.
    /// --output: events go here instead of standard output; empty for
    /// standard output (also when given as "-").
    std::string output_path;

    bool watching() const noexcept { return !groups.empty(); }
};

/// The parsed options, or `error` (one line, no trailing newline) when the
/// command line is wrong.
struct parsed_options {
    options values;
    std::string error;
};

/// Parses the arguments after the program name.
parsed_options parse_options(std::span<const char* const> arguments);

/// The text `--help` prints.
std::string_view help_text() noexcept;

} // namespace nflog::watch

#endif
