// Runs every example program against real traffic in a throwaway namespace
// and checks what it prints.

#include "nflog_fixture.hpp"
#include "support/child_process.hpp"
#include "support/flat_json.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <netinet/in.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <iterator>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace std::chrono_literals;

const std::string examples_dir = std::string(NFLOG_BINARY_DIR) + "/examples/";

/// What a finished example left behind.
struct outcome {
    int status = -1; ///< exit status, or -1 when it did not exit normally
    std::vector<std::string> lines;
    std::string errors;
};

/// An example running in the background, its output on pipes.
class running_example {
public:
    running_example(const std::string& name, const std::vector<std::string>& arguments,
                    void (*prepare)() = nullptr)
    {
        std::vector<std::string> words{examples_dir + name};
        words.insert(words.end(), arguments.begin(), arguments.end());
        int out[2];
        int err[2];
        EXPECT_EQ(::pipe2(out, O_CLOEXEC), 0);
        EXPECT_EQ(::pipe2(err, O_CLOEXEC), 0);
        process_.emplace(words, child_setup{.stdout_fd = out[1], .stderr_fd = err[1], .prepare = prepare});
        EXPECT_TRUE(process_->started()) << "cannot start " << words.front();
        ::close(out[1]);
        ::close(err[1]);
        out_ = out[0];
        err_ = err[0];
    }
    running_example(const running_example&) = delete;
    running_example& operator=(const running_example&) = delete;
    ~running_example()
    {
        process_.reset();
        ::close(out_);
        ::close(err_);
    }

    /// Reads its output until it exits (or is killed after `limit`).
    outcome finish(std::chrono::seconds limit = 30s)
    {
        std::string out;
        std::string err;
        const auto give_up = std::chrono::steady_clock::now() + limit;
        std::array<pollfd, 2> pipes{{{out_, POLLIN, 0}, {err_, POLLIN, 0}}};
        int open_pipes = 2;
        while (open_pipes > 0 && std::chrono::steady_clock::now() < give_up) {
            if (::poll(pipes.data(), pipes.size(), 100) <= 0)
                continue;
            for (auto& pipe : pipes) {
                if (pipe.fd < 0 || pipe.revents == 0)
                    continue;
                std::array<char, 4096> chunk;
                const auto got = ::read(pipe.fd, chunk.data(), chunk.size());
                if (got <= 0) {
                    pipe.fd = -1;
                    --open_pipes;
                    continue;
                }
                (pipe.fd == out_ ? out : err).append(chunk.data(), static_cast<std::size_t>(got));
            }
        }
        EXPECT_EQ(open_pipes, 0) << "the example did not finish in time";
        // Both pipes closed: it is exiting, and gets a moment to finish.
        const auto exited = process_->wait_for(open_pipes == 0 ? 5000ms : 0ms);
        const int status = exited ? *exited : process_->kill_and_reap();
        outcome result;
        result.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
        std::istringstream stream(out);
        for (std::string line; std::getline(stream, line);)
            result.lines.push_back(line);
        result.errors = err;
        return result;
    }

private:
    std::optional<child_process> process_;
    int out_ = -1;
    int err_ = -1;
};

#if defined(__x86_64__)
constexpr std::uint32_t native_audit_arch = AUDIT_ARCH_X86_64;
#elif defined(__aarch64__)
constexpr std::uint32_t native_audit_arch = AUDIT_ARCH_AARCH64;
#else
constexpr std::uint32_t native_audit_arch = 0;
#endif

/// Runs in the child before exec: from then on every receive that passes
/// MSG_TRUNC alone fails with EIO. Those are the socket's own receives
/// through Asio (recv, so the recvfrom system call); the library's setup and
/// drains add MSG_DONTWAIT. The socket opens, and its first receive fails for
/// good, as a socket that broke would.
void fail_every_receive()
{
    static sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, native_audit_arch, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_recvfrom, 1, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        // The flags' low half, on these little-endian architectures.
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[3])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, MSG_TRUNC, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EIO),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
        ::_exit(127);
}

