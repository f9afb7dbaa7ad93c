// Input: one netlink datagram (the same seeds as fuzz_packet_view), as
// `nflog-watch --read` meets it in a capture. Every line the tool would print
// for it, events and error lines alike, must be one JSON object that a strict
// parser accepts: members in the compact form, strings of valid UTF-8 with
// only JSON's escapes, integers, `true`, no key twice; `prefix` equal to
// `detail`, `port` to `dport`, and the container label given back as it was.
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

namespace {

using namespace nflog;
using fuzz::require;

// Member name -> the value's text (strings decoded, others as written).
using json_members = std::map<std::string, std::string>;

// A strict reader of one line of nflog-watch's output: a flat object.
class line_parser {
public:
    explicit line_parser(std::string_view line) : text_(line) {}

    json_members object()
    {
        json_members members;
        expect('{');
        if (take('}'))
            return finish(members);
        do {
            auto key = string();
            expect(':');
            auto value = peek() == '"' ? string() : scalar();
            require(members.emplace(std::move(key), std::move(value)).second, "no key appears twice");
        } while (take(','));
        expect('}');
        return finish(members);
    }

private:
    json_members finish(json_members& members)
    {
        require(at_ == text_.size(), "nothing follows the object on its line");
        return std::move(members);
    }

    char peek() const { return at_ < text_.size() ? text_[at_] : '\0'; }
    bool take(char c)
    {
        if (peek() != c || at_ >= text_.size())
            return false;
        ++at_;
        return true;
    }
    void expect(char c) { require(take(c), "the line has JSON's punctuation where it belongs"); }
    unsigned char next_byte()
    {
        require(at_ < text_.size(), "strings are closed");
        return static_cast<unsigned char>(text_[at_++]);
    }

    // An integer (no fraction, no exponent, no leading zero) or `true`.
    std::string scalar()
    {
        const auto start = at_;
        if (text_.substr(at_).starts_with("true")) {
            at_ += 4;
            return "true";
        }
        take('-');
        const auto digits = at_;
        while (peek() >= '0' && peek() <= '9')
            ++at_;
        require(at_ > digits, "a value is a string, an integer or true");
        require(text_[digits] != '0' || at_ == digits + 1, "integers have no leading zero");
        return std::string(text_.substr(start, at_ - start));
    }

    unsigned hex4()
    {
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const auto c = next_byte();
            const unsigned digit = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10u
                                 : c >= 'A' && c <= 'F' ? c - 'A' + 10u : 16u;
            require(digit < 16, "\\u takes four hex digits");
            value = value * 16 + digit;
        }
        return value;
    }

    static void append_utf8(std::string& out, unsigned code_point)
    {
        if (code_point < 0x80) {
            out += static_cast<char>(code_point);
        } else if (code_point < 0x800) {
            out += static_cast<char>(0xc0 | code_point >> 6);
            out += static_cast<char>(0x80 | (code_point & 0x3f));
        } else if (code_point < 0x10000) {
            out += static_cast<char>(0xe0 | code_point >> 12);
            out += static_cast<char>(0x80 | (code_point >> 6 & 0x3f));
            out += static_cast<char>(0x80 | (code_point & 0x3f));
        } else {
            out += static_cast<char>(0xf0 | code_point >> 18);
            out += static_cast<char>(0x80 | (code_point >> 12 & 0x3f));
            out += static_cast<char>(0x80 | (code_point >> 6 & 0x3f));
            out += static_cast<char>(0x80 | (code_point & 0x3f));
        }
    }

    // One escape after its backslash, decoded into `out`.
    void escape(std::string& out)
    {
        const auto c = next_byte();
        switch (c) {
        case '"': out += '"'; return;
        case '\\': out += '\\'; return;
        case '/': out += '/'; return;
        case 'b': out += '\b'; return;
        case 'f': out += '\f'; return;
        case 'n': out += '\n'; return;
        case 'r': out += '\r'; return;
        case 't': out += '\t'; return;
        case 'u': break;
        default: require(false, "only JSON's escapes are used");
        }
        auto code_point = hex4();
        require(code_point < 0xdc00 || code_point > 0xdfff, "no lone low surrogate");
        if (code_point >= 0xd800 && code_point <= 0xdbff) {
            require(next_byte() == '\\' && next_byte() == 'u', "a high surrogate is followed by its low one");
            const auto low = hex4();
            require(low >= 0xdc00 && low <= 0xdfff, "a high surrogate is followed by its low one");
            code_point = 0x10000 + ((code_point - 0xd800) << 10) + (low - 0xdc00);
        }
        append_utf8(out, code_point);
    }

    // One UTF-8 sequence whose lead byte was taken, checked and copied.
    void utf8(std::string& out, unsigned char lead)
    {
        int continuation = 0;
        unsigned code_point = 0;
        if (lead >= 0xc2 && lead <= 0xdf) {
            continuation = 1;
            code_point = lead & 0x1fu;
        } else if (lead >= 0xe0 && lead <= 0xef) {
            continuation = 2;
            code_point = lead & 0x0fu;
        } else if (lead >= 0xf0 && lead <= 0xf4) {
            continuation = 3;
            code_point = lead & 0x07u;
        } else {
            require(false, "strings hold valid UTF-8 lead bytes only");
        }
        out += static_cast<char>(lead);
        for (int i = 0; i < continuation; ++i) {
            const auto c = next_byte();
            require((c & 0xc0) == 0x80, "UTF-8 sequences are complete");
            code_point = code_point << 6 | (c & 0x3fu);
            out += static_cast<char>(c);
        }
        static constexpr unsigned smallest[] = {0, 0x80, 0x800, 0x10000};
        require(code_point >= smallest[continuation], "no overlong UTF-8");
        require(code_point <= 0x10ffff && (code_point < 0xd800 || code_point > 0xdfff), "UTF-8 encodes scalar values");
    }

    std::string string()
    {
        expect('"');
        std::string out;
        for (;;) {
            const auto c = next_byte();
            if (c == '"')
                return out;
            require(c >= 0x20 && c != 0x7f, "control characters are escaped");
            if (c == '\\')
                escape(out);
            else if (c < 0x80)
                out += static_cast<char>(c);
            else
                utf8(out, c);
        }
    }

    std::string_view text_;
    std::size_t at_ = 0;
};

// A label with every kind of character the writer must escape or keep.
const std::string container = "box \"7\"\\\n\t\x01 caf\xc3\xa9 \xf0\x9f\x94\xa5";

// The value of a member every such line has; a missing one is a broken
// promise with its name, not an exception from the map.
const std::string& required(const json_members& line, const std::string& key)
{
    const auto found = line.find(key);
    require(found != line.end(), "every line has the members its kind always carries");
    return found->second;
}

json_members check_line(const std::string& line)
{
    require(line.find('\n') == std::string::npos, "one event is one line");
    auto parsed = line_parser(line).object();
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
    if (prefix != members.end())
        require(prefix->second == detail->second, "detail repeats the prefix");
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
