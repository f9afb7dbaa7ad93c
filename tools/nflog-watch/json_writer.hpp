#ifndef NFLOG_WATCH_JSON_WRITER_HPP
#define NFLOG_WATCH_JSON_WRITER_HPP

#include <charconv>
#include <concepts>
#include <string>
#include <string_view>

namespace nflog::watch {

/// Appends `text` to `out` as a JSON string literal (RFC 8259), quotes included.
///
/// Log prefixes and interface names are bytes, not text, and the output must
/// stay valid UTF-8 whatever they hold, so:
/// - `"` and `\` are escaped; `\b \f \n \r \t` use their short escapes; every
///   other byte below 0x20, DEL (0x7f) and the C1 controls U+0080-U+009F
///   become `\u00XX`, so that a log line can never carry terminal control
///   sequences;
/// - U+2028 and U+2029 become `\u2028` and `\u2029`: like U+0085, they end
///   a line for some line-based readers (Python's str.splitlines, JavaScript
///   before ES2019), which would split one event in two;
/// - well-formed UTF-8 sequences (RFC 3629: no overlong forms, no surrogates,
///   nothing above U+10FFFF) are copied unchanged;
/// - every byte that does not start a well-formed sequence becomes one
///   `\ufffd` (U+FFFD REPLACEMENT CHARACTER), and the scan resumes at the next
///   byte. Mapping bytes to `\u00XX` instead would turn them into valid Latin-1
///   characters indistinguishable from real ones; U+FFFD says "not text".
///
/// Allocates only when `out` lacks capacity.
void append_json_string(std::string& out, std::string_view text);

/// Writes one JSON object, member by member, into a caller-owned string that
/// is reused from line to line: once its capacity has grown to the longest
/// line, writing allocates nothing. Members appear in the order written; the
/// caller keeps keys unique.
class json_object_writer {
public:
    /// Clears `out` (keeping its capacity) and opens the object.
    explicit json_object_writer(std::string& out) : out_(out)
    {
        out_.clear();
        out_.push_back('{');
    }

    void string(std::string_view key, std::string_view value)
    {
        member(key);
        append_json_string(out_, value);
    }

    template <std::integral T>
        requires(!std::same_as<T, bool>)
    void number(std::string_view key, T value)
    {
        member(key);
        char digits[24]; // enough for any 64-bit integer with its sign
        const auto end = std::to_chars(digits, digits + sizeof digits, value).ptr;
        out_.append(digits, end);
    }

    void boolean(std::string_view key, bool value)
    {
        member(key);
        out_.append(value ? "true" : "false");
    }

    /// Closes the object. No newline: framing is the caller's choice.
    void close() { out_.push_back('}'); }

private:
    void member(std::string_view key)
    {
        if (!empty_)
            out_.push_back(',');
        empty_ = false;
        append_json_string(out_, key);
        out_.push_back(':');
    }

    std::string& out_;
    bool empty_ = true;
};

} // namespace nflog::watch

#endif