/// The groups bound in a namespace, from the kernel's own listing.
std::vector<std::uint16_t> bound_groups(const scoped_netns& netns)
{
    const auto listing = netns.exec_output("cat /proc/net/netfilter/nfnetlink_log 2>/dev/null || true");
    std::vector<std::uint16_t> groups;
    std::istringstream lines(listing);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        unsigned group = 0;
        if (fields >> group)
            groups.push_back(static_cast<std::uint16_t>(group));
    }
    return groups;
}

/// Waits (bounded) until some socket in `netns` has bound `group`.
bool wait_until_bound(const scoped_netns& netns, std::uint16_t group)
{
    for (int attempt = 0; attempt < 200; ++attempt) {
        for (const auto bound : bound_groups(netns))
            if (bound == group)
                return true;
        std::this_thread::sleep_for(25ms);
    }
    return false;
}

json_object parse_line(const std::string& line)
{
    const auto parsed = parse_flat_json("[" + line + "]");
    EXPECT_EQ(parsed.size(), 1u) << line;
    return parsed.empty() ? json_object{} : parsed.front();
}

std::string text(const json_object& object, const std::string& key)
{
    const auto found = object.find(key);
    if (found == object.end() || !std::holds_alternative<std::string>(found->second))
        return "<missing " + key + ">";
    return std::get<std::string>(found->second);
}

std::int64_t number(const json_object& object, const std::string& key)
{
    const auto found = object.find(key);
    if (found == object.end() || !std::holds_alternative<std::int64_t>(found->second))
        return -1;
    return std::get<std::int64_t>(found->second);
}

/// The fields every example prints for a UDP datagram to port 9 denied in the fixture's ruleset.
void expect_denied_udp(const json_object& event)
{
    EXPECT_EQ(text(event, "source"), "nflog");
    EXPECT_EQ(number(event, "group"), 41);
    EXPECT_EQ(text(event, "action"), "blocked_connection");
    EXPECT_EQ(text(event, "prefix"), "DENIED udp");
    EXPECT_EQ(number(event, "proto"), IPPROTO_UDP);
    EXPECT_EQ(text(event, "src"), "127.0.0.1");
    EXPECT_EQ(text(event, "dest"), "127.0.0.1");
    EXPECT_EQ(number(event, "port"), 9);
    EXPECT_GT(number(event, "sport"), 0);
    EXPECT_EQ(text(event, "ts_source"), "local") << "no kernel timestamp on the output hook";
    EXPECT_EQ(text(event, "ts").size(), std::string("2024-05-01T12:34:56.000789Z").size());
}

class example_fixture : public nflog_fixture {
protected:
    void send_denied(const scoped_netns& where, std::size_t count)
    {
        namespace_socket udp(where.path(), AF_INET, SOCK_DGRAM);
        udp.send_udp("127.0.0.1", 9, count);
    }
};

class examples : public example_fixture, public ::testing::WithParamInterface<const char*> {};

/// Longer than `finish` waits: an example that reaches it is killed, and fails.
const std::string beyond_the_test = "60000";

// The single-socket examples all take the same arguments and print the same
// lines. More events come than the count: the example must stop at it, not
// at its time limit.
TEST_P(examples, prints_one_line_per_event_and_exits_after_the_count)
{
    constexpr std::size_t count = 3;
    constexpr std::size_t sent = count + 2;
    running_example example(GetParam(), {"--netns", netns->path(), "--group", "41", "--count", std::to_string(count),
                                         "--timeout-ms", beyond_the_test});
    ASSERT_TRUE(wait_until_bound(*netns, 41)) << "the example never bound group 41";
    send_denied(*netns, sent);
    const auto result = example.finish();
    EXPECT_EQ(result.status, 0) << result.errors;
    ASSERT_EQ(result.lines.size(), count) << result.errors;
    for (const auto& line : result.lines)
        expect_denied_udp(parse_line(line));

    const std::string name = GetParam();
    if (name != "channel" && name != "event_batch_channel" && name != "packet_channel") {
        EXPECT_EQ(result.errors, "");
        return;
    }
    // The watcher's counters, last: what it sent on (the count, and what
    // it had taken before the consumer stopped), and nothing lost.
    ASSERT_FALSE(result.errors.empty());
    ASSERT_EQ(result.errors.back(), '\n') << result.errors;
    ASSERT_EQ(result.errors.find('\n'), result.errors.size() - 1) << "one line only: " << result.errors;
    const auto counters = parse_line(result.errors.substr(0, result.errors.size() - 1));
    EXPECT_EQ(counters.size(), 4u) << result.errors;
    EXPECT_GE(number(counters, "events"), static_cast<std::int64_t>(count)) << result.errors;
    EXPECT_LE(number(counters, "events"), static_cast<std::int64_t>(sent)) << result.errors;
    EXPECT_EQ(number(counters, "reports"), 0) << result.errors;
    EXPECT_EQ(number(counters, "overruns"), 0) << result.errors;
    EXPECT_EQ(number(counters, "lost"), 0) << result.errors;
}

