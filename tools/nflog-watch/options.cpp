#include "options.hpp"

#include <optional>

namespace nflog::watch {
namespace {

// Matches "--name VALUE" and "--name=VALUE" (and a short alias with a separate
// value); advances `index` past what it consumed.
struct option_matcher {
    std::span<const char* const> arguments;
    std::size_t& index;
    std::string& error;

    std::optional<std::string_view> value_of(std::string_view long_name, std::string_view short_name = {})
    {
        const std::string_view argument = arguments[index];
        if (argument.size() > long_name.size() && argument.starts_with(long_name) &&
            argument[long_name.size()] == '=') {
            ++index;
            return argument.substr(long_name.size() + 1);
        }
        if (argument != long_name && (short_name.empty() || argument != short_name))
            return std::nullopt;
        if (index + 1 >= arguments.size()) {
            error = std::string(argument) + " needs a value";
            return std::nullopt;
        }
        index += 2;
        return std::string_view(arguments[index - 1]);
    }
};

} // namespace

parsed_options parse_options(std::span<const char* const> arguments)
{
    parsed_options parsed;
    auto& error = parsed.error;
    bool have_read = false;
    bool have_container = false;
    std::size_t index = 0;
    option_matcher match{arguments, index, error};
    while (index < arguments.size() && error.empty()) {
        const std::string_view argument = arguments[index];
        if (argument == "--help" || argument == "-h") {
            parsed.values.help = true;
            ++index;
            continue;
        }
        if (const auto path = match.value_of("--read", "-r")) {
            if (have_read)
                error = "--read given twice";
            else if (path->empty())
                error = "--read needs a file name";
            parsed.values.read_path = *path;
            have_read = true;
            continue;
        }
        if (!error.empty())
            break;
        if (const auto label = match.value_of("--container")) {
            if (have_container)
                error = "--container given twice";
            parsed.values.container = *label;
            have_container = true;
            continue;
        }
        if (!error.empty())
            break;
        error = argument.size() > 1 && argument.starts_with('-') ? "unknown option " + std::string(argument)
                                          : "unexpected argument " + std::string(argument);
    }
    if (error.empty() && !parsed.values.help && !have_read)
        error = "nothing to do: give --read FILE";
    return parsed;
}

std::string_view help_text() noexcept
{
    return "Usage: nflog-watch --read FILE [--container NAME]\n"
           "\n"
           "Prints the NFLOG packets of a capture as JSON, one object per line, in\n"
           "capture order.\n"
           "\n"
           "  -r, --read FILE        pcap or pcapng capture to read (\"-\" reads standard\n"
           "                         input), of link type NFLOG (239, tcpdump -i nflog:N)\n"
           "                         or NETLINK (253, an nlmon interface; messages of\n"
           "                         netlink families other than netfilter are skipped)\n"
           "      --container NAME   label written as \"container\" in every line\n"
           "                         (default: empty)\n"
           "  -h, --help             print this help\n"
           "\n"
           "A message that cannot be parsed prints a line {\"error\": REASON, \"record\": N,\n"
           "...} in its place, and reading goes on.\n"
           "\n"
           "Exit status:\n"
           "  0  the capture was read to its end (error lines included)\n"
           "  1  the file cannot be opened or is not a pcap/pcapng capture\n"
           "  2  wrong command line\n"
           "  3  unsupported link type\n"
           "  4  the capture is damaged: a record could not be read; the lines before it\n"
           "     were printed\n"
           "  5  standard output could not be written\n"
           "  6  out of memory\n";
}

} // namespace nflog::watch
