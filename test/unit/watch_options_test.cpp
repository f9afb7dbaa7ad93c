#include "options.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
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
    EXPECT_EQ(parse({}).error, "nothing to do: give --group N to watch live, or --read FILE");
    EXPECT_EQ(parse({"--container", "x"}).error, "nothing to do: give --group N to watch live, or --read FILE");
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
    for (const char* line : {"\n  0  ", "\n  1  ", "\n  2  ", "\n  3  ", "\n  4  ", "\n  5  ", "\n  6  ", "\n  7  ",
                             "\n  8  ", "\n  9  ", "\n  10 ", "\n  11 "})
        EXPECT_NE(text.find(line), std::string::npos) << line;
}

TEST(parse_options, watching_with_every_option)
{
    const auto parsed = parse({"--group", "5", "--group=7", "--netns", "web", "--netns=/proc/1/ns/net", "--container",
                               "c1", "--copy-range", "128", "--count", "10", "--idle-exit", "1.5", "--stats",
                               "--output", "events.json", "--pcap", "events.pcap", "--rcvbuf", "0", "--qthresh", "4",
                               "--timeout", "25", "--nlbufsiz", "131072"});
    ASSERT_EQ(parsed.error, "");
    const auto& values = parsed.values;
    EXPECT_TRUE(values.watching());
    EXPECT_EQ(values.groups, (std::vector<std::uint16_t>{5, 7}));
    EXPECT_EQ(values.netns, (std::vector<std::string>{"web", "/proc/1/ns/net"}));
    EXPECT_EQ(values.container, "c1");
    EXPECT_EQ(values.copy_range, 128u);
    EXPECT_EQ(values.count, 10u);
    EXPECT_EQ(values.idle_exit, std::chrono::milliseconds(1500));
    EXPECT_TRUE(values.stats);
    EXPECT_EQ(values.output_path, "events.json");
    EXPECT_EQ(values.pcap_path, "events.pcap");
    EXPECT_EQ(values.kernel.receive_buffer, 0u);
    EXPECT_EQ(values.kernel.queue_threshold, 4u);
    EXPECT_EQ(values.kernel.timeout, std::chrono::milliseconds(25));
    EXPECT_EQ(values.kernel.nlbufsiz, 131072u);
    EXPECT_EQ(values.read_path, "");
}

TEST(parse_options, watching_leaves_unset_what_was_not_given)
{
    const auto parsed = parse({"--group", "0"});
    ASSERT_EQ(parsed.error, "");
    const auto& values = parsed.values;
    EXPECT_EQ(values.groups, (std::vector<std::uint16_t>{0}));
    EXPECT_TRUE(values.netns.empty());
    EXPECT_FALSE(values.copy_range);
    EXPECT_FALSE(values.count);
    EXPECT_FALSE(values.idle_exit);
    EXPECT_FALSE(values.stats);
    EXPECT_FALSE(values.kernel.receive_buffer);
    EXPECT_FALSE(values.kernel.queue_threshold);
    EXPECT_FALSE(values.kernel.timeout);
    EXPECT_FALSE(values.kernel.nlbufsiz);
    EXPECT_EQ(values.output_path, "");
    EXPECT_EQ(values.pcap_path, "");
}

TEST(parse_options, output_also_serves_reading)
{
    const auto parsed = parse({"--read", "a.pcap", "--output", "out.json"});
    EXPECT_EQ(parsed.error, "");
    EXPECT_EQ(parsed.values.output_path, "out.json");
    EXPECT_FALSE(parsed.values.watching());
}

