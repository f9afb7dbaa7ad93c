#include "json_writer.hpp"

#include <cstddef>
#include <cstdint>

namespace nflog::watch {
namespace {

constexpr bool is_continuation(unsigned char byte) noexcept { return (byte & 0xc0u) == 0x80u; }

// Length of the well-formed UTF-8 sequence starting at text[at], or 0 when the
// byte there starts none. The ranges are RFC 3629's syntax: they exclude
// overlong encodings (C0, C1, E0 80-9F, F0 80-8F), UTF-16 surrogates (ED A0-BF)
// and code points above U+10FFFF (F4 90-BF, F5-FF).
std::size_t utf8_sequence_length(std::string_view text, std::size_t at) noexcept
{
    const auto byte_at = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
    const auto lead = byte_at(at);
    std::size_t length = 0;
    unsigned char second_low = 0x80;
    unsigned char second_high = 0xbf;
    if (lead >= 0xc2 && lead <= 0xdf) {
        length = 2;
    } else if (lead >= 0xe0 && lead <= 0xef) {
        length = 3;
        if (lead == 0xe0)
            second_low = 0xa0;
        else if (lead == 0xed)
            second_high = 0x9f;
    } else if (lead >= 0xf0 && lead <= 0xf4) {
        length = 4;
        if (lead == 0xf0)
            second_low = 0x90;
        else if (lead == 0xf4)
            second_high = 0x8f;
    } else {
        return 0;
    }
    if (text.size() - at < length)
        return 0;
    const auto second = byte_at(at + 1);
    if (second < second_low || second > second_high)
        return 0;
    for (std::size_t i = 2; i < length; ++i) {
        if (!is_continuation(byte_at(at + i)))
            return 0;
    }
    return length;
}

void append_control_escape(std::string& out, unsigned char byte)
{
    static constexpr char hex[] = "0123456789abcdef";
    switch (byte) {
    case '\b': out.append("\\b"); return;
    case '\f': out.append("\\f"); return;
    case '\n': out.append("\\n"); return;
    case '\r': out.append("\\r"); return;
    case '\t': out.append("\\t"); return;
    default: break;
    }
    const char escape[] = {'\\', 'u', '0', '0', hex[byte >> 4], hex[byte & 0x0f]};
    out.append(escape, sizeof escape);
}

// U+2028 and U+2029 (E2 80 A8, E2 80 A9) end a line for Python's
// str.splitlines and for JavaScript before ES2019: left raw, one event would
// read as two lines there, as with U+0085.
bool is_line_or_paragraph_separator(std::string_view text, std::size_t at) noexcept
{
    return text.size() - at >= 3 && text[at] == '\xe2' && text[at + 1] == '\x80' &&
           (text[at + 2] == '\xa8' || text[at + 2] == '\xa9');
}

void append_separator_escape(std::string& out, char last_byte)
{
    out.append(last_byte == '\xa8' ? "\\u2028" : "\\u2029");
}

} // namespace

void append_json_string(std::string& out, std::string_view text)
{
    out.push_back('"');
    std::size_t at = 0;
    while (at < text.size()) {
        // Copy the longest run that needs no escaping in one append.
        std::size_t run = at;
        while (run < text.size()) {
            const auto byte = static_cast<unsigned char>(text[run]);
            if (byte < 0x20 || byte >= 0x7f || byte == '"' || byte == '\\')
                break;
            ++run;
        }
        out.append(text.data() + at, run - at);
        at = run;
        if (at == text.size())
            break;

        const auto byte = static_cast<unsigned char>(text[at]);
        if (byte == '"' || byte == '\\') {
            out.push_back('\\');
            out.push_back(static_cast<char>(byte));
            ++at;
        } else if (byte < 0x20 || byte == 0x7f) {
            append_control_escape(out, byte);
            ++at;
        } else if (const auto length = utf8_sequence_length(text, at); length != 0) {
            // U+0080-U+009F are control characters too (C1: CSI, OSC, ...).
            const auto second = static_cast<unsigned char>(text[at + 1]);
            if (byte == 0xc2 && second < 0xa0)
                append_control_escape(out, second);
            else if (is_line_or_paragraph_separator(text, at))
                append_separator_escape(out, text[at + 2]);
            else
                out.append(text.data() + at, length);
            at += length;
        } else {
            out.append("\\ufffd");
            ++at;
        }
    }
    out.push_back('"');
}

} // namespace nflog::watch