TEST_P(examples, exits_after_the_time_limit_without_traffic)
{
    running_example example(GetParam(), {"--netns", netns->path(), "--group", "41", "--count", "3", "--timeout-ms",
                                         "300"});
    const auto result = example.finish();
    EXPECT_EQ(result.status, 0) << result.errors;
    EXPECT_TRUE(result.lines.empty());
}

TEST_P(examples, reports_a_missing_namespace_and_fails)
{
    running_example example(GetParam(), {"--netns", "nflog-no-such-namespace", "--group", "41"});
    const auto result = example.finish();
    EXPECT_EQ(result.status, 1);
    EXPECT_TRUE(result.lines.empty());
    const std::string name = GetParam();
    const std::string expected_prefix = name == "namespaces" ? "namespaces: nflog-no-such-namespace: " : name + ": ";
    EXPECT_EQ(result.errors, expected_prefix + "network namespace not found (no such file, or not a network namespace)\n");
}

TEST_P(examples, rejects_an_unknown_option_with_usage)
{
    running_example example(GetParam(), {"--bogus", "1"});
    const auto result = example.finish();
    EXPECT_EQ(result.status, 2);
    EXPECT_TRUE(result.lines.empty());
    EXPECT_EQ(result.errors.rfind(examples_dir + GetParam() + ": unknown option --bogus 1\nusage: ", 0), 0u)
        << result.errors;
}

INSTANTIATE_TEST_SUITE_P(single_socket, examples,
                         ::testing::Values("callback", "coroutine", "use_future", "deferred", "channel", "event_batch_channel",
                                           "packet_channel", "namespaces"),
                         [](const auto& info) { return std::string(info.param); });

using namespaces_example = example_fixture;

TEST_F(namespaces_example, names_the_namespace_of_every_event)
{
    scoped_netns other;
    other.load_ruleset(ruleset);
    running_example example("namespaces", {"--netns", netns->path(), "--netns", other.path(), "--group", "41",
                                           "--count", "5", "--timeout-ms", beyond_the_test});
    ASSERT_TRUE(wait_until_bound(*netns, 41));
    ASSERT_TRUE(wait_until_bound(other, 41));
    send_denied(*netns, 2);
    send_denied(other, 3);
    const auto result = example.finish();
    EXPECT_EQ(result.status, 0) << result.errors;
    ASSERT_EQ(result.lines.size(), 5u) << result.errors;
    std::map<std::string, int> per_namespace;
    for (const auto& line : result.lines) {
        const auto event = parse_line(line);
        expect_denied_udp(event);
        ++per_namespace[text(event, "netns")];
    }
    EXPECT_EQ(per_namespace[netns->path()], 2);
    EXPECT_EQ(per_namespace[other.path()], 3);
}

/// A file in /tmp for the composition example to follow; removed afterwards.
class followed_file {
public:
    followed_file()
    {
        char name[] = "/tmp/nflog-example-XXXXXX";
        fd_ = ::mkstemp(name);
        EXPECT_GE(fd_, 0);
        path_ = name;
    }
    ~followed_file()
    {
        ::close(fd_);
        ::unlink(path_.c_str());
    }
    const std::string& path() const { return path_; }
    void append(const std::string& line) const
    {
        const auto with_newline = line + "\n";
        EXPECT_EQ(::write(fd_, with_newline.data(), with_newline.size()), static_cast<ssize_t>(with_newline.size()));
    }

private:
    int fd_ = -1;
    std::string path_;
};

