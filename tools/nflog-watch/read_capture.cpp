#include "read_capture.hpp"

#include "capture_reader.hpp"
#include "capture_record.hpp"
#include "diagnostic_lines.hpp"
#include "error_reason.hpp"
#include "event_json.hpp"
#include "output_stream.hpp"
#include "stop_request.hpp"

#include <nflog/inet.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/packet.hpp>

#include <linux/netfilter/nfnetlink.h>

#include <pcap/pcap.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace nflog::watch {
namespace {

void write_error_line(output_stream& sink, std::string& line, std::string_view reason, const event_context& context,
                      std::uint64_t record_number)
{
    auto json = begin_error(line, reason, context);
    json.number("record", record_number);
    json.close();
    sink.write_line(line, false);
}

int report_output_failure(const output_stream& sink, diagnostic_lines& diagnostics)
{
    diagnostics.problem("cannot write the output: %s", sink.failure_reason("events").c_str());
    return exit_output_failed;
}

// An nlmon capture of the netfilter family also holds the answers to other
// subsystems' requests (nftables, conntrack, ...): their errors say nothing
// about NFLOG. An error that cannot be parsed is still reported.
bool answers_another_subsystem(const netlink::message_view& message) noexcept
{
    if (!message.is_error())
        return false;
    const auto reply = netlink::parse_error(message);
    return reply && NFNL_SUBSYS_ID(reply.assume_value().request_type) != NFNL_SUBSYS_ULOG;
}

// A record cut where what is left cannot be decoded.
void write_cut_error(output_stream& sink, std::string& line, const event_context& context, const capture_record& record)
{
    auto json = begin_error(line, "record cut by the capture's snap length", context);
    json.number("record", record.number);
    json.number("caplen", record.data.size());
    json.number("len", record.original_length);
    json.close();
    sink.write_line(line, false);
}

// One line per NFLOG packet and per problem in the messages of `datagram`;
// the events of the message that starts at `shortened` are marked truncated.
void write_datagram(output_stream& sink, std::string& line, std::span<const std::byte> datagram,
                    const std::byte* shortened, event_context& context, std::uint64_t record_number,
                    reason_buffer& reason_storage)
{
    for (const auto& message : netlink::message_range(datagram)) {
        // A framing error: the walk stops after it.
        if (!message) {
            write_message_error(line, message.error(), context, record_number, reason_storage);
            sink.write_line(line, false);
            continue;
        }
        if (answers_another_subsystem(message.assume_value()))
            continue;
        context.cut_by_snap_length = message.assume_value().bytes().data() == shortened;
        for (const auto& item : packet_range(message.assume_value().bytes())) {
            if (!item) {
                write_message_error(line, item.error(), context, record_number, reason_storage);
                sink.write_line(line, false);
                continue;
            }
            const auto& packet = item.assume_value();
            const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
            write_event(line, packet, flow, context);
            sink.write_line(line, true);
        }
    }
}

// A pipe or a FIFO (also as standard input) is a capture still being
// written (`tcpdump -U -w - | nflog-watch --read -`): its lines go out
// before the tool waits for more, as a live watch's do. A file, also one
// given as standard input, is read in one go.
bool arrives_over_time(const std::string& path)
{
    struct stat status {};
    const int found = path == "-" ? ::fstat(STDIN_FILENO, &status) : ::stat(path.c_str(), &status);
    return found != 0 || !S_ISREG(status.st_mode);
}

} // namespace

int read_capture(const options& opts, int out, std::FILE* diagnostics_file, const std::function<void()>& inputs_ready,
                 const stop_request* stop)
{
    diagnostic_lines diagnostics(diagnostics_file, stop);
    std::string problem;
    auto reader = capture_reader::open(opts.read_path, problem, stop);
    // Stopped before the capture's header came: nothing was read, nothing is wrong.
    if (!reader && stop && stop->requested())
        return exit_ok;
    if (!reader) {
        // libpcap names the file in some reasons and not in others: name it once.
        std::string_view reason = problem;
        if (const auto named = opts.read_path + ": "; reason.starts_with(named))
            reason.remove_prefix(named.size());
        diagnostics.problem("cannot read %s: %.*s", opts.read_path.c_str(), static_cast<int>(reason.size()),
                            reason.data());
        return exit_cannot_open;
    }
    const int link_type = reader->link_type();
    if (link_type != link_type_nflog && link_type != link_type_netlink) {
        const char* name = pcap_datalink_val_to_name(link_type);
        diagnostics.problem("%s: unsupported link type %d (%s): expected NFLOG (239) or NETLINK (253)",
                            opts.read_path.c_str(), link_type, name ? name : "unknown");
        return exit_unsupported_link_type;
    }
    if (inputs_ready)
        inputs_ready();

    output_stream sink(out, stop);
    std::string line;
    std::vector<std::byte> rebuilt;
    std::vector<std::byte> cut_copy;
    reason_buffer reason_storage;
    capture_record record;
    event_context context;
    context.fallback_source = time_source::capture;
    context.container = opts.container;
    const bool streaming = arrives_over_time(opts.read_path);
    const auto stop_requested = [stop] { return stop && stop->requested(); };
    for (;;) {
        if (streaming)
            sink.flush();
        // The first failed write ends the read, as it ends a live watch: with
        // SIGPIPE ignored (as systemd starts services) a reader gone away is
        // only an error, and a capture still arriving might never end.
        if (sink.failed())
            return report_output_failure(sink, diagnostics);
        if (stop_requested())
            break;
        const auto step = reader->read(record, problem);
        if (step == capture_reader::step::end)
            break;
        if (step == capture_reader::step::damaged) {
            // A stop reads as the end of the input: the record it cut is not damage.
            if (stop_requested())
                break;
            // "The lines before it were printed" must be true: an output that
            // failed is the one thing to report.
            if (!sink.flush())
                return report_output_failure(sink, diagnostics);
            diagnostics.problem("%s: damaged capture after record %llu: %s", opts.read_path.c_str(),
                                static_cast<unsigned long long>(record.number), problem.c_str());
            return exit_damaged_capture;
        }
        context.fallback_time = record.time;
        const auto contents = link_type == link_type_nflog ? unwrap_nflog_record(record.data, rebuilt)
                                                           : unwrap_netlink_record(record.data);
        if (contents.state == unwrapped_record::status::not_netfilter)
            continue;
        if (contents.state == unwrapped_record::status::malformed) {
            write_error_line(sink, line, contents.problem, context, record.number);
            continue;
        }
        auto datagram = contents.datagram;
        const std::byte* shortened = nullptr;
        if (record.data.size() < record.original_length) {
            const auto repaired = link_type == link_type_nflog
                                      ? repair_cut_nflog_message(rebuilt, record.original_length)
                                      : repair_cut_netlink_datagram(datagram, record.original_length, cut_copy);
            if (!repaired.readable) {
                write_cut_error(sink, line, context, record);
                continue;
            }
            datagram = repaired.datagram;
            shortened = repaired.shortened_message;
        }
        write_datagram(sink, line, datagram, shortened, context, record.number, reason_storage);
    }
    if (!sink.flush())
        return report_output_failure(sink, diagnostics);
    return exit_ok;
}

} // namespace nflog::watch
