#include "options.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

namespace {

using nflog::watch::parse_options;
using nflog::watch::parsed_options;

parsed_options parse(std::initializer_list<const char*> arguments)
{
    const std::vector<const char*> list(arguments);
    return parse_options(list);
}

TEST(parse_options, read_in_every_spelling)
{
    for (const auto& parsed : {parse({"--read", "a.pcap"}), parse({"--read=a.pcap"}), parse({"-r", "a.pcap"})}) {
        EXPECT_EQ(parsed.error, "");
        EXPECT_EQ(parsed.values.read_path, "a.pcap");
        EXPECT_EQ(parsed.values.container, "");
        EXPECT_FALSE(parsed.values.help);
    }
}

TEST(parse_options, container_label)
{
    const auto parsed = parse({"--container", "web-1", "--read", "-"});
    EXPECT_EQ(parsed.error, "");
    EXPECT_EQ(parsed.values.read_path, "-");
    EXPECT_EQ(parsed.values.container, "web-1");
    EXPECT_EQ(parse({"--read", "x", "--container="}).values.container, "");
    EXPECT_EQ(parse({"--read", "x", "--container=a=b"}).values.container, "a=b");
}

TEST(parse_options, value_that_looks_like_an_option_is_still_the_value)
{
    const auto parsed = parse({"--read", "--container"});
    EXPECT_EQ(parsed.error, "");
    EXPECT_EQ(parsed.values.read_path, "--container");
}

TEST(parse_options, help_needs_nothing_else)
{
    EXPECT_EQ(parse({"--help"}).error, "");
    EXPECT_TRUE(parse({"--help"}).values.help);
    EXPECT_TRUE(parse({"-h"}).values.help);
    EXPECT_TRUE(parse({"--read", "x", "-h"}).values.help);
}

TEST(parse_options, wrong_command_lines)
{
    EXPECT_EQ(parse({}).error, "nothing to do: give --read FILE");
    EXPECT_EQ(parse({"--container", "x"}).error, "nothing to do: give --read FILE");
    EXPECT_EQ(parse({"--read"}).error, "--read needs a value");
    EXPECT_EQ(parse({"-r"}).error, "-r needs a value");
    EXPECT_EQ(parse({"--read", "x", "--container"}).error, "--container needs a value");
    EXPECT_EQ(parse({"--read="}).error, "--read needs a file name");
    EXPECT_EQ(parse({"--read", "a", "--read", "b"}).error, "--read given twice");
    EXPECT_EQ(parse({"--read", "a", "--container", "b", "--container", "c"}).error, "--container given twice");
    EXPECT_EQ(parse({"--read", "a", "--follow"}).error, "unknown option --follow");
    EXPECT_EQ(parse({"--reading", "a"}).error, "unknown option --reading");
    EXPECT_EQ(parse({"a.pcap"}).error, "unexpected argument a.pcap");
    EXPECT_EQ(parse({"--read", "a", "-"}).error, "unexpected argument -");
}

TEST(help_text, lists_every_exit_status)
{
    const std::string text(nflog::watch::help_text());
    for (const char* line : {"\n  0  ", "\n  1  ", "\n  2  ", "\n  3  ", "\n  4  ", "\n  5  ", "\n  6  "})
        EXPECT_NE(text.find(line), std::string::npos) << line;
}

} // namespace
