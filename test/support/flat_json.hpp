#ifndef NFLOG_TEST_SUPPORT_FLAT_JSON_HPP
#define NFLOG_TEST_SUPPORT_FLAT_JSON_HPP

#include <cctype>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace nflog::test {

/// The values a flat expectation file uses. JSON numbers are limited to integers.
using json_value = std::variant<std::nullptr_t, bool, std::int64_t, std::string>;
using json_object = std::map<std::string, json_value, std::less<>>;

namespace detail_json {

// A recursive-descent reader for exactly one shape: an array of objects whose
// values are scalars. Expectation files stay readable by any JSON tool, and
// the tests need no JSON library.
class reader {
public:
    explicit reader(std::string_view text) : text_(text) {}

    std::vector<json_object> array_of_objects()
    {
        std::vector<json_object> out;
        expect('[');
        if (!peek(']')) {
            do
                out.push_back(object());
            while (accept(','));
        }
        expect(']');
        skip_space();
        if (at_ != text_.size())
            fail("text after the array");
        return out;
    }

private:
    json_object object()
    {
        json_object out;
        expect('{');
        if (!peek('}')) {
            do {
                auto key = string();
                expect(':');
                if (!out.emplace(std::move(key), value()).second)
                    fail("duplicate key");
            } while (accept(','));
        }
        expect('}');
        return out;
    }

    json_value value()
    {
        skip_space();
        if (peek('"'))
            return string();
        if (literal("null"))
            return nullptr;
        if (literal("true"))
            return true;
        if (literal("false"))
            return false;
        return integer();
    }

    std::int64_t integer()
    {
        skip_space();
        const auto start = at_;
        if (at_ < text_.size() && text_[at_] == '-')
            ++at_;
        const auto digits = at_;
        while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_])))
            ++at_;
        if (at_ == digits || at_ - digits > 18)
            fail("expected a value (null, true, false, a string or an integer)");
        if (at_ < text_.size() && (text_[at_] == '.' || text_[at_] == 'e' || text_[at_] == 'E'))
            fail("only integers are supported");
        return std::stoll(std::string(text_.substr(start, at_ - start)));
    }

    std::string string()
    {
        expect('"');
        std::string out;
        while (true) {
            if (at_ >= text_.size())
                fail("unterminated string");
            const char c = text_[at_++];
            if (c == '"')
                return out;
            if (static_cast<unsigned char>(c) < 0x20)
                fail("control character in a string");
            if (c != '\\') {
                out += c;
                continue;
            }
            if (at_ >= text_.size())
                fail("unterminated escape");
            switch (const char e = text_[at_++]) {
            case '"':
            case '\\':
            case '/':
                out += e;
                break;
            case 'b': out += '\b'; break;
            case 'f': out += '\f'; break;
            case 'n': out += '\n'; break;
            case 'r': out += '\r'; break;
            case 't': out += '\t'; break;
            case 'u': out += ascii_escape(); break;
            default: fail("unknown escape");
            }
        }
    }

    // Expectation files are ASCII; anything wider would need UTF-8 encoding
    // that no test needs, so it is refused rather than mangled.
    char ascii_escape()
    {
        if (text_.size() - at_ < 4)
            fail("short \\u escape");
        unsigned value = 0;
        for (int i = 0; i < 4; ++i) {
            const char h = text_[at_++];
            if (!std::isxdigit(static_cast<unsigned char>(h)))
                fail("bad \\u escape");
            value = value * 16 + static_cast<unsigned>(std::isdigit(static_cast<unsigned char>(h))
                                                           ? h - '0'
                                                           : std::tolower(static_cast<unsigned char>(h)) - 'a' + 10);
        }
        if (value >= 0x80)
            fail("\\u escape beyond ASCII");
        return static_cast<char>(value);
    }

    bool literal(std::string_view word)
    {
        if (text_.substr(at_, word.size()) != word)
            return false;
        at_ += word.size();
        return true;
    }

    void skip_space()
    {
        while (at_ < text_.size() && (text_[at_] == ' ' || text_[at_] == '\n' || text_[at_] == '\r' || text_[at_] == '\t'))
            ++at_;
    }
    bool peek(char c)
    {
        skip_space();
        return at_ < text_.size() && text_[at_] == c;
    }
    bool accept(char c)
    {
        if (!peek(c))
            return false;
        ++at_;
        return true;
    }
    void expect(char c)
    {
        if (!accept(c))
            fail(std::string("expected '") + c + "'");
    }
    [[noreturn]] void fail(const std::string& what) const
    {
        throw std::runtime_error("json: " + what + " at offset " + std::to_string(at_));
    }

    std::string_view text_;
    std::size_t at_ = 0;
};

} // namespace detail_json

/// Parses a JSON array of flat objects (values: null, booleans, integers,
/// strings). Anything else throws `std::runtime_error` with the offset.
inline std::vector<json_object> parse_flat_json(std::string_view text)
{
    return detail_json::reader(text).array_of_objects();
}

inline std::vector<json_object> read_flat_json(const std::string& path)
{
    std::ifstream file(path);
    if (!file)
        throw std::runtime_error("cannot open " + path);
    const std::string text{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    return parse_flat_json(text);
}

} // namespace nflog::test

#endif
