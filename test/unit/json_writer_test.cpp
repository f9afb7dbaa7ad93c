#include "json_writer.hpp"

#include "support/counting_allocator.hpp"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

namespace {

using nflog::watch::append_json_string;
using nflog::watch::json_object_writer;

std::string quoted(std::string_view text)
{
    std::string out;
    append_json_string(out, text);
    return out;
}

TEST(append_json_string, plain_ascii_is_copied_between_quotes)
{
    EXPECT_EQ(quoted(""), R"("")");
    EXPECT_EQ(quoted("DENIED: tcp 10.0.0.1 ~!@#$%^&*()_+{}|:<>?`-=[];',./"),
              R"("DENIED: tcp 10.0.0.1 ~!@#$%^&*()_+{}|:<>?`-=[];',./")");
}

TEST(append_json_string, quote_and_backslash_are_escaped)
{
    EXPECT_EQ(quoted(R"(a"b)"), R"("a\"b")");
    EXPECT_EQ(quoted(R"(a\b)"), R"("a\\b")");
    EXPECT_EQ(quoted(R"("\")"), R"("\"\\\"")");
}

TEST(append_json_string, every_control_character_is_escaped)
{
    constexpr std::string_view expected[0x20] = {
        R"(\u0000)", R"(\u0001)", R"(\u0002)", R"(\u0003)", R"(\u0004)", R"(\u0005)", R"(\u0006)", R"(\u0007)",
        R"(\b)",     R"(\t)",     R"(\n)",     R"(\u000b)", R"(\f)",     R"(\r)",     R"(\u000e)", R"(\u000f)",
        R"(\u0010)", R"(\u0011)", R"(\u0012)", R"(\u0013)", R"(\u0014)", R"(\u0015)", R"(\u0016)", R"(\u0017)",
        R"(\u0018)", R"(\u0019)", R"(\u001a)", R"(\u001b)", R"(\u001c)", R"(\u001d)", R"(\u001e)", R"(\u001f)",
    };
    for (int byte = 0; byte < 0x20; ++byte) {
        const char text[] = {'x', static_cast<char>(byte), 'y'};
        EXPECT_EQ(quoted({text, sizeof text}), "\"x" + std::string(expected[byte]) + "y\"") << byte;
    }
}

TEST(append_json_string, delete_is_escaped)
{
    EXPECT_EQ(quoted("a\x7f" "b"), R"("a\u007fb")");
}

// U+0080-U+009F are well-formed UTF-8 but control characters: U+009B is a
// CSI, U+009D an OSC to a terminal that takes 8-bit controls.
TEST(append_json_string, c1_control_characters_are_escaped)
{
    for (int code = 0x80; code < 0xa0; ++code) {
        const char text[] = {'x', '\xc2', static_cast<char>(code), 'y'};
        constexpr char hex[] = "0123456789abcdef";
        const std::string escape = {'\\', 'u', '0', '0', hex[code >> 4], hex[code & 0x0f]};
        EXPECT_EQ(quoted({text, sizeof text}), "\"x" + escape + "y\"") << code;
    }
    EXPECT_EQ(quoted("DENIED \xc2\x9b" "31mRED\xc2\x9b" "0m"), R"("DENIED \u009b31mRED\u009b0m")");
}

TEST(append_json_string, well_formed_utf8_is_kept)
{
    // Two-, three- and four-byte sequences, including the edges of each range.
    EXPECT_EQ(quoted("\xc2\xa0"), "\"\xc2\xa0\"");             // U+00A0, just above the C1 controls
    EXPECT_EQ(quoted("caf\xc3\xa9"), "\"caf\xc3\xa9\"");       // é
    EXPECT_EQ(quoted("\xdf\xbf"), "\"\xdf\xbf\"");             // U+07FF
    EXPECT_EQ(quoted("\xe0\xa0\x80"), "\"\xe0\xa0\x80\"");     // U+0800
    EXPECT_EQ(quoted("\xe2\x82\xac"), "\"\xe2\x82\xac\"");     // €
    EXPECT_EQ(quoted("\xed\x9f\xbf"), "\"\xed\x9f\xbf\"");     // U+D7FF, just below the surrogates
    EXPECT_EQ(quoted("\xee\x80\x80"), "\"\xee\x80\x80\"");     // U+E000, just above them
    EXPECT_EQ(quoted("\xef\xbf\xbd"), "\"\xef\xbf\xbd\"");     // U+FFFD itself
    EXPECT_EQ(quoted("\xf0\x90\x80\x80"), "\"\xf0\x90\x80\x80\""); // U+10000
    EXPECT_EQ(quoted("\xf0\x9f\x94\xa5"), "\"\xf0\x9f\x94\xa5\""); // 🔥
    EXPECT_EQ(quoted("\xf4\x8f\xbf\xbf"), "\"\xf4\x8f\xbf\xbf\""); // U+10FFFF
    EXPECT_EQ(quoted("\xe2\x80\xa7"), "\"\xe2\x80\xa7\"");     // U+2027, just below the separators
    EXPECT_EQ(quoted("\xe2\x80\xaa"), "\"\xe2\x80\xaa\"");     // U+202A, just above them
}

// Valid JSON raw, but line breaks for Python's str.splitlines and for
// JavaScript before ES2019: one event must stay one line there.
TEST(append_json_string, line_and_paragraph_separators_are_escaped)
{
    EXPECT_EQ(quoted("a\xe2\x80\xa8" "b"), R"("a\u2028b")");
    EXPECT_EQ(quoted("a\xe2\x80\xa9" "b"), R"("a\u2029b")");
    EXPECT_EQ(quoted("\xe2\x80\xa8\xe2\x80\xa9"), R"("\u2028\u2029")");
    // Cut before its last byte, a separator is not one: each byte is replaced.
    EXPECT_EQ(quoted("\xe2\x80"), R"("\ufffd\ufffd")");
}

TEST(append_json_string, lone_continuation_bytes_are_replaced_one_each)
{
    EXPECT_EQ(quoted("a\x80" "b"), R"("a\ufffdb")");
    EXPECT_EQ(quoted("\xbf"), R"("\ufffd")");
    EXPECT_EQ(quoted("\x80\x80\x80"), R"("\ufffd\ufffd\ufffd")");
    // A fifth byte after a complete four-byte sequence is a lone continuation.
    EXPECT_EQ(quoted("\xf0\x9f\x94\xa5\xa5"), "\"\xf0\x9f\x94\xa5\\ufffd\"");
}

TEST(append_json_string, truncated_sequences_are_replaced_byte_by_byte)
{
    EXPECT_EQ(quoted("\xc3"), R"("\ufffd")");
    EXPECT_EQ(quoted("\xc3" "A"), R"("\ufffdA")");
    EXPECT_EQ(quoted("\xe2\x82"), R"("\ufffd\ufffd")");
    EXPECT_EQ(quoted("\xe2\x82" "A"), R"("\ufffd\ufffdA")");
    EXPECT_EQ(quoted("\xf0\x9f\x94"), R"("\ufffd\ufffd\ufffd")");
    // A lead byte followed by another lead byte: the second sequence is kept.
    EXPECT_EQ(quoted("\xe2\xc3\xa9"), "\"\\ufffd\xc3\xa9\"");
    // A control character where a continuation byte should be is still escaped.
    EXPECT_EQ(quoted("\xc3\n"), R"("\ufffd\n")");
}

TEST(append_json_string, overlong_encodings_are_replaced)
{
    EXPECT_EQ(quoted("\xc0\xaf"), R"("\ufffd\ufffd")");         // '/' in two bytes
    EXPECT_EQ(quoted("\xc1\xbf"), R"("\ufffd\ufffd")");
    EXPECT_EQ(quoted("\xc0\x80"), R"("\ufffd\ufffd")");         // NUL in two bytes
    EXPECT_EQ(quoted("\xe0\x80\xaf"), R"("\ufffd\ufffd\ufffd")"); // '/' in three bytes
    EXPECT_EQ(quoted("\xe0\x9f\xbf"), R"("\ufffd\ufffd\ufffd")"); // U+07FF in three bytes
    EXPECT_EQ(quoted("\xf0\x80\x80\xaf"), R"("\ufffd\ufffd\ufffd\ufffd")");
    EXPECT_EQ(quoted("\xf0\x8f\xbf\xbf"), R"("\ufffd\ufffd\ufffd\ufffd")"); // U+FFFF in four bytes
}

TEST(append_json_string, surrogates_are_replaced)
{
    EXPECT_EQ(quoted("\xed\xa0\x80"), R"("\ufffd\ufffd\ufffd")"); // U+D800
    EXPECT_EQ(quoted("\xed\xbf\xbf"), R"("\ufffd\ufffd\ufffd")"); // U+DFFF
    // A CESU-8 style pair is two surrogates, not one character.
    EXPECT_EQ(quoted("\xed\xa0\xbd\xed\xb4\xa5"), R"("\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd")");
}

TEST(append_json_string, code_points_above_u10ffff_are_replaced)
{
    EXPECT_EQ(quoted("\xf4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")"); // U+110000
    EXPECT_EQ(quoted("\xf5\x80\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");
    EXPECT_EQ(quoted("\xf7\xbf\xbf\xbf"), R"("\ufffd\ufffd\ufffd\ufffd")");
    // Five- and six-byte forms of the original UTF-8 and the bytes no form uses.
    EXPECT_EQ(quoted("\xf8\x88\x80\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd\ufffd")");
    EXPECT_EQ(quoted("\xfc\x84\x80\x80\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd\ufffd\ufffd")");
    EXPECT_EQ(quoted("\xfe\xff"), R"("\ufffd\ufffd")");
}

TEST(append_json_string, every_single_byte_is_copied_escaped_or_replaced)
{
    // Exhaustive over one byte: ASCII printable is copied, the rest escaped or replaced.
    for (int byte = 0; byte < 256; ++byte) {
        const char text[] = {static_cast<char>(byte)};
        const auto out = quoted({text, 1});
        if (byte >= 0x20 && byte < 0x7f && byte != '"' && byte != '\\')
            EXPECT_EQ(out, std::string("\"") + static_cast<char>(byte) + "\"") << byte;
        else if (byte >= 0x80)
            EXPECT_EQ(out, R"("\ufffd")") << byte;
        else
            EXPECT_EQ(out.substr(0, 2), "\"\\") << byte;
    }
}

TEST(append_json_string, appends_to_what_is_there)
{
    std::string out = "x=";
    append_json_string(out, "y");
    EXPECT_EQ(out, R"(x="y")");
}

TEST(json_object_writer, writes_members_in_order)
{
    std::string line = "left over from an earlier line";
    json_object_writer json(line);
    json.string("name", "a\"b");
    json.number("small", std::uint8_t{7});
    json.number("negative", std::int64_t{-42});
    json.number("largest", std::numeric_limits<std::uint64_t>::max());
    json.number("smallest", std::numeric_limits<std::int64_t>::min());
    json.boolean("yes", true);
    json.boolean("no", false);
    json.close();
    EXPECT_EQ(line, R"({"name":"a\"b","small":7,"negative":-42,"largest":18446744073709551615,)"
                    R"("smallest":-9223372036854775808,"yes":true,"no":false})");
}

TEST(json_object_writer, empty_object)
{
    std::string line;
    json_object_writer json(line);
    json.close();
    EXPECT_EQ(line, "{}");
}

TEST(json_object_writer, keys_are_escaped_too)
{
    std::string line;
    json_object_writer json(line);
    json.number("a\nb", 1);
    json.close();
    EXPECT_EQ(line, R"({"a\nb":1})");
}

TEST(json_object_writer, reused_string_allocates_nothing_once_warm)
{
    std::string line;
    const auto write = [&] {
        json_object_writer json(line);
        json.string("prefix", "DENIED \xff\x01 caf\xc3\xa9");
        json.number("port", std::uint16_t{443});
        json.boolean("fragment", true);
        json.close();
    };
    write();
    const nflog::test::allocation_scope scope;
    for (int i = 0; i < 100; ++i)
        write();
    EXPECT_EQ(scope.count(), 0u);
    EXPECT_EQ(line, R"({"prefix":"DENIED \ufffd\u0001 café","port":443,"fragment":true})");
}

} // namespace
