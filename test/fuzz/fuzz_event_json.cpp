// Input: one netlink datagram (the same seeds as fuzz_packet_view), as
// `nflog-watch --read` meets it in a capture. Every line the tool would print
// for it, events and error lines alike, must be one JSON object that a strict
// parser accepts: members in the compact form, strings of valid UTF-8 with
// only JSON's escapes, integers, `true`, no key twice; `detail` the
// `prefix` without the ASCII white space around it (as Python's str.strip()),
// `port` equal to `dport`, and the container label given back as it was.
// Each packet's LINKTYPE_NFLOG record, unwrapped as a capture of `nflog:N`
// is, must give the same line as the packet itself.

#include "capture_record.hpp"
#include "error_reason.hpp"
#include "event_json.hpp"

#include <nflog/inet.hpp>
#include <nflog/packet.hpp>

#include <linux/netfilter/nfnetlink.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_checks.hpp"
#include "json_line.hpp"

namespace {

using namespace nflog;
using fuzz::json_members;
using fuzz::require;
using fuzz::required;

// A label with every kind of character the writer must escape or keep.
const std::string container = "box \"7\"\\\n\t\x01 caf\xc3\xa9 \xf0\x9f\x94\xa5";

json_members check_line(const std::string& line)
{
    require(line.find('\n') == std::string::npos, "one event is one line");
    auto parsed = fuzz::json_line_parser(line).object();
    require(required(parsed, "source") == "nflog", "every line says its source");
    require(required(parsed, "container") == container, "the container label comes back as it was given");
    require(required(parsed, "netns") == "ns-1", "the namespace name is written");
    return parsed;
}

void check_event_line(const std::string& line, const packet_view& packet)
{
    const auto members = check_line(line);
    require(required(members, "group") == std::to_string(packet.group()), "group is the packet's");
    const auto prefix = members.find("prefix");
    const auto detail = members.find("detail");
    require((prefix == members.end()) == (detail == members.end()), "prefix and detail come together");
    if (prefix != members.end()) {
        // The white space is ASCII, so it reads back as it was written.
        constexpr std::string_view space = " \t\n\v\f\r\x1c\x1d\x1e\x1f";
        const std::string_view text = prefix->second;
        const auto first = text.find_first_not_of(space);
        const auto stripped =
            first == std::string_view::npos ? std::string_view() : text.substr(first, text.find_last_not_of(space) + 1 - first);
        require(detail->second == stripped, "detail is the prefix without the white space around it");
    }
    const auto port = members.find("port");
    const auto dport = members.find("dport");
    require((port == members.end()) == (dport == members.end()), "port and dport come together");
    if (port != members.end())
        require(port->second == dport->second, "port repeats dport");
    const auto& ts_source = required(members, "ts_source");
    require(ts_source == (packet.timestamp() ? "kernel" : "capture"), "ts_source says where the time came from");
}

std::string event_line(const packet_view& packet, const watch::event_context& context)
{
    std::string line;
    const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
    watch::write_event(line, packet, flow, context);
    return line;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto datagram = std::as_bytes(std::span(data, size));
    watch::event_context context;
    context.fallback_time = std::chrono::system_clock::time_point(std::chrono::microseconds(1'700'000'000'123'456));
    context.fallback_source = watch::time_source::capture;
    context.container = container;
    context.netns = "ns-1";

    std::vector<std::byte> rebuilt;
    watch::reason_buffer reason;
    for (const auto& item : packet_range(datagram)) {
        if (!item) {
            std::string line;
            watch::write_message_error(line, item.error(), context, std::uint64_t{1}, reason);
            const auto members = check_line(line);
            require(!required(members, "error").empty(), "an error line says what went wrong");
            require(required(members, "record") == "1", "an error line from a capture names its record");
            const auto errno_member = members.find("errno");
            if (watch::is_kernel_reply(item.error()))
                require(errno_member != members.end() && errno_member->second == std::to_string(item.error().value()),
                        "an error answer of the kernel is written with its errno");
            else
                require(errno_member == members.end(), "only an error answer of the kernel has an errno");
            continue;
        }
        const auto& packet = item.value();
        const auto line = event_line(packet, context);
        check_event_line(line, packet);

        // The same packet as `tcpdump -i nflog:N -w` records it. The record
        // reader takes nfgenmsg version 0 only, the one the kernel sends.
        const auto record = watch::nflog_record_of(packet);
        if (std::to_integer<unsigned>(record[1]) != NFNETLINK_V0)
            continue;
        const auto unwrapped = watch::unwrap_nflog_record(record, rebuilt);
        require(unwrapped.state == watch::unwrapped_record::status::datagram, "a packet's NFLOG record unwraps");
        const packet_range again(unwrapped.datagram);
        require(again.begin() != again.end() && again.begin()->has_value(), "an unwrapped record parses");
        require(event_line(again.begin()->value(), context) == line, "an NFLOG record gives the packet's own line");
    }
    return 0;
}
