#ifndef NFLOG_EXAMPLES_EXAMPLE_SUPPORT_HPP
#define NFLOG_EXAMPLES_EXAMPLE_SUPPORT_HPP

// What every example shares and none is about: reading its command line
// and printing one line of JSON per event.

#include <nflog/error.hpp>
#include <nflog/event.hpp>
#include <nflog/options.hpp>

#include <boost/system/error_code.hpp>

#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace example {

/// The command line all examples understand:
///   --group N       NFLOG group to bind (repeatable; default 1)
///   --netns NAME    network namespace, a name under /run/netns or a path
///                   (repeatable where the example watches several)
///   --count N       exit after printing N events (default 10)
///   --timeout-ms N  or after this long (default 10000)
///   --file PATH     a text file to follow (the composition example)
///   --lines N       also wait for N lines of that file (default 0)
///   --mode or|group how the composition example races (default or)
struct arguments {
    std::vector<std::uint16_t> groups;
    std::vector<std::string> namespaces;
    std::size_t count = 10;
    std::chrono::milliseconds timeout{10000};
    std::string file;
    std::size_t lines = 0;
    std::string mode = "or";
};

[[noreturn]] inline void usage(const char* program, std::string_view problem)
{
    std::fprintf(stderr, "%s: %.*s\nusage: %s [--group N]... [--netns NAME]... [--count N] [--timeout-ms N] "
                 "[--file PATH] [--lines N] [--mode or|group]\n",
                 program, static_cast<int>(problem.size()), problem.data(), program);
    std::exit(2);
}

template <class Number>
Number parse_number(const char* program, std::string_view text)
{
    Number value{};
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size())
        usage(program, "not a number: " + std::string(text));
    return value;
}

inline arguments parse_arguments(int argc, char** argv)
{
    arguments parsed;
    const char* program = argc > 0 ? argv[0] : "example";
    for (int i = 1; i < argc; ++i) {
        const std::string_view flag = argv[i];
        if (i + 1 >= argc)
            usage(program, "missing value after " + std::string(flag));
        const std::string_view value = argv[++i];
        if (flag == "--group")
            parsed.groups.push_back(parse_number<std::uint16_t>(program, value));
        else if (flag == "--netns")
            parsed.namespaces.emplace_back(value);
        else if (flag == "--count")
            parsed.count = parse_number<std::size_t>(program, value);
        else if (flag == "--timeout-ms")
            parsed.timeout = std::chrono::milliseconds(parse_number<unsigned>(program, value));
        else if (flag == "--file")
            parsed.file = value;
        else if (flag == "--lines")
            parsed.lines = parse_number<std::size_t>(program, value);
        else if (flag == "--mode" && (value == "or" || value == "group"))
            parsed.mode = value;
        else
            usage(program, "unknown option " + std::string(flag) + " " + std::string(value));
    }
    if (parsed.groups.empty())
        parsed.groups.push_back(1);
    return parsed;
}

/// Options for one namespace ("" for the caller's). A watcher that prints as
/// it goes wants every event at once rather than batched.
inline nflog::options options_for(const arguments& args, const std::string& netns)
{
    nflog::options opts;
    opts.groups = args.groups;
    opts.netns = netns;
    opts.queue_threshold = 1;
    return opts;
}

inline void append_json_string(std::string& out, std::string_view text)
{
    out += '"';
    for (const char c : text) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) >= 0x7f) {
                // Prefixes and log lines are not guaranteed UTF-8: every byte
                // outside printable ASCII is escaped as if it were Latin-1, so
                // each line stays valid JSON whatever it held.
                char escaped[8];
                std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
                out += escaped;
            }
            else
                out += c;
        }
    }
    out += '"';
}

inline void append_field(std::string& out, std::string_view key, std::string_view text)
{
    out += out.size() > 1 ? "," : "";
    append_json_string(out, key);
    out += ':';
    append_json_string(out, text);
}

inline void append_field(std::string& out, std::string_view key, std::uint64_t number)
{
    out += out.size() > 1 ? "," : "";
    append_json_string(out, key);
    out += ':';
    out += std::to_string(number);
}

/// "2024-05-01T12:34:56.000789Z"
inline std::string utc_timestamp(std::chrono::system_clock::time_point when)
{
    using namespace std::chrono;
    const auto micros = duration_cast<microseconds>(when.time_since_epoch()).count();
    const auto seconds = static_cast<std::time_t>(micros / 1'000'000);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    char text[40];
    const auto length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &utc);
    std::snprintf(text + length, sizeof text - length, ".%06lldZ", static_cast<long long>(micros % 1'000'000));
    return text;
}

/// One event as a JSON object on one line. `netns` names the namespace it
/// came from, when the example watches more than one.
inline std::string event_json(const nflog::event& event, std::string_view netns = {})
{
    std::string out = "{";
    append_field(out, "source", "nflog");
    if (!netns.empty())
        append_field(out, "netns", netns);
    append_field(out, "ts", utc_timestamp(event.timestamp));
    append_field(out, "ts_source", nflog::to_string(event.time_source));
    append_field(out, "group", event.group);
    append_field(out, "action", event.action);
    append_field(out, "prefix", event.prefix());
    if (event.flow.protocol)
        append_field(out, "proto", *event.flow.protocol);
    if (event.flow.l3 != nflog::inet::l3_protocol::none) {
        char text[nflog::inet::address::max_text_size];
        append_field(out, "src", {text, event.flow.src.to_chars(std::begin(text), std::end(text)).ptr});
        append_field(out, "dest", {text, event.flow.dst.to_chars(std::begin(text), std::end(text)).ptr});
    }
    if (event.flow.src_port)
        append_field(out, "sport", *event.flow.src_port);
    if (event.flow.dst_port)
        append_field(out, "port", *event.flow.dst_port);
    if (event.lost_before > 0)
        append_field(out, "lost_before", event.lost_before);
    return out + "}";
}

/// A report (an overrun, a malformed message) on one line.
inline std::string report_json(const boost::system::error_code& error, std::string_view netns = {})
{
    std::string out = "{";
    append_field(out, "source", "nflog");
    if (!netns.empty())
        append_field(out, "netns", netns);
    append_field(out, "error", error.message());
    return out + "}";
}

/// Events of a batch's group that the kernel dropped right before it.
inline std::string lost_json(std::uint64_t lost, std::string_view netns = {})
{
    std::string out = "{";
    append_field(out, "source", "nflog");
    if (!netns.empty())
        append_field(out, "netns", netns);
    append_field(out, "lost", lost);
    return out + "}";
}

/// The datagram did not fit the receive buffer: its tail is missing.
inline std::string truncated_json()
{
    return report_json(make_error_code(nflog::errc::datagram_truncated));
}

/// Writes one line and flushes it, so that a reader on a pipe sees it now.
inline void print_line(const std::string& line)
{
    std::fwrite(line.data(), 1, line.size(), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

} // namespace example

#endif
