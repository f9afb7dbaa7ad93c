#ifndef NFLOG_TEST_FUZZ_JSON_LINE_HPP
#define NFLOG_TEST_FUZZ_JSON_LINE_HPP

// A strict reader of one line of nflog-watch's output, for the fuzz targets
// that check what the tool prints: anything JSON allows but the tool never
// writes (spaces, fractions, false, null, nesting) is a broken promise too.

#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "fuzz_checks.hpp"

namespace nflog::fuzz {

// Member name -> the value's text (strings decoded, others as written).
using json_members = std::map<std::string, std::string>;

// A strict reader of one line of nflog-watch's output: a flat object.
class json_line_parser {
public:
    explicit json_line_parser(std::string_view line) : text_(line) {}

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
        require(code_point >= 0xa0, "C1 control characters are escaped");
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

// The value of a member every such line has; a missing one is a broken
// promise that names the member, not an exception from the map.
inline const std::string& required(const json_members& line, const std::string& key)
{
    const auto found = line.find(key);
    if (found == line.end()) {
        std::fprintf(stderr, "broken promise: the line has the member \"%s\"\n", key.c_str());
        std::abort();
    }
    return found->second;
}

} // namespace nflog::fuzz

#endif