// Opening the output empties it: it must never be the capture being read,
// nor the capture being written, under any spelling of the same file.
TEST(parse_options, the_output_is_never_a_file_the_tool_reads_or_also_writes)
{
    const auto folder = std::filesystem::temp_directory_path() / ("nflog-options-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    const auto capture = (folder / "x.pcap").string();
    std::ofstream(capture) << "capture";
    const auto hard_link = (folder / "y.pcap").string();
    std::filesystem::create_hard_link(capture, hard_link);
    const auto dotted = (folder / "." / "x.pcap").string();

    for (const auto& output : {capture, dotted, hard_link})
        EXPECT_EQ(parse({"--read", capture.c_str(), "--output", output.c_str()}).error,
                  "--output names the capture that --read reads")
            << output;
    EXPECT_EQ(parse({"--read", capture.c_str(), "--output", (folder / "events").c_str()}).error, "");
    EXPECT_EQ(parse({"--read", "-", "--output", capture.c_str()}).error, "");

    const auto events = (folder / "events.json").string();
    const auto events_dotted = (folder / "sub" / ".." / "events.json").string();
    std::filesystem::create_directories(folder / "sub");
    EXPECT_EQ(parse({"--group", "1", "--pcap", events.c_str(), "--output", events_dotted.c_str()}).error,
              "--output and --pcap name the same file");
    EXPECT_EQ(parse({"--group", "1", "--pcap", capture.c_str(), "--output", hard_link.c_str()}).error,
              "--output and --pcap name the same file");
    std::filesystem::remove_all(folder);
}

// A scratch folder made the working directory for one test, so that
// relative paths in it are the ones the tool would resolve.
class working_in_scratch_folder {
public:
    working_in_scratch_folder()
        : folder_(std::filesystem::temp_directory_path() / ("nflog-options-cwd-" + std::to_string(::getpid()))),
          previous_(std::filesystem::current_path())
    {
        std::filesystem::create_directories(folder_ / "sub");
        std::filesystem::current_path(folder_);
    }
    ~working_in_scratch_folder()
    {
        std::filesystem::current_path(previous_);
        std::filesystem::remove_all(folder_);
    }
    working_in_scratch_folder(const working_in_scratch_folder&) = delete;
    working_in_scratch_folder& operator=(const working_in_scratch_folder&) = delete;

    std::string absolute(const char* name) const { return (folder_ / name).string(); }

private:
    std::filesystem::path folder_;
    std::filesystem::path previous_;
};

// Neither file exists yet: only their places can tell that they are one.
TEST(parse_options, relative_and_absolute_names_of_one_new_file_are_the_same_file)
{
    const working_in_scratch_folder scratch;
    const auto absolute = scratch.absolute("x");
    const std::string same = "--output and --pcap name the same file";
    EXPECT_EQ(parse({"--group", "1", "--pcap", "x", "--output", absolute.c_str()}).error, same);
    EXPECT_EQ(parse({"--group", "1", "--pcap", absolute.c_str(), "--output", "x"}).error, same);
    EXPECT_EQ(parse({"--group", "1", "--pcap", "./x", "--output", "x"}).error, same);
    EXPECT_EQ(parse({"--group", "1", "--pcap", "sub/../x", "--output", "./x"}).error, same);
    EXPECT_EQ(parse({"--group", "1", "--pcap", "sub/x", "--output", "x"}).error, "");
}

// Opening a dangling symbolic link for writing creates its target.
TEST(parse_options, a_dangling_link_is_the_same_file_as_its_target)
{
    const working_in_scratch_folder scratch;
    std::filesystem::create_symlink("target", "link");
    std::filesystem::create_symlink("../target", "sub/up");
    std::filesystem::create_symlink("link", "chain");
    const auto absolute_target = scratch.absolute("target");
    const std::string same = "--output and --pcap name the same file";
    EXPECT_EQ(parse({"--group", "1", "--pcap", "link", "--output", "target"}).error, same);
    EXPECT_EQ(parse({"--group", "1", "--pcap", "sub/up", "--output", absolute_target.c_str()}).error, same);
    EXPECT_EQ(parse({"--group", "1", "--pcap", "chain", "--output", "./target"}).error, same);
    EXPECT_EQ(parse({"--group", "1", "--pcap", "link", "--output", "sub/target"}).error, "");
}

// Points standard output at another descriptor for one test, then back.
class standard_output_redirected {
public:
    explicit standard_output_redirected(int descriptor) : saved_(::dup(STDOUT_FILENO))
    {
        std::fflush(stdout);
        ::dup2(descriptor, STDOUT_FILENO);
    }
    ~standard_output_redirected()
    {
        std::fflush(stdout);
        ::dup2(saved_, STDOUT_FILENO);
        ::close(saved_);
    }
    standard_output_redirected(const standard_output_redirected&) = delete;
    standard_output_redirected& operator=(const standard_output_redirected&) = delete;

private:
    int saved_;
};

// The error parse_options gives while standard output is `descriptor`;
// gtest's own messages are written only once it is back.
std::string error_with_standard_output(int descriptor, std::initializer_list<const char*> arguments)
{
    const standard_output_redirected redirected(descriptor);
    return parse(arguments).error;
}

// The capture and the events would be mixed on standard output, as with
// --pcap - and no --output, under whatever name standard output is given.
TEST(parse_options, a_file_name_for_standard_output_counts_as_standard_output)
{
    const working_in_scratch_folder scratch;
    std::ofstream("redirected") << "";
    const int file = ::open("redirected", O_WRONLY);
    ASSERT_GE(file, 0);
    int pipe_ends[2];
    ASSERT_EQ(::pipe(pipe_ends), 0);
    for (const int out : {file, pipe_ends[1]}) {
        EXPECT_EQ(error_with_standard_output(out, {"--group", "1", "--pcap", "/dev/stdout"}),
                  "--pcap /dev/stdout writes the capture to standard output: give --output FILE for the events");
        EXPECT_EQ(error_with_standard_output(out, {"--group", "1", "--output", "/dev/stdout", "--pcap", "-"}),
                  "--output /dev/stdout is standard output, where --pcap - writes the capture: give another FILE "
                  "for the events");
        EXPECT_EQ(error_with_standard_output(out, {"--group", "1", "--output", "events", "--pcap", "/dev/stdout"}),
                  "");
        EXPECT_EQ(error_with_standard_output(out, {"--group", "1", "--output", "/dev/stdout", "--pcap", "packets"}),
                  "");
    }
    EXPECT_EQ(error_with_standard_output(file, {"--group", "1", "--pcap", "redirected"}),
              "--pcap redirected writes the capture to standard output: give --output FILE for the events");
    EXPECT_EQ(error_with_standard_output(file, {"--group", "1", "--pcap", "-", "--output", "redirected"}),
              "--output redirected is standard output, where --pcap - writes the capture: give another FILE for the "
              "events");
    ::close(file);
    ::close(pipe_ends[0]);
    ::close(pipe_ends[1]);
}

// /dev/null keeps nothing, so outputs may share it: a run that only wants
// the --stats line, or a test of the options.
TEST(parse_options, outputs_may_share_the_null_device)
{
    const int null_device = ::open("/dev/null", O_WRONLY);
    ASSERT_GE(null_device, 0);
    EXPECT_EQ(error_with_standard_output(null_device, {"--group", "1", "--pcap", "/dev/null"}), "");
    EXPECT_EQ(error_with_standard_output(null_device, {"--group", "1", "--pcap", "/dev/stdout"}), "");
    EXPECT_EQ(error_with_standard_output(null_device, {"--group", "1", "--pcap", "-"}), "");
    EXPECT_EQ(parse({"--group", "1", "--pcap", "/dev/null", "--output", "/dev/null"}).error, "");
    ::close(null_device);
}

TEST(parse_options, output_dash_is_standard_output)
{
    const auto parsed = parse({"--read", "a.pcap", "--output", "-"});
    EXPECT_EQ(parsed.error, "");
    EXPECT_EQ(parsed.values.output_path, "") << "not a file named \"-\"";
    int pipe_ends[2];
    ASSERT_EQ(::pipe(pipe_ends), 0);
    EXPECT_EQ(error_with_standard_output(pipe_ends[1], {"--group", "1", "--pcap", "-", "--output", "-"}),
              "--pcap - writes the capture to standard output: give --output FILE for the events");
    ::close(pipe_ends[0]);
    ::close(pipe_ends[1]);
}

TEST(parse_options, pcap_on_standard_output_needs_another_place_for_the_events)
{
    int pipe_ends[2];
    ASSERT_EQ(::pipe(pipe_ends), 0);
    EXPECT_EQ(error_with_standard_output(pipe_ends[1], {"--group", "1", "--pcap", "-"}),
              "--pcap - writes the capture to standard output: give --output FILE for the events");
    ::close(pipe_ends[0]);
    ::close(pipe_ends[1]);
    EXPECT_EQ(parse({"--group", "1", "--pcap", "-", "--output", "e.json"}).error, "");
    EXPECT_EQ(parse({"--group", "1", "--pcap", "x", "--output", "x"}).error, "--output and --pcap name the same file");
}

TEST(parse_options, wrong_watching_command_lines)
{
    EXPECT_EQ(parse({"--group", "65536"}).error, "--group 65536: expected a group number from 0 to 65535");
    EXPECT_EQ(parse({"--group", "-1"}).error, "--group -1: expected a group number from 0 to 65535");
    EXPECT_EQ(parse({"--group", "1x"}).error, "--group 1x: expected a group number from 0 to 65535");
    EXPECT_EQ(parse({"--group", ""}).error, "--group : expected a group number from 0 to 65535");
    EXPECT_EQ(parse({"--group", "3", "--group", "3"}).error, "--group 3 given twice");
    EXPECT_EQ(parse({"--group", "3", "--netns", "a", "--netns", "a"}).error, "--netns a given twice");
    EXPECT_EQ(parse({"--group", "3", "--netns="}).error, "--netns needs a namespace name or path");
    EXPECT_EQ(parse({"--group", "3", "--netns", "/proc/self/ns/net", "--netns", "nflog-test-no-such-namespace",
                     "--netns", "/proc/thread-self/ns/net"})
                  .error,
              "--netns /proc/self/ns/net and --netns /proc/thread-self/ns/net name the same namespace");
    // Namespaces that do not exist are reported when the watch opens them.
    EXPECT_EQ(parse({"--group", "3", "--netns", "nflog-test-no-such-a", "--netns", "nflog-test-no-such-b"}).error, "");
    EXPECT_EQ(parse({"--group", "3", "--count", "2", "--count", "2"}).error, "--count given twice");
    EXPECT_EQ(parse({"--group", "3", "--count", "0"}).error,
              "--count 0: expected a number of events from 1 to 18446744073709551615");
    EXPECT_EQ(parse({"--group", "3", "--count", "18446744073709551616"}).error,
              "--count 18446744073709551616: expected a number of events from 1 to 18446744073709551615");
    EXPECT_EQ(parse({"--group", "3", "--copy-range", "65532"}).error,
              "--copy-range 65532: expected a number of bytes from 0 to 65531");
    EXPECT_EQ(parse({"--group", "3", "--qthresh", "4294967296"}).error,
              "--qthresh 4294967296: expected a number of messages from 1 to 4294967295");
    EXPECT_EQ(parse({"--group", "3", "--nlbufsiz", "131073"}).error.rfind("--nlbufsiz 131073: expected a number of bytes from ", 0), 0u);
    EXPECT_EQ(parse({"--group", "3", "--timeout", "1.5"}).error,
              "--timeout 1.5: expected milliseconds from 0 to 42949670");
    EXPECT_EQ(parse({"--group", "3", "--rcvbuf", "2147483648"}).error,
              "--rcvbuf 2147483648: expected a number of bytes from 0 to 2147483647");
    for (const char* seconds : {"0", "-1", "abc", "1e3", "nan", "inf", "", "1.5s", "10000000.001", "99999999999"})
        EXPECT_EQ(parse({"--group", "3", "--idle-exit", seconds}).error,
                  "--idle-exit " + std::string(seconds) +
                      ": expected a number of seconds above 0 and at most 10000000, such as 2 or 0.5")
            << seconds;
    EXPECT_EQ(parse({"--group", "3", "--stats=1"}).error, "--stats takes no value");
    EXPECT_EQ(parse({"--group", "3", "--stats", "--stats"}).error, "--stats given twice");
    EXPECT_EQ(parse({"--group", "3", "--pcap="}).error, "--pcap needs a file name");
    EXPECT_EQ(parse({"--group", "3", "--output="}).error, "--output needs a file name");
    EXPECT_EQ(parse({"--group", "3", "-g"}).error, "unknown option -g");
    EXPECT_EQ(parse({"-r=x"}).error, "unknown option -r=x");
}

TEST(parse_options, modes_do_not_mix)
{
    EXPECT_EQ(parse({"--read", "a", "--group", "1"}).error,
              "--read and --group cannot be combined: read a capture, or watch live");
    EXPECT_EQ(parse({"--read", "a", "--netns", "x"}).error, "--netns works only when watching live (with --group)");
    EXPECT_EQ(parse({"--read", "a", "--pcap", "x"}).error, "--pcap works only when watching live (with --group)");
    EXPECT_EQ(parse({"--read", "a", "--nlbufsiz", "8192"}).error,
              "--nlbufsiz works only when watching live (with --group)");
    EXPECT_EQ(parse({"--netns", "x"}).error, "give --group N: the NFLOG groups to watch");
    EXPECT_EQ(parse({"--stats"}).error, "give --group N: the NFLOG groups to watch");
}

} // namespace
