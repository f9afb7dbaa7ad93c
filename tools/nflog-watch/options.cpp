#include "options.hpp"

#include "option_values.hpp"

#include <nflog/options.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <filesystem>
#include <limits>
#include <optional>
#include <system_error>
#include <type_traits>

namespace nflog::watch {
namespace {

enum class option_id {
    help, read, container, group, netns, copy_range, count, idle_exit, stats, output, pcap,
    rcvbuf, qthresh, timeout, nlbufsiz,
};

struct option_spec {
    option_id id;
    std::string_view long_name;
    std::string_view short_name; ///< empty: none
    bool takes_value;
    bool repeats;   ///< may be given more than once
    bool live_only; ///< meaningful only when watching
};

constexpr std::array<option_spec, 15> specs{{
    {option_id::help, "--help", "-h", false, true, false},
    {option_id::read, "--read", "-r", true, false, false},
    {option_id::container, "--container", {}, true, false, false},
    {option_id::group, "--group", {}, true, true, true},
    {option_id::netns, "--netns", {}, true, true, true},
    {option_id::copy_range, "--copy-range", {}, true, false, true},
    {option_id::count, "--count", {}, true, false, true},
    {option_id::idle_exit, "--idle-exit", {}, true, false, true},
    {option_id::stats, "--stats", {}, false, false, true},
    {option_id::output, "--output", {}, true, false, false},
    {option_id::pcap, "--pcap", {}, true, false, true},
    {option_id::rcvbuf, "--rcvbuf", {}, true, false, true},
    {option_id::qthresh, "--qthresh", {}, true, false, true},
    {option_id::timeout, "--timeout", {}, true, false, true},
    {option_id::nlbufsiz, "--nlbufsiz", {}, true, false, true},
}};

// The kernel refuses an nlbufsiz below a page; nflog::validate applies the
// same bound, this one only names it in the message.
std::uint64_t smallest_nlbufsiz() noexcept
{
    const long page = ::sysconf(_SC_PAGESIZE);
    return static_cast<std::uint64_t>(std::min<long>(page > 0 ? page : 4096, 8192));
}

std::string range_error(const option_spec& spec, std::string_view value, std::string_view what, std::uint64_t low,
                        std::uint64_t high)
{
    return std::string(spec.long_name) + " " + std::string(value) + ": expected " + std::string(what) + " from " +
           std::to_string(low) + " to " + std::to_string(high);
}

// Stores one option's value; returns the problem, or "" when it is fine.
std::string apply(const option_spec& spec, std::string_view value, options& out)
{
    auto whole = [&](std::string_view what, std::uint64_t low, std::uint64_t high, auto& target) -> std::string {
        const auto number = parse_whole_number(value, low, high);
        if (!number)
            return range_error(spec, value, what, low, high);
        target = static_cast<std::remove_reference_t<decltype(*target)>>(*number);
        return {};
    };
    switch (spec.id) {
    case option_id::help:
        out.help = true;
        return {};
    case option_id::read:
        if (value.empty())
            return "--read needs a file name";
        out.read_path = value;
        return {};
    case option_id::container:
        out.container = value;
        return {};
    case option_id::group: {
        const auto group = parse_whole_number(value, 0, 0xffff);
        if (!group)
            return range_error(spec, value, "a group number", 0, 0xffff);
        if (std::find(out.groups.begin(), out.groups.end(), *group) != out.groups.end())
            return "--group " + std::to_string(*group) + " given twice";
        out.groups.push_back(static_cast<std::uint16_t>(*group));
        return {};
    }
    case option_id::netns:
        if (value.empty())
            return "--netns needs a namespace name or path";
        if (std::find(out.netns.begin(), out.netns.end(), value) != out.netns.end())
            return "--netns " + std::string(value) + " given twice";
        out.netns.emplace_back(value);
        return {};
    case option_id::copy_range:
        return whole("a number of bytes", 0, nflog::options::max_copy_range, out.copy_range);
    case option_id::count:
        return whole("a number of events", 1, std::numeric_limits<std::uint64_t>::max(), out.count);
    case option_id::idle_exit:
        out.idle_exit = parse_seconds(value);
        if (!out.idle_exit)
            return "--idle-exit " + std::string(value) + ": expected a number of seconds above 0 and at most " +
                   std::to_string(longest_duration.count()) + ", such as 2 or 0.5";
        return {};
    case option_id::stats:
        out.stats = true;
        return {};
    case option_id::output:
        if (value.empty())
            return "--output needs a file name";
        // "-" is standard output, as it is for --pcap (and standard input for --read).
        out.output_path = value == "-" ? std::string() : std::string(value);
        return {};
    case option_id::pcap:
        if (value.empty())
            return "--pcap needs a file name";
        out.pcap_path = value;
        return {};
    case option_id::rcvbuf:
        return whole("a number of bytes", 0, std::numeric_limits<std::int32_t>::max(), out.kernel.receive_buffer);
    case option_id::qthresh:
        return whole("a number of messages", 1, std::numeric_limits<std::uint32_t>::max(), out.kernel.queue_threshold);
    case option_id::timeout: {
        constexpr auto longest = static_cast<std::uint64_t>(nflog::options::max_flush_timeout.count());
        const auto milliseconds = parse_whole_number(value, 0, longest);
        if (!milliseconds)
            return range_error(spec, value, "milliseconds", 0, longest);
        out.kernel.timeout = std::chrono::milliseconds(*milliseconds);
        return {};
    }
    case option_id::nlbufsiz:
        return whole("a number of bytes", smallest_nlbufsiz(), nflog::options::max_nlbufsiz, out.kernel.nlbufsiz);
    }
    return {};
}

const option_spec* find_spec(std::string_view name) noexcept
{
    for (const auto& spec : specs)
        if (name == spec.long_name || (!spec.short_name.empty() && name == spec.short_name))
            return &spec;
    return nullptr;
}

// Where a file opened for writing at `path` would be: absolute, "." and
// ".." and symbolic links resolved. A dangling symbolic link counts as its
// target, which opening it creates; weakly_canonical alone would stop at the
// link, and would leave a relative path relative.
std::optional<std::filesystem::path> place_of(const std::string& path)
{
    namespace fs = std::filesystem;
    std::error_code failed;
    auto place = fs::absolute(path, failed);
    // The kernel's own limit on links followed in one lookup.
    constexpr int most_links = 40;
    for (int followed = 0; !failed && followed < most_links; ++followed) {
        // A path that does not exist is no link (and sets `failed`, which
        // says nothing here).
        std::error_code missing;
        if (!fs::is_symlink(fs::symlink_status(place, missing)))
            break;
        place = place.parent_path() / fs::read_symlink(place, failed);
    }
    if (!failed)
        place = fs::weakly_canonical(place, failed);
    if (failed)
        return std::nullopt;
    return place;
}

// A file that keeps nothing: two outputs can share it without harm
// (`--pcap /dev/null --output /dev/null`, or standard output sent there).
bool discards_writes(const std::string& path)
{
    struct stat named {};
    struct stat null_device {};
    return ::stat(path.c_str(), &named) == 0 && S_ISCHR(named.st_mode) && ::stat("/dev/null", &null_device) == 0 &&
           named.st_rdev == null_device.st_rdev;
}

// Whether two paths name one file: the same place once made absolute and
// resolved, or (when both exist) the same file by its identity, which also
// catches hard links. The null device is never "one file" (see above).
bool same_file(const std::string& first, const std::string& second)
{
    if (discards_writes(first))
        return false;
    std::error_code failed;
    if (std::filesystem::equivalent(first, second, failed))
        return true;
    const auto first_place = place_of(first);
    const auto second_place = place_of(second);
    if (!first_place || !second_place)
        return first == second;
    return *first_place == *second_place;
}

// Whether `path` is the file standard output already writes to
// (`--pcap /dev/stdout`, or a file that standard output was redirected to).
bool standard_output_is(const std::string& path)
{
    struct stat output {};
    struct stat named {};
    return !discards_writes(path) && ::fstat(STDOUT_FILENO, &output) == 0 && ::stat(path.c_str(), &named) == 0 &&
           output.st_dev == named.st_dev && output.st_ino == named.st_ino;
}

// Whether standard input is `path`, redirected (`--read - --output F < F`).
// Only a regular file: a pipe or a device loses nothing when the output is
// opened.
bool standard_input_is(const std::string& path)
{
    struct stat input {};
    struct stat output {};
    return ::fstat(STDIN_FILENO, &input) == 0 && S_ISREG(input.st_mode) && ::stat(path.c_str(), &output) == 0 &&
           input.st_dev == output.st_dev && input.st_ino == output.st_ino;
}

// Two --netns values that name one namespace: a name and its path, two
// mounts of it, /proc/PID/ns/net. Its groups would be bound twice, and the
// second bind would blame another program. A value is a path, or a name in
// /run/netns, as for `nflog::options::netns`; one that does not exist is
// reported when the watch opens it.
std::string same_namespace_twice(const std::vector<std::string>& values)
{
    struct seen_namespace {
        dev_t device;
        ino_t inode;
        const std::string* value;
    };
    std::vector<seen_namespace> seen;
    for (const auto& value : values) {
        const auto path = value.find('/') == std::string::npos ? "/run/netns/" + value : value;
        struct stat status {};
        if (::stat(path.c_str(), &status) != 0)
            continue;
        for (const auto& earlier : seen)
            if (earlier.device == status.st_dev && earlier.inode == status.st_ino)
                return "--netns " + *earlier.value + " and --netns " + value + " name the same namespace";
        seen.push_back({status.st_dev, status.st_ino, &value});
    }
    return {};
}

// The events and the capture mixed in one file would make both unreadable.
// The events go to standard output without --output, the capture with
// --pcap -; a file name can also be standard output under another name.
std::string check_outputs(const options& values)
{
    if (values.pcap_path.empty())
        return {};
    const bool events_to_standard_output = values.output_path.empty();
    const bool capture_to_standard_output = values.pcap_path == "-";
    if (capture_to_standard_output) {
        if (events_to_standard_output && !discards_writes("/dev/stdout"))
            return "--pcap - writes the capture to standard output: give --output FILE for the events";
        if (standard_output_is(values.output_path))
            return "--output " + values.output_path +
                   " is standard output, where --pcap - writes the capture: give another FILE for the events";
        return {};
    }
    if (events_to_standard_output) {
        if (standard_output_is(values.pcap_path))
            return "--pcap " + values.pcap_path +
                   " writes the capture to standard output: give --output FILE for the events";
        return {};
    }
    if (same_file(values.pcap_path, values.output_path))
        return "--output and --pcap name the same file";
    return {};
}

// The checks that need the whole command line.
std::string check_combination(const options& values, const option_spec* first_live_only)
{
    if (!values.read_path.empty()) {
        if (values.watching())
            return "--read and --group cannot be combined: read a capture, or watch live";
        if (first_live_only)
            return std::string(first_live_only->long_name) + " works only when watching live (with --group)";
        // Opening the output empties it: it would destroy the capture.
        if (!values.output_path.empty() && (values.read_path == "-" ? standard_input_is(values.output_path)
                                                                     : same_file(values.read_path, values.output_path)))
            return "--output names the capture that --read reads";
        return {};
    }
    if (!values.watching())
        return first_live_only ? "give --group N: the NFLOG groups to watch"
                               : "nothing to do: give --group N to watch live, or --read FILE";
    if (const auto problem = check_outputs(values); !problem.empty())
        return problem;
    return same_namespace_twice(values.netns);
}

} // namespace

parsed_options parse_options(std::span<const char* const> arguments)
{
    parsed_options parsed;
    auto& error = parsed.error;
    std::array<bool, specs.size()> seen{};
    const option_spec* first_live_only = nullptr;
    for (std::size_t index = 0; index < arguments.size() && error.empty();) {
        const std::string_view argument = arguments[index++];
        // "--name=value" for long options; short ones take the next argument.
        const auto equals = argument.starts_with("--") ? argument.find('=') : std::string_view::npos;
        const auto name = argument.substr(0, equals);
        const auto* spec = find_spec(name);
        if (!spec || (equals != std::string_view::npos && name != spec->long_name)) {
            error = argument.size() > 1 && argument.starts_with('-') ? "unknown option " + std::string(argument)
                                                                     : "unexpected argument " + std::string(argument);
            break;
        }
        std::string_view value;
        if (equals != std::string_view::npos) {
            if (!spec->takes_value) {
                error = std::string(spec->long_name) + " takes no value";
                break;
            }
            value = argument.substr(equals + 1);
        } else if (spec->takes_value) {
            if (index >= arguments.size()) {
                error = std::string(argument) + " needs a value";
                break;
            }
            value = arguments[index++];
        }
        auto& was_seen = seen[static_cast<std::size_t>(spec - specs.data())];
        if (was_seen && !spec->repeats) {
            error = std::string(spec->long_name) + " given twice";
            break;
        }
        was_seen = true;
        if (spec->live_only && !first_live_only)
            first_live_only = spec;
        error = apply(*spec, value, parsed.values);
    }
    if (error.empty() && !parsed.values.help)
        error = check_combination(parsed.values, first_live_only);
    return parsed;
}

} // namespace nflog::watch
