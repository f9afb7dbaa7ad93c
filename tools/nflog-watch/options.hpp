#ifndef NFLOG_WATCH_OPTIONS_HPP
#define NFLOG_WATCH_OPTIONS_HPP

#include <span>
#include <string>
#include <string_view>

namespace nflog::watch {

/// Exit statuses of nflog-watch; `help_text` lists them for users.
enum exit_status : int {
    exit_ok = 0,                   ///< the capture was read to its end
    exit_cannot_open = 1,          ///< the file cannot be opened or is not a pcap/pcapng capture
    exit_usage = 2,                ///< the command line is wrong
    exit_unsupported_link_type = 3,///< the capture holds neither NFLOG nor NETLINK records
    exit_damaged_capture = 4,      ///< a record could not be read; the lines before it were printed
    exit_output_failed = 5,        ///< standard output could not be written
    exit_out_of_memory = 6,        ///< memory ran out
};

struct options {
    bool help = false;
    std::string read_path;  ///< --read: the capture to read ("-" for standard input)
    std::string container;  ///< --container: label copied into every event
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