class compose_example : public example_fixture, public ::testing::WithParamInterface<const char*> {};

TEST_P(compose_example, merges_events_file_lines_and_ticks_into_one_stream)
{
    followed_file log;
    running_example example("compose", {"--netns", netns->path(), "--group", "41", "--file", log.path(), "--count",
                                        "3", "--lines", "2", "--mode", GetParam(), "--timeout-ms", beyond_the_test});
    ASSERT_TRUE(wait_until_bound(*netns, 41));
    log.append("resolved example.org to \"192.0.2.1\"");
    log.append("audit: denied\tsomething");
    send_denied(*netns, 3);
    const auto result = example.finish();
    EXPECT_EQ(result.status, 0) << result.errors;
    std::vector<std::string> file_lines;
    std::size_t events = 0;
    std::int64_t last_tick = 0;
    for (const auto& line : result.lines) {
        const auto object = parse_line(line);
        const auto source = text(object, "source");
        if (source == "nflog") {
            expect_denied_udp(object);
            ++events;
        }
        else if (source == "file")
            file_lines.push_back(text(object, "line"));
        else if (source == "timer") {
            EXPECT_EQ(number(object, "ticks"), last_tick + 1);
            last_tick = number(object, "ticks");
        }
        else
            ADD_FAILURE() << "unexpected line " << line;
    }
    EXPECT_EQ(events, 3u);
    EXPECT_EQ(file_lines, (std::vector<std::string>{"resolved example.org to \"192.0.2.1\"", "audit: denied\tsomething"}));
}

TEST_P(compose_example, requires_a_file)
{
    running_example example("compose", {"--mode", GetParam()});
    const auto result = example.finish();
    EXPECT_EQ(result.status, 2);
    EXPECT_EQ(result.errors.rfind(examples_dir + "compose: --file is required\nusage: ", 0), 0u) << result.errors;
}

TEST_P(compose_example, reports_a_file_it_cannot_open)
{
    running_example example("compose", {"--file", "/nonexistent/nflog.log", "--mode", GetParam()});
    const auto result = example.finish();
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.errors, "compose: open /nonexistent/nflog.log: No such file or directory [system:2]\n");
}

class watcher_example : public example_fixture, public ::testing::WithParamInterface<const char*> {};

// A watcher whose socket fails stops on its own; the example then closes the
// channel, which must end its consumer and so the example, without waiting
// for --timeout-ms (longer here than the test waits).
TEST_P(watcher_example, ends_when_its_watcher_stops_on_its_own)
{
    if (native_audit_arch == 0)
        GTEST_SKIP() << "no seccomp filter for this architecture";
    followed_file log;
    std::string name = GetParam();
    std::vector<std::string> arguments{"--netns", netns->path(), "--group", "41", "--count", "3", "--timeout-ms", "60000"};
    if (const std::string compose = "compose-"; name.rfind(compose, 0) == 0) {
        arguments.insert(arguments.end(), {"--file", log.path(), "--lines", "1", "--mode", name.substr(compose.size())});
        name = "compose";
    }
    running_example example(name, arguments, fail_every_receive);
    // Should the first receive wait for data before it fails.
    send_denied(*netns, 3);
    const auto result = example.finish();
    EXPECT_EQ(result.status, 0) << result.errors;
    EXPECT_TRUE(result.lines.empty()) << result.lines.size() << " lines, the first: " << result.lines.front();
    EXPECT_EQ(result.errors.rfind(name + ": the watcher stopped: Input/output error\n", 0), 0u) << result.errors;
}

INSTANTIATE_TEST_SUITE_P(consumers, watcher_example,
                         ::testing::Values("channel", "event_batch_channel", "packet_channel", "compose-or",
                                           "compose-group"),
                         [](const auto& info) {
                             std::string name = info.param;
                             std::replace(name.begin(), name.end(), '-', '_');
                             return name;
                         });

INSTANTIATE_TEST_SUITE_P(modes, compose_example, ::testing::Values("or", "group"),
                         [](const auto& info) { return std::string(info.param); });

} // namespace
