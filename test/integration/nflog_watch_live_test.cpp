// nflog-watch watching live, run as a program against real nftables rules in
// throwaway namespaces: started in the background, waited for until the
// kernel lists its groups, fed with traffic, then stopped.

#include "support/child_process.hpp"
#include "support/counting_allocator.hpp"
#include "support/flat_json.hpp"
#include "support/netns.hpp"
#include "support/traffic.hpp"

#include <nflog/options.hpp>

// nflog-watch's own code, for the one test that runs it in process; absent
// when the tool is not built.
#if __has_include("live_watch.hpp")
#include "live_watch.hpp"
#include "options.hpp"
#define NFLOG_TEST_WATCH_IN_PROCESS 1
#endif

#include <gtest/gtest.h>

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

namespace {

using namespace nflog::test;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

const fs::path binary = fs::path(NFLOG_BINARY_DIR) / "tools/nflog-watch/nflog-watch";

// Output hook: no kernel timestamp. Input hook (udp 12 comes back in over
// lo): a kernel timestamp.
constexpr const char* ruleset = R"(
table inet watchtest {
    chain output {
        type filter hook output priority 0; policy accept;
        udp dport 9 counter log group 41 prefix "DENIED udp" drop comment "udp9"
        icmp type echo-request counter log group 41 prefix "DENIED icmp" drop comment "icmp"
        meta l4proto ipv6-icmp icmpv6 type echo-request counter log group 41 prefix "DENIED icmpv6" drop comment "icmp6"
        tcp dport 22 counter log group 42 prefix "DENIED tcp" drop comment "tcp22"
        udp dport 11 counter log group 44 prefix "DENIED flood" drop comment "udp11"
    }
    chain input {
        type filter hook input priority 0; policy accept;
        udp dport 12 counter log group 41 prefix "ALLOWED udp in" accept comment "udp12"
    }
})";

// ---------------------------------------------------------------------------
// Small helpers.

std::string read_text(const fs::path& path)
{
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);)
        lines.push_back(line);
    return lines;
}

/// The lines of a file another process is still writing: a last line
/// without its newline is not complete yet.
std::vector<std::string> complete_lines(const fs::path& path)
{
    auto content = read_text(path);
    content.erase(content.find_last_of('\n') == std::string::npos ? 0 : content.find_last_of('\n') + 1);
    return lines_of(content);
}

json_object parse_line(const std::string& line)
{
    try {
        const auto parsed = parse_flat_json("[" + line + "]");
        if (parsed.size() == 1)
            return parsed.front();
    } catch (const std::exception& problem) {
        ADD_FAILURE() << problem.what() << ": " << line;
        return {};
    }
    ADD_FAILURE() << "not one JSON object: " << line;
    return {};
}

std::string text(const json_object& object, std::string_view key)
{
    const auto it = object.find(key);
    if (it == object.end())
        return "(absent)";
    if (const auto* s = std::get_if<std::string>(&it->second))
        return *s;
    if (const auto* i = std::get_if<std::int64_t>(&it->second))
        return std::to_string(*i);
    if (const auto* b = std::get_if<bool>(&it->second))
        return *b ? "true" : "false";
    return "null";
}

std::int64_t number(const json_object& object, std::string_view key)
{
    const auto it = object.find(key);
    if (it == object.end() || !std::holds_alternative<std::int64_t>(it->second))
        return -1;
    return std::get<std::int64_t>(it->second);
}

bool has(const json_object& object, std::string_view key) { return object.find(key) != object.end(); }

/// The groups the kernel lists for namespace `netns` (first column of
/// /proc/net/netfilter/nfnetlink_log).
std::set<int> bound_groups(const scoped_netns& netns)
{
    std::set<int> groups;
    std::istringstream listing(netns.exec_output("cat /proc/net/netfilter/nfnetlink_log"));
    for (std::string line; std::getline(listing, line);)
        groups.insert(std::stoi(line));
    return groups;
}

/// One line of /proc/net/netfilter/nfnetlink_log, split into its columns:
/// group, portid, queue length, copy mode, copy range, flush timeout (10 ms units), use.
std::vector<long> instance_of(const scoped_netns& netns, int group)
{
    std::istringstream listing(netns.exec_output("cat /proc/net/netfilter/nfnetlink_log"));
    for (std::string line; std::getline(listing, line);) {
        std::istringstream columns(line);
        std::vector<long> values{std::istream_iterator<long>(columns), std::istream_iterator<long>()};
        if (!values.empty() && values.front() == group)
            return values;
    }
    return {};
}

/// Polls until every group of `groups` is bound in `netns`; bounded, so a
/// watcher that never binds fails the test instead of hanging it.
bool wait_until_bound(const scoped_netns& netns, const std::set<int>& groups)
{
    for (int attempt = 0; attempt < 500; ++attempt) {
        const auto bound = bound_groups(netns);
        if (std::includes(bound.begin(), bound.end(), groups.begin(), groups.end()))
            return true;
        std::this_thread::sleep_for(20ms);
    }
    return false;
}

constexpr int poll_syscall = SYS_poll;

/// Polls until process `pid` sits in system call `number` (the first field
/// of /proc/PID/syscall); bounded like `wait_until_bound`.
bool wait_for_syscall(pid_t pid, int number)
{
    const auto path = "/proc/" + std::to_string(pid) + "/syscall";
    const auto prefix = std::to_string(number) + " ";
    for (int attempt = 0; attempt < 500; ++attempt) {
        if (read_text(path).starts_with(prefix))
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

/// Polls until process `pid` has no signal pending (the SigPnd and ShdPnd
/// masks of /proc/PID/status are empty); bounded like `wait_until_bound`.
bool wait_until_no_signal_pending(pid_t pid)
{
    const auto path = "/proc/" + std::to_string(pid) + "/status";
    for (int attempt = 0; attempt < 500; ++attempt) {
        const auto status = read_text(path);
        if (status.find("SigPnd:\t0000000000000000") != std::string::npos &&
            status.find("ShdPnd:\t0000000000000000") != std::string::npos)
            return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

// ---------------------------------------------------------------------------
// nflog-watch in the background: standard output through a pipe, read as a
// consumer would; standard error into a file.

class watch_process {
public:
    /// Runs `command` (the program first) with `prepare` called in the child
    /// just before exec.
    watch_process(const std::vector<std::string>& command, const fs::path& stderr_path,
                  void (*prepare)() = nullptr)
        : process_(start(command, stderr_path, prepare))
    {
        EXPECT_TRUE(process_ && process_->started()) << "cannot start " << command.front();
    }

    ~watch_process()
    {
        process_.reset();
        if (out_ >= 0)
            ::close(out_);
    }

    watch_process(const watch_process&) = delete;
    watch_process& operator=(const watch_process&) = delete;

    pid_t pid() const noexcept { return process_ ? process_->pid() : -1; }

    /// The next line of standard output; nothing when none came within `limit`
    /// or the output ended.
    std::optional<std::string> next_line(std::chrono::milliseconds limit = 10s)
    {
        const auto deadline = std::chrono::steady_clock::now() + limit;
        for (;;) {
            if (const auto end = pending_.find('\n'); end != std::string::npos) {
                auto line = pending_.substr(0, end);
                pending_.erase(0, end + 1);
                return line;
            }
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline -
                                                                                    std::chrono::steady_clock::now());
            if (left.count() <= 0)
                return std::nullopt;
            pollfd waiting{out_, POLLIN, 0};
            if (::poll(&waiting, 1, static_cast<int>(left.count())) <= 0)
                continue;
            char chunk[4096];
            const auto got = ::read(out_, chunk, sizeof chunk);
            if (got <= 0)
                return std::nullopt;
            pending_.append(chunk, static_cast<std::size_t>(got));
        }
    }

    /// Reads `count` lines, failing the test for each one that does not come.
    std::vector<std::string> lines(std::size_t count)
    {
        std::vector<std::string> out;
        while (out.size() < count) {
            auto line = next_line();
            if (!line) {
                ADD_FAILURE() << "only " << out.size() << " of " << count << " lines arrived";
                break;
            }
            out.push_back(std::move(*line));
        }
        return out;
    }

    /// Everything still to come on standard output, once the process has exited.
    std::string rest()
    {
        std::string out = std::move(pending_);
        pending_.clear();
        char chunk[4096];
        for (ssize_t got; (got = ::read(out_, chunk, sizeof chunk)) > 0;)
            out.append(chunk, static_cast<std::size_t>(got));
        return out;
    }

    /// Closes the reading end of standard output, as a consumer that goes away does.
    void close_output()
    {
        ::close(out_);
        out_ = -1;
    }

    bool running() { return process_ && process_->running(); }

    /// Waits for the process to exit by itself (bounded: after `limit` it is
    /// killed and the test fails). Its exit status, or 128 + the signal.
    int wait(std::chrono::milliseconds limit = 20s)
    {
        if (!process_)
            return -1;
        auto status = process_->wait_for(limit);
        if (!status) {
            ADD_FAILURE() << "nflog-watch did not exit by itself";
            status = process_->kill_and_reap();
        }
        return child_process::shell_status(*status);
    }

    /// Sends `signal` and waits for the exit.
    int stop(int signal)
    {
        if (running())
            process_->signal(signal);
        return wait();
    }

private:
    std::unique_ptr<child_process> start(const std::vector<std::string>& command, const fs::path& stderr_path,
                                         void (*prepare)())
    {
        int pipe_ends[2];
        if (::pipe2(pipe_ends, O_CLOEXEC) != 0) {
            ADD_FAILURE() << "pipe failed";
            return nullptr;
        }
        const int err_fd = ::open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        EXPECT_GE(err_fd, 0) << "cannot create " << stderr_path;
        auto started = std::make_unique<child_process>(
            command, child_setup{.stdout_fd = pipe_ends[1], .stderr_fd = err_fd, .prepare = prepare});
        ::close(pipe_ends[1]);
        ::close(err_fd);
        out_ = pipe_ends[0];
        return started;
    }

    int out_ = -1;
    std::string pending_;
    std::unique_ptr<child_process> process_;
};

struct run_result {
    int status = -1;
    std::string out;
    std::string err;
};

// ---------------------------------------------------------------------------
// Fixtures.

/// A scratch directory and the binary; no privileges needed.
class nflog_watch_cli : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (!fs::exists(binary))
            GTEST_SKIP() << "nflog-watch is not built (NFLOG_BUILD_TOOLS=OFF)";
        scratch_ = fs::temp_directory_path() / ("nflog-watch-live-" + std::to_string(::getpid()) + "-" +
                                                ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(scratch_);
        fs::create_directories(scratch_);
    }

    void TearDown() override
    {
        if (!scratch_.empty())
            fs::remove_all(scratch_);
    }

    /// Runs nflog-watch (`program`) to its end with `arguments`, through
    /// `wrapper` when given, standard input empty. `timeout` bounds a run
    /// that would otherwise hang.
    run_result run(const std::string& arguments, const std::string& wrapper = {},
                   const fs::path& program = binary) const
    {
        const auto out = scratch_ / "run.out";
        const auto err = scratch_ / "run.err";
        const std::string command = "timeout 30 " + wrapper + " " + shell_quote(program.string()) + " " + arguments +
                                    " >" + shell_quote(out.string()) + " 2>" + shell_quote(err.string()) +
                                    " </dev/null";
        const int raw = std::system(command.c_str());
        return {WIFEXITED(raw) ? WEXITSTATUS(raw) : -1, read_text(out), read_text(err)};
    }

    /// Every line must be a JSON object in strict UTF-8, as a consumer parses it.
    bool every_line_parses_as_json(const std::string& lines) const
    {
        const auto path = scratch_ / "to-check";
        std::ofstream(path, std::ios::binary) << lines;
        const std::string command = "python3 -c 'import json,sys\n"
                                    "for line in sys.stdin.buffer.read().decode(\"utf-8\").splitlines():\n"
                                    "    assert isinstance(json.loads(line), dict), line\n' <" +
                                    shell_quote(path.string());
        return std::system(command.c_str()) == 0;
    }

    fs::path scratch_;
};

/// A namespace with the test ruleset; needs root.
class nflog_watch_live : public nflog_watch_cli {
protected:
    void SetUp() override
    {
        NFLOG_REQUIRE_INTEGRATION();
        nflog_watch_cli::SetUp();
        if (IsSkipped())
            return;
        netns.emplace();
        netns->load_ruleset(ruleset);
    }

    std::vector<std::string> command(std::initializer_list<std::string> arguments) const
    {
        std::vector<std::string> words{binary.string()};
        words.insert(words.end(), arguments);
        return words;
    }

    std::unique_ptr<watch_process> start(std::initializer_list<std::string> arguments, const std::string& stderr_name = "err",
                                         void (*prepare)() = nullptr)
    {
        return std::make_unique<watch_process>(command(arguments), scratch_ / stderr_name, prepare);
    }

    std::string stderr_text(const std::string& name = "err") const { return read_text(scratch_ / name); }

    void send_udp(const scoped_netns& where, const char* address, std::uint16_t port, std::size_t count = 1) const
    {
        namespace_socket udp(where.path(), std::string(address).find(':') == std::string::npos ? AF_INET : AF_INET6,
                             SOCK_DGRAM);
        udp.send_udp(address, port, count);
    }

    std::optional<scoped_netns> netns;
};

// ---------------------------------------------------------------------------
// Events.

TEST_F(nflog_watch_live, events_carry_every_field_and_reach_a_pipe_at_once)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--group", "42", "--container", "web"});
    ASSERT_TRUE(wait_until_bound(*netns, {41, 42}));

    // Each packet is sent only after the previous event was read from the
    // pipe: nflog-watch keeps running, so every line arrived because it was
    // flushed with its batch, not at exit.
    std::vector<std::string> lines;
    auto next = [&] {
        auto line = watcher->next_line();
        EXPECT_TRUE(line.has_value()) << "event " << lines.size() + 1 << " did not arrive";
        lines.push_back(line.value_or(""));
    };
    send_udp(*netns, "127.0.0.1", 9);
    next();
    send_udp(*netns, "::1", 9);
    next();
    namespace_socket tcp(netns->path(), AF_INET, SOCK_STREAM);
    tcp.connect_tcp("127.0.0.1", 22);
    next();
    namespace_socket icmp(netns->path(), AF_INET, SOCK_RAW, IPPROTO_ICMP);
    icmp.send_echo_request("127.0.0.1", 7);
    next();
    namespace_socket icmp6(netns->path(), AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    icmp6.send_echo_request("::1", 7);
    next();
    send_udp(*netns, "127.0.0.1", 12);
    next();
    ASSERT_TRUE(watcher->running());

    const std::regex iso_time(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00)");
    std::vector<json_object> events;
    for (const auto& line : lines) {
        events.push_back(parse_line(line));
        const auto& event = events.back();
        EXPECT_TRUE(std::regex_match(text(event, "ts"), iso_time)) << line;
        EXPECT_EQ(text(event, "source"), "nflog") << line;
        EXPECT_EQ(text(event, "container"), "web") << line;
        EXPECT_EQ(text(event, "netns"), netns->name()) << line;
        EXPECT_EQ(text(event, "detail"), text(event, "prefix")) << line;
        EXPECT_FALSE(has(event, "truncated")) << line;
        EXPECT_FALSE(has(event, "decode_error")) << line;
    }
    ASSERT_EQ(events.size(), 6u);

    // The whole first line, but for what changes from run to run: members,
    // their order and their spelling.
    const auto& udp4 = events[0];
    EXPECT_EQ(lines[0], R"({"ts":")" + text(udp4, "ts") +
                            R"(","ts_source":"local","source":"nflog","action":"blocked_connection","container":"web",)"
                            R"("netns":")" + netns->name() +
                            R"(","group":41,"family":"ipv4","hook":3,"hw_protocol":2048,"prefix":"DENIED udp",)"
                            R"("detail":"DENIED udp","l3":"ipv4","src":"127.0.0.1","dest":"127.0.0.1","proto":17,)"
                            R"("sport":)" + text(udp4, "sport") +
                            R"(,"dport":9,"port":9,"outdev":1,"uid":0,"gid":0,"seq":0,"payload_len":36})");

    const auto& udp6 = events[1];
    EXPECT_EQ(text(udp6, "family"), "ipv6");
    EXPECT_EQ(text(udp6, "l3"), "ipv6");
    EXPECT_EQ(text(udp6, "src"), "::1");
    EXPECT_EQ(text(udp6, "dest"), "::1");
    EXPECT_EQ(number(udp6, "proto"), IPPROTO_UDP);
    EXPECT_EQ(number(udp6, "dport"), 9);
    EXPECT_EQ(number(udp6, "payload_len"), 56);
    EXPECT_EQ(number(udp6, "seq"), 1);

    const auto& tcp4 = events[2];
    EXPECT_EQ(text(tcp4, "prefix"), "DENIED tcp");
    EXPECT_EQ(number(tcp4, "group"), 42);
    EXPECT_EQ(number(tcp4, "proto"), IPPROTO_TCP);
    EXPECT_EQ(number(tcp4, "dport"), 22);
    EXPECT_EQ(number(tcp4, "port"), 22);
    EXPECT_EQ(number(tcp4, "seq"), 0); // per group

    for (const auto* icmp_event : {&events[3], &events[4]}) {
        const bool v6 = icmp_event == &events[4];
        EXPECT_EQ(text(*icmp_event, "prefix"), v6 ? "DENIED icmpv6" : "DENIED icmp");
        EXPECT_EQ(text(*icmp_event, "action"), "blocked_connection");
        EXPECT_EQ(number(*icmp_event, "proto"), v6 ? int{IPPROTO_ICMPV6} : int{IPPROTO_ICMP});
        EXPECT_EQ(number(*icmp_event, "icmp_type"), v6 ? 128 : 8);
        EXPECT_EQ(number(*icmp_event, "icmp_code"), 0);
        EXPECT_FALSE(has(*icmp_event, "dport"));
        EXPECT_EQ(text(*icmp_event, "ts_source"), "local");
        EXPECT_EQ(number(*icmp_event, "hook"), 3);
    }

    const auto& inbound = events[5];
    EXPECT_EQ(text(inbound, "prefix"), "ALLOWED udp in");
    EXPECT_EQ(text(inbound, "action"), "allowed_connection");
    EXPECT_EQ(text(inbound, "ts_source"), "kernel");
    EXPECT_EQ(number(inbound, "hook"), 1);
    EXPECT_EQ(number(inbound, "indev"), 1);
    EXPECT_FALSE(has(inbound, "outdev"));
    EXPECT_EQ(number(inbound, "dport"), 12);
    EXPECT_EQ(number(inbound, "seq"), 4);

    EXPECT_EQ(watcher->stop(SIGTERM), 0);
    EXPECT_EQ(watcher->rest(), "");
    EXPECT_EQ(stderr_text(), "");
    std::string all;
    for (const auto& line : lines)
        all += line + "\n";
    EXPECT_TRUE(every_line_parses_as_json(all));
}

TEST_F(nflog_watch_live, hostile_prefixes_are_escaped)
{
    // nft's JSON input takes quotes, backslashes and control characters in a
    // prefix; its own syntax takes bytes that are not UTF-8.
    const auto json_rules = scratch_ / "rules.json";
    std::ofstream(json_rules) << R"({"nftables":[{"rule":{"family":"inet","table":"watchtest","chain":"output","expr":[)"
                                 R"({"match":{"op":"==","left":{"payload":{"protocol":"udp","field":"dport"}},"right":13}},)"
                                 R"({"log":{"group":41,"prefix":"DENIED \"q\" \\ \t \u00ff \u0001 \u001b[31m"}},)"
                                 R"({"drop":null}]}}]})";
    ASSERT_EQ(netns->exec("nft -j -f " + shell_quote(json_rules.string())), 0);
    const auto raw_rules = scratch_ / "rules.nft";
    std::ofstream(raw_rules, std::ios::binary)
        << "add rule inet watchtest output udp dport 14 log group 41 prefix \"ALLOWED \xff\xfe \xc0\xaf caf\xc3\xa9\" drop\n";
    ASSERT_EQ(netns->exec("nft -f " + shell_quote(raw_rules.string())), 0);

    auto watcher = start({"--netns", netns->name(), "--group", "41"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    send_udp(*netns, "127.0.0.1", 13);
    send_udp(*netns, "127.0.0.1", 14);
    const auto lines = watcher->lines(2);
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_NE(lines[0].find(R"("prefix":"DENIED \"q\" \\ \t ÿ \u0001 \u001b[31m","detail":"DENIED \"q\" \\ \t ÿ \u0001 \u001b[31m")"),
              std::string::npos)
        << lines[0];
    EXPECT_NE(lines[1].find(R"("prefix":"ALLOWED \ufffd\ufffd \ufffd\ufffd café")"), std::string::npos) << lines[1];
    EXPECT_EQ(text(parse_line(lines[0]), "action"), "blocked_connection");
    // The test's JSON reader takes no \u escape beyond ASCII: look at the text.
    EXPECT_NE(lines[1].find(R"("action":"allowed_connection")"), std::string::npos) << lines[1];
    EXPECT_TRUE(every_line_parses_as_json(lines[0] + "\n" + lines[1] + "\n"));
    EXPECT_EQ(watcher->stop(SIGINT), 0);
}

TEST_F(nflog_watch_live, several_namespaces_and_groups_in_one_process)
{
    scoped_netns second;
    second.load_ruleset(ruleset);
    // One by name, one by path: each event names its namespace as given.
    const auto by_path = second.path();
    auto watcher = start({"--netns", netns->name(), "--netns", by_path, "--group", "41", "--group", "42"});
    ASSERT_TRUE(wait_until_bound(*netns, {41, 42}));
    ASSERT_TRUE(wait_until_bound(second, {41, 42}));

    for (const auto* where : {&*netns, &second}) {
        send_udp(*where, "127.0.0.1", 9);
        namespace_socket tcp(where->path(), AF_INET6, SOCK_STREAM);
        tcp.connect_tcp("::1", 22);
    }
    std::set<std::tuple<std::string, std::int64_t, std::int64_t>> seen;
    for (const auto& line : watcher->lines(4)) {
        const auto event = parse_line(line);
        seen.emplace(text(event, "netns"), number(event, "group"), number(event, "dport"));
    }
    const std::set<std::tuple<std::string, std::int64_t, std::int64_t>> expected{
        {netns->name(), 41, 9}, {netns->name(), 42, 22}, {by_path, 41, 9}, {by_path, 42, 22}};
    EXPECT_EQ(seen, expected);

    EXPECT_EQ(watcher->stop(SIGTERM), 0);
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
    EXPECT_EQ(bound_groups(second), std::set<int>{});
}

// ---------------------------------------------------------------------------
// Stopping.

TEST_F(nflog_watch_live, stop_signals_unbind_flush_and_print_the_counters)
{
    for (const int signal : {SIGINT, SIGTERM, SIGHUP}) {
        SCOPED_TRACE(::sigabbrev_np(signal));
        const auto output = scratch_ / "events";
        auto watcher = start({"--netns", netns->name(), "--group", "41", "--group", "42", "--stats", "--output",
                              output.string()});
        ASSERT_TRUE(wait_until_bound(*netns, {41, 42}));
        send_udp(*netns, "127.0.0.1", 9, 3);
        // The lines reach the file with their batch, before any signal.
        for (int attempt = 0; attempt < 500 && complete_lines(output).size() < 3; ++attempt)
            std::this_thread::sleep_for(20ms);
        EXPECT_EQ(lines_of(read_text(output)).size(), 3u);
        ASSERT_TRUE(watcher->running());

        EXPECT_EQ(watcher->stop(signal), 0);
        EXPECT_EQ(watcher->rest(), "") << "--output takes the events away from standard output";
        EXPECT_EQ(stderr_text(), R"({"events":3,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                                 R"("dropped_datagrams":0})"
                                 "\n");
        for (const auto& line : lines_of(read_text(output)))
            EXPECT_EQ(text(parse_line(line), "prefix"), "DENIED udp") << line;
        EXPECT_EQ(bound_groups(*netns), std::set<int>{});
    }
}

// A background job of a script starts with SIGINT ignored, so that a
// Ctrl-C meant for the foreground does not end it: the watch keeps it so,
// and SIGTERM still stops it cleanly.
TEST_F(nflog_watch_live, a_stop_signal_ignored_from_the_start_stays_ignored)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41"}, "err", [] { ::signal(SIGINT, SIG_IGN); });
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    // The kernel's view of the dispositions, set up before any group was bound.
    const auto status = read_text(fs::path("/proc") / std::to_string(watcher->pid()) / "status");
    const auto ignored_line = status.find("SigIgn:\t");
    ASSERT_NE(ignored_line, std::string::npos) << status;
    const auto ignored = std::stoull(status.substr(ignored_line + 8, 16), nullptr, 16);
    EXPECT_NE(ignored & (1ull << (SIGINT - 1)), 0u) << "SIGINT is no longer ignored";
    EXPECT_EQ(ignored & (1ull << (SIGTERM - 1)), 0u) << "SIGTERM is ignored";
    ASSERT_EQ(::kill(watcher->pid(), SIGINT), 0);
    send_udp(*netns, "127.0.0.1", 9, 1);
    // The event is printed after the signal arrived: the watch went on.
    const auto line = watcher->next_line();
    ASSERT_TRUE(line.has_value()) << "the watch ended at SIGINT";
    EXPECT_EQ(text(parse_line(*line), "prefix"), "DENIED udp");
    EXPECT_EQ(watcher->stop(SIGTERM), 0);
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

// A supervisor's signal mask can leak into what it starts: a stop signal
// blocked from the start still stops the watch, as it stops `--read`.
TEST_F(nflog_watch_live, a_stop_signal_blocked_from_the_start_still_stops_the_watch)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--stats"}, "err", [] {
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &stop, nullptr);
    });
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    send_udp(*netns, "127.0.0.1", 9, 1);
    ASSERT_TRUE(watcher->next_line().has_value());
    ASSERT_EQ(::kill(watcher->pid(), SIGTERM), 0);
    EXPECT_EQ(watcher->wait(5s), 0);
    EXPECT_EQ(stderr_text(), R"({"events":1,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                             R"("dropped_datagrams":0})"
                             "\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

// A reader slower than the watch: the tool waits for room in a full pipe
// when the signal comes. The writing must go on while the reader reads, and
// every event must arrive as a whole line, before a clean exit.
TEST_F(nflog_watch_live, a_signal_while_the_output_waits_loses_nothing)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--stats"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    // Far more than a pipe holds (64 KiB): about 600 bytes per line.
    constexpr std::size_t sent = 1000;
    send_udp(*netns, "127.0.0.1", 9, sent);
    ASSERT_TRUE(wait_for_syscall(watcher->pid(), poll_syscall)) << "the watch never waited on the full pipe";
    ASSERT_EQ(::kill(watcher->pid(), SIGTERM), 0);
    std::this_thread::sleep_for(100ms);

    // Read while it exits: it stops at the signal, so it prints what it had
    // taken from the socket, not all that was sent.
    std::string output;
    while (auto line = watcher->next_line(5s))
        output += *line + "\n";
    EXPECT_EQ(watcher->wait(), 0);
    EXPECT_EQ(watcher->rest(), "") << "the output ends with a whole line";
    const auto lines = lines_of(output);
    for (const auto& line : lines)
        EXPECT_EQ(text(parse_line(line), "prefix"), "DENIED udp") << line;
    const auto counters = parse_line(stderr_text());
    EXPECT_EQ(std::get<std::int64_t>(counters.at("events")), static_cast<std::int64_t>(lines.size()))
        << "every event the watch took is a whole line";
    EXPECT_GT(lines.size(), 0u);
}

// A reader that stopped reading for good (a dead consumer, a stalled log
// shipper) must not keep a stopped watch from ending: a supervisor would
// wait for its SIGKILL, and the counters would never be printed. The tool
// gives the reader a second after the stop (a second signal: nothing), then
// drops what is left and counts it.
TEST_F(nflog_watch_live, a_stop_gives_up_on_a_reader_that_stopped_reading)
{
    for (const bool insisting : {false, true}) {
        SCOPED_TRACE(insisting ? "two signals" : "one signal");
        const auto err_name = insisting ? "err-insisting" : "err";
        auto watcher = start({"--netns", netns->name(), "--group", "41", "--stats"}, err_name);
        ASSERT_TRUE(wait_until_bound(*netns, {41}));
        // Far more than a pipe holds (64 KiB): about 600 bytes per line.
        constexpr std::size_t sent = 1000;
        send_udp(*netns, "127.0.0.1", 9, sent);
        ASSERT_TRUE(wait_for_syscall(watcher->pid(), poll_syscall)) << "the watch never waited on the full pipe";
        ASSERT_EQ(::kill(watcher->pid(), SIGTERM), 0);
        if (insisting) {
            // Two signals pending at once are one: the second waits for the first to be taken.
            ASSERT_TRUE(wait_until_no_signal_pending(watcher->pid())) << "the first SIGTERM was never taken";
            ASSERT_EQ(::kill(watcher->pid(), SIGTERM), 0);
        }
        EXPECT_EQ(watcher->wait(), 5);

        // Only now is the pipe read: what it holds is whole lines, but for a
        // last one the reader got part of.
        const auto output = watcher->rest();
        const auto lines = lines_of(output.substr(0, output.rfind('\n') + 1));
        for (const auto& line : lines)
            EXPECT_EQ(text(parse_line(line), "prefix"), "DENIED udp") << line;
        const auto diagnostics = lines_of(stderr_text(err_name));
        ASSERT_EQ(diagnostics.size(), 2u) << stderr_text(err_name);
        const std::string reason = insisting ? "a second stop signal came while its reader was not reading"
                                             : "its reader took nothing for a second after the stop";
        EXPECT_TRUE(diagnostics[0].starts_with("nflog-watch: cannot write the events: " + reason + "; "))
            << diagnostics[0];
        // Often only the line the reader got part of: "1 event".
        EXPECT_TRUE(std::regex_search(diagnostics[0], std::regex("; (1 event|([02-9]|[1-9][0-9]+) events) not written$")))
            << diagnostics[0];
        const auto counters = parse_line(diagnostics[1]);
        const auto count = [&](const char* name) { return std::get<std::int64_t>(counters.at(name)); };
        EXPECT_EQ(count("events"), static_cast<std::int64_t>(lines.size())) << "events counts the whole lines only";
        EXPECT_GT(count("discarded"), 0);
        ASSERT_EQ(count("overruns"), 0) << "the receive buffer holds every event sent";
        EXPECT_EQ(count("events") + count("discarded") + count("lost"), static_cast<std::int64_t>(sent))
            << "every event is written, or counted";
        EXPECT_EQ(bound_groups(*netns), std::set<int>{});
    }
}

// A --pcap FIFO waits for its reader; a stop ends that wait (once the
// groups are bound, when nothing has been written yet).
TEST_F(nflog_watch_live, a_stop_ends_the_wait_for_a_pcap_fifo_reader)
{
    const auto fifo = scratch_ / "packets.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--pcap", fifo.string(), "--stats"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    EXPECT_EQ(watcher->stop(SIGTERM), 0);
    EXPECT_EQ(watcher->rest(), "");
    EXPECT_EQ(stderr_text(), R"({"events":0,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                             R"("dropped_datagrams":0})"
                             "\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

// The same wait for an --output FIFO comes before any group is bound.
TEST_F(nflog_watch_live, a_stop_ends_the_wait_for_an_output_fifo_reader)
{
    const auto fifo = scratch_ / "events.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--output", fifo.string(), "--stats"});
    ASSERT_TRUE(wait_for_syscall(watcher->pid(), poll_syscall)) << "the tool never waited for the FIFO's reader";
    EXPECT_EQ(watcher->stop(SIGTERM), 0);
    EXPECT_EQ(stderr_text(), R"({"events":0,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                             R"("dropped_datagrams":0})"
                             "\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

// A pcap reader that opened the FIFO and then stopped reading: the events
// still reach their file, and the stop gives up on the pcap after a second.
TEST_F(nflog_watch_live, a_stop_gives_up_on_a_pcap_reader_that_stopped_reading)
{
    const auto fifo = scratch_ / "packets.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const int pcap_reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(pcap_reader, 0);
    const auto events = scratch_ / "events.json";
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--pcap", fifo.string(), "--output",
                          events.string(), "--stats"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    // About 150 bytes a record: far more than the FIFO holds.
    constexpr std::size_t sent = 1000;
    send_udp(*netns, "127.0.0.1", 9, sent);
    ASSERT_TRUE(wait_for_syscall(watcher->pid(), poll_syscall)) << "the watch never waited on the full FIFO";
    EXPECT_EQ(watcher->stop(SIGTERM), 5);

    const auto diagnostics = lines_of(stderr_text());
    ASSERT_EQ(diagnostics.size(), 2u) << stderr_text();
    EXPECT_TRUE(diagnostics[0].starts_with("nflog-watch: cannot write " + fifo.string() +
                                           ": its reader took nothing for a second after the stop; "))
        << diagnostics[0];
    EXPECT_TRUE(std::regex_search(diagnostics[0], std::regex("; (1 record|([02-9]|[1-9][0-9]+) records) not written$")))
        << diagnostics[0];
    const auto counters = parse_line(diagnostics[1]);
    EXPECT_EQ(std::get<std::int64_t>(counters.at("events")),
              static_cast<std::int64_t>(lines_of(read_text(events)).size()));
    std::array<unsigned char, 4> magic{};
    ASSERT_EQ(::read(pcap_reader, magic.data(), magic.size()), 4);
    const std::uint32_t host_order_magic = 0xa1b2c3d4;
    EXPECT_EQ(std::memcmp(magic.data(), &host_order_magic, 4), 0) << "the FIFO got the pcap's header first";
    ::close(pcap_reader);
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, a_signal_before_any_event)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--stats"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    EXPECT_EQ(watcher->stop(SIGINT), 0);
    EXPECT_EQ(watcher->rest(), "");
    EXPECT_EQ(stderr_text(), R"({"events":0,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                             R"("dropped_datagrams":0})"
                             "\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, count_stops_after_that_many_events)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--count", "3", "--stats"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    // All five are logged before the tool reads any: the two it never
    // writes are still queued for it when it stops.
    ASSERT_EQ(::kill(watcher->pid(), SIGSTOP), 0);
    send_udp(*netns, "127.0.0.1", 9, 5);
    ASSERT_EQ(::kill(watcher->pid(), SIGCONT), 0);
    EXPECT_EQ(watcher->wait(), 0);
    const auto lines = lines_of(watcher->rest());
    ASSERT_EQ(lines.size(), 3u);
    for (std::size_t i = 0; i < lines.size(); ++i)
        EXPECT_EQ(number(parse_line(lines[i]), "seq"), static_cast<std::int64_t>(i)) << lines[i];
    EXPECT_EQ(stderr_text(), R"({"events":3,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":2,)"
                             R"("dropped_datagrams":0})"
                             "\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, idle_exit_without_any_event)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--idle-exit", "0.2", "--stats"});
    EXPECT_EQ(watcher->wait(), 0);
    EXPECT_EQ(watcher->rest(), "");
    EXPECT_EQ(stderr_text(), R"({"events":0,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                             R"("dropped_datagrams":0})"
                             "\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, idle_exit_after_the_last_event)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--idle-exit", "2"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    send_udp(*netns, "127.0.0.1", 9);
    const auto first = watcher->next_line();
    ASSERT_TRUE(first.has_value());
    EXPECT_EQ(text(parse_line(*first), "prefix"), "DENIED udp");
    EXPECT_EQ(watcher->wait(), 0);
    EXPECT_EQ(watcher->rest(), "");
    EXPECT_EQ(stderr_text(), "");
}

// ---------------------------------------------------------------------------
// Loss.

TEST_F(nflog_watch_live, an_overrun_is_reported_and_the_watch_goes_on)
{
    // A stopped reader with a tiny receive buffer: the kernel must drop
    // batches (ENOBUFS). Every event then is either written or counted lost.
    const auto output = scratch_ / "events";
    auto watcher = start({"--netns", netns->name(), "--group", "44", "--rcvbuf", "4096", "--qthresh", "1", "--stats",
                          "--output", output.string()});
    ASSERT_TRUE(wait_until_bound(*netns, {44}));
    ASSERT_EQ(::kill(watcher->pid(), SIGSTOP), 0);
    send_udp(*netns, "127.0.0.1", 11, 300);
    ASSERT_EQ(::kill(watcher->pid(), SIGCONT), 0);

    // A gap shows only when a later event of the group arrives, and one sent
    // while the socket is still full is dropped too: send one now and then
    // until every logged event is written or counted lost.
    std::int64_t events = 0, lost = 0, overruns = 0;
    long logged = 0;
    for (int attempt = 0; attempt < 1000; ++attempt) {
        if (attempt % 25 == 0)
            send_udp(*netns, "127.0.0.1", 11);
        logged = netns->rule_packets("udp11");
        events = lost = overruns = 0;
        for (const auto& line : complete_lines(output)) {
            const auto object = parse_line(line);
            if (!has(object, "error"))
                ++events;
            else if (text(object, "error") == "NFLOG sequence gap: messages were lost") {
                lost += number(object, "lost");
                EXPECT_EQ(number(object, "group"), 44) << line;
            }
            else if (text(object, "error") == "kernel dropped NFLOG messages (receive buffer overrun)")
                ++overruns;
            else
                ADD_FAILURE() << line;
        }
        if (events + lost == logged)
            break;
        std::this_thread::sleep_for(20ms);
    }
    EXPECT_GT(logged, 300);
    EXPECT_EQ(events + lost, logged);
    EXPECT_GE(overruns, 1);
    EXPECT_GT(lost, 0);
    ASSERT_TRUE(watcher->running()) << "an overrun must not stop the watch";

    EXPECT_EQ(watcher->stop(SIGINT), 0);
    const auto totals = stderr_text();
    ASSERT_TRUE(totals.ends_with("\n"));
    const auto counted = parse_line(totals.substr(0, totals.size() - 1));
    EXPECT_EQ(number(counted, "events"), events);
    EXPECT_EQ(number(counted, "lost"), lost);
    EXPECT_EQ(number(counted, "overruns"), overruns);
    EXPECT_EQ(number(counted, "malformed"), 0);
    EXPECT_EQ(number(counted, "truncated"), 0);
    EXPECT_EQ(number(counted, "discarded"), 0);
    // Each overrun is at least one dropped datagram, and the kernel drops
    // more while it says nothing new.
    EXPECT_GE(number(counted, "dropped_datagrams"), overruns);
    EXPECT_EQ(counted.size(), 7u) << totals;
}

// ---------------------------------------------------------------------------
// Allocations.

#ifdef NFLOG_TEST_WATCH_IN_PROCESS
TEST_F(nflog_watch_live, events_allocate_nothing_once_warm)
{
    // In process, where this binary's operator new counts: a watch of fifty
    // times as many events, one datagram each, allocates exactly as much.
    const auto allocations_for = [&](std::size_t events) {
        nflog::watch::options opts;
        opts.groups = {41};
        opts.netns = {netns->name()};
        opts.container = "web";
        opts.count = events;
        opts.kernel.queue_threshold = 1;
        opts.pcap_path = (scratch_ / "events.pcap").string();
        std::FILE* out = std::tmpfile();
        std::FILE* diagnostics = std::tmpfile();
        std::size_t allocations = 0;
        int status = -1;
        std::thread watching([&] {
            const nflog::test::allocation_scope scope;
            status = nflog::watch::watch_live(opts, ::fileno(out), diagnostics);
            allocations = scope.count();
        });
        EXPECT_TRUE(wait_until_bound(*netns, {41}));
        for (std::size_t i = 0; i < events; ++i)
            send_udp(*netns, "127.0.0.1", 9);
        watching.join();
        EXPECT_EQ(status, 0);
        std::rewind(out);
        std::size_t lines = 0;
        for (int c; (c = std::fgetc(out)) != EOF;)
            lines += c == '\n';
        EXPECT_EQ(lines, events);
        std::fclose(out);
        std::fclose(diagnostics);
        return allocations;
    };
    const auto few = allocations_for(4);
    const auto many = allocations_for(200);
    EXPECT_GT(few, 0u) << "the counter must see the watch's own allocations";
    EXPECT_EQ(many, few);
}
#endif

// ---------------------------------------------------------------------------
// Kernel settings.

TEST_F(nflog_watch_live, without_tuning_flags_the_library_defaults_apply)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    const nflog::options defaults;
    const auto instance = instance_of(*netns, 41);
    ASSERT_EQ(instance.size(), 7u);
    EXPECT_EQ(instance[3], static_cast<long>(defaults.mode));
    EXPECT_EQ(instance[4], static_cast<long>(defaults.copy_range));
    EXPECT_EQ(instance[5], static_cast<long>((defaults.flush_timeout.count() + 9) / 10));
    EXPECT_EQ(watcher->stop(SIGINT), 0);
}

TEST_F(nflog_watch_live, tuning_flags_reach_the_kernel)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--copy-range", "20", "--timeout", "250",
                          "--qthresh", "1", "--nlbufsiz", "8192", "--rcvbuf", "262144"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    const auto instance = instance_of(*netns, 41);
    ASSERT_EQ(instance.size(), 7u);
    EXPECT_EQ(instance[3], 2); // NFULNL_COPY_PACKET
    EXPECT_EQ(instance[4], 20);
    EXPECT_EQ(instance[5], 25);

    // 20 bytes hold the IPv4 header and nothing of UDP.
    send_udp(*netns, "127.0.0.1", 9);
    const auto line = watcher->next_line();
    ASSERT_TRUE(line.has_value());
    const auto event = parse_line(*line);
    EXPECT_EQ(number(event, "payload_len"), 20);
    EXPECT_EQ(number(event, "proto"), IPPROTO_UDP);
    EXPECT_EQ(text(event, "dest"), "127.0.0.1");
    EXPECT_EQ(text(event, "truncated"), "true");
    EXPECT_FALSE(has(event, "dport"));
    EXPECT_EQ(watcher->stop(SIGINT), 0);
}

TEST_F(nflog_watch_live, copy_range_zero_copies_metadata_only)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--copy-range", "0"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    EXPECT_EQ(instance_of(*netns, 41).at(3), 1); // NFULNL_COPY_META
    send_udp(*netns, "127.0.0.1", 9);
    const auto line = watcher->next_line();
    ASSERT_TRUE(line.has_value());
    const auto event = parse_line(*line);
    EXPECT_EQ(text(event, "prefix"), "DENIED udp");
    EXPECT_FALSE(has(event, "payload_len"));
    EXPECT_FALSE(has(event, "dest"));
    EXPECT_EQ(watcher->stop(SIGINT), 0);
}

// ---------------------------------------------------------------------------
// pcap output.

TEST_F(nflog_watch_live, pcap_reads_back_as_the_same_events_and_in_tshark_and_tcpdump)
{
    const auto capture = scratch_ / "events.pcap";
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--group", "42", "--container", "web", "--pcap",
                          capture.string()});
    ASSERT_TRUE(wait_until_bound(*netns, {41, 42}));
    send_udp(*netns, "127.0.0.1", 9);
    send_udp(*netns, "::1", 9);
    namespace_socket tcp(netns->path(), AF_INET, SOCK_STREAM);
    tcp.connect_tcp("127.0.0.1", 22);
    namespace_socket icmp6(netns->path(), AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    icmp6.send_echo_request("::1", 9);
    send_udp(*netns, "127.0.0.1", 12);
    const auto live = watcher->lines(5);
    ASSERT_EQ(live.size(), 5u);
    EXPECT_EQ(watcher->stop(SIGINT), 0);

    // The capture lacks only what a capture cannot hold: the namespace, and
    // that the time came from this machine's clock.
    std::string expected;
    const std::string netns_member = R"("netns":")" + netns->name() + R"(",)";
    for (auto line : live) {
        const auto at = line.find(netns_member);
        ASSERT_NE(at, std::string::npos) << line;
        line.erase(at, netns_member.size());
        if (const auto local = line.find(R"("ts_source":"local")"); local != std::string::npos)
            line.replace(local, 19, R"("ts_source":"capture")");
        expected += line + "\n";
    }
    const auto read_back = run("--container web --read " + shell_quote(capture.string()));
    EXPECT_EQ(read_back.status, 0) << read_back.err;
    EXPECT_EQ(read_back.err, "");
    EXPECT_EQ(read_back.out, expected);

    std::vector<std::string> prefixes;
    for (const auto& line : live)
        prefixes.push_back(text(parse_line(line), "prefix") + "\t" + std::to_string(number(parse_line(line), "group")));
    const auto tshark = run_output("tshark -r " + shell_quote(capture.string()) +
                                   " -T fields -e nflog.prefix -e nflog.res_id 2>/dev/null");
    EXPECT_EQ(lines_of(tshark), prefixes);

    // tcpdump decodes the packet inside each record, in the order written.
    const auto header = run_output("tcpdump -n -r " + shell_quote(capture.string()) + " 2>&1 >/dev/null");
    EXPECT_NE(header.find("link-type NFLOG"), std::string::npos) << header;
    const auto dumped = lines_of(run_output("tcpdump -n -r " + shell_quote(capture.string()) + " 2>/dev/null"));
    ASSERT_EQ(dumped.size(), live.size());
    for (std::size_t i = 0; i < live.size(); ++i) {
        const auto event = parse_line(live[i]);
        const auto expected_text = number(event, "proto") == IPPROTO_ICMPV6
                                       ? std::string("ICMP6, echo request")
                                       : " > " + text(event, "dest") + "." + text(event, "dport") + ": " +
                                             (number(event, "proto") == IPPROTO_TCP ? "Flags [S]" : "UDP");
        EXPECT_NE(dumped[i].find(expected_text), std::string::npos) << dumped[i] << "\n" << live[i];
    }
}

// ---------------------------------------------------------------------------
// Errors: one line each, and a status of its own.

TEST_F(nflog_watch_live, missing_capability)
{
    // The binary may sit where nobody cannot reach it: run a copy.
    const auto copy = scratch_ / "nflog-watch";
    fs::copy_file(binary, copy);
    fs::permissions(scratch_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
    const std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups";

    // Inside the namespace: the bind itself is refused.
    const auto inside = run("--group 41", "ip netns exec " + netns->name() + " " + as_nobody, copy);
    EXPECT_EQ(inside.status, 7);
    EXPECT_EQ(inside.out, "");
    EXPECT_EQ(inside.err, "nflog-watch: permission denied: watching NFLOG needs CAP_NET_ADMIN (run as root)\n");

    // From outside: entering the namespace is refused first.
    const auto entering = run("--netns " + netns->name() + " --group 41", as_nobody, copy);
    EXPECT_EQ(entering.status, 7);
    const std::string refused = ": permission denied: entering a network namespace needs CAP_SYS_ADMIN (a "
                                "/proc/PID/ns/net file also the right to trace PID), watching NFLOG CAP_NET_ADMIN "
                                "(run as root)\n";
    EXPECT_EQ(entering.err, "nflog-watch: network namespace " + netns->name() + refused);

    // The namespace file of a process it may not trace does not even open.
    const auto proc_file = "/proc/" + std::to_string(::getpid()) + "/ns/net";
    const auto opening = run("--netns " + proc_file + " --group 41", as_nobody, copy);
    EXPECT_EQ(opening.status, 7);
    EXPECT_EQ(opening.err, "nflog-watch: network namespace " + proc_file + refused);
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, group_bound_by_another_instance)
{
    auto first = start({"--netns", netns->name(), "--group", "41"}, "first.err");
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    const auto second = run("--netns " + netns->name() + " --group 42 --group 41");
    EXPECT_EQ(second.status, 8);
    EXPECT_EQ(second.out, "");
    EXPECT_EQ(second.err, "nflog-watch: network namespace " + netns->name() +
                              ": NFLOG group 41 is already bound by another program (another nflog-watch? ulogd?)\n");
    // The refused instance released what it had bound; the first one goes on.
    EXPECT_EQ(bound_groups(*netns), std::set<int>{41});
    send_udp(*netns, "127.0.0.1", 9);
    const auto line = first->next_line();
    ASSERT_TRUE(line.has_value());
    EXPECT_EQ(text(parse_line(*line), "prefix"), "DENIED udp");
    EXPECT_EQ(first->stop(SIGTERM), 0);
    EXPECT_EQ(stderr_text("first.err"), "");
}

// One namespace by its name and by its path is a wrong command line, not a
// group that another program holds.
TEST_F(nflog_watch_live, one_namespace_given_twice_under_two_spellings)
{
    const auto twice = run("--netns " + netns->name() + " --netns /run/netns/" + netns->name() + " --group 41");
    EXPECT_EQ(twice.status, 2);
    EXPECT_EQ(twice.out, "");
    EXPECT_EQ(twice.err, "nflog-watch: --netns " + netns->name() + " and --netns /run/netns/" + netns->name() +
                             " name the same namespace (see --help)\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, missing_namespace)
{
    const std::string name = "nflog-missing-" + std::to_string(::getpid());
    const auto by_name = run("--netns " + name + " --group 41");
    EXPECT_EQ(by_name.status, 9);
    EXPECT_EQ(by_name.out, "");
    EXPECT_EQ(by_name.err, "nflog-watch: --netns " + name +
                               " does not exist or is not a network namespace (ip netns list shows the names)\n");

    // A later namespace that is missing: the earlier one is released again.
    const auto by_path = run("--netns " + netns->name() + " --netns /run/netns/" + name + " --group 41");
    EXPECT_EQ(by_path.status, 9);
    EXPECT_EQ(by_path.err, "nflog-watch: --netns /run/netns/" + name +
                               " does not exist or is not a network namespace (ip netns list shows the names)\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, a_file_that_is_no_namespace)
{
    const auto not_a_namespace = run("--netns /etc/passwd --group 41");
    EXPECT_EQ(not_a_namespace.status, 9);
    EXPECT_EQ(not_a_namespace.out, "");
    EXPECT_EQ(not_a_namespace.err, "nflog-watch: --netns /etc/passwd does not exist or is not a network namespace "
                                   "(ip netns list shows the names)\n");
}

void refuse_netlink_sockets()
{
    // socket(AF_NETLINK, ...) fails with EAFNOSUPPORT, as on a kernel
    // without netlink or in a sandbox that forbids it.
    sock_filter filter[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    const sock_fprog program{static_cast<unsigned short>(std::size(filter)), filter};
    if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
        ::_exit(125);
}

TEST_F(nflog_watch_live, netlink_unavailable)
{
    watch_process refused(command({"--netns", netns->name(), "--group", "41"}), scratch_ / "err",
                          refuse_netlink_sockets);
    EXPECT_EQ(refused.wait(), 10);
    EXPECT_EQ(refused.rest(), "");
    EXPECT_EQ(stderr_text(), "nflog-watch: network namespace " + netns->name() +
                                 ": nfnetlink_log is not available: no netlink here, or the kernel lacks the "
                                 "nfnetlink_log module (modprobe nfnetlink_log)\n");
}

TEST_F(nflog_watch_live, output_file_that_cannot_be_created)
{
    const auto path = (scratch_ / "no-such-dir" / "events").string();
    const auto result = run("--netns " + netns->name() + " --group 41 --output " + shell_quote(path));
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.err, "nflog-watch: cannot write " + path + ": No such file or directory\n");
    const auto capture = run("--netns " + netns->name() + " --group 41 --pcap " + shell_quote(path));
    EXPECT_EQ(capture.status, 1);
    EXPECT_EQ(capture.err, "nflog-watch: cannot write " + path + ": No such file or directory\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

// The sanitizers' runtime needs descriptors of its own to check the
// exception Asio throws (it probes memory through a pipe), so under them
// the tool cannot get this far: the test is built without sanitizers only,
// which CI runs too.
#if defined(__SANITIZE_ADDRESS__)
#define NFLOG_TOOL_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NFLOG_TOOL_SANITIZED 1
#endif
#endif
#ifndef NFLOG_TOOL_SANITIZED
// Asio throws while it sets up its own descriptors when none is left: one
// line and the "system refused" status, never an abort.
TEST_F(nflog_watch_live, no_file_descriptor_left)
{
    // Standard input, output and error, and one more for the dynamic loader
    // and the first of Asio's descriptors; whatever the test runner passed
    // down is closed.
    const auto four_descriptors = [] {
        ::close_range(3, ~0u, 0);
        const rlimit four{4, 4};
        ::setrlimit(RLIMIT_NOFILE, &four);
    };
    watch_process watcher(command({"--netns", netns->name(), "--group", "41"}), scratch_ / "err", four_descriptors);
    EXPECT_EQ(watcher.wait(), 11);
    const auto err = stderr_text();
    EXPECT_EQ(err.rfind("nflog-watch: ", 0), 0u) << err;
    EXPECT_NE(err.find("Too many open files"), std::string::npos) << err;
    EXPECT_EQ(lines_of(err).size(), 1u) << err;
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}
#endif

// Both outputs are replaced only once every group is bound: a watch that
// cannot start keeps the files of an earlier one.
TEST_F(nflog_watch_live, a_watch_that_cannot_start_leaves_its_outputs_as_they_were)
{
    const auto events = scratch_ / "events.json";
    const auto packets = scratch_ / "packets.pcap";
    for (const auto& path : {events, packets})
        std::ofstream(path) << "earlier run\n";
    const auto missing = run("--netns no-such-namespace-" + std::to_string(::getpid()) + " --group 41 --output " +
                             shell_quote(events.string()) + " --pcap " + shell_quote(packets.string()));
    EXPECT_EQ(missing.status, 9) << missing.err;
    const auto no_pcap = run("--netns " + netns->name() + " --group 41 --output " + shell_quote(events.string()) +
                             " --pcap " + shell_quote((scratch_ / "no-such-dir" / "x.pcap").string()));
    EXPECT_EQ(no_pcap.status, 1) << no_pcap.err;
    EXPECT_EQ(read_text(events), "earlier run\n");
    EXPECT_EQ(read_text(packets), "earlier run\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

// A reader that goes away ends the watch as a failed write (EPIPE) would,
// also when no event comes to be written: the groups are unbound at once,
// not at the next event, so that a restarted pipeline can bind them.
TEST_F(nflog_watch_live, a_reader_that_goes_away)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--stats"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    watcher->close_output();
    EXPECT_EQ(watcher->wait(), 5);
    EXPECT_EQ(stderr_text(), "nflog-watch: cannot write the events: Broken pipe\n"
                             R"({"events":0,"lost":0,"overruns":0,"malformed":0,"truncated":0,"discarded":0,)"
                             R"("dropped_datagrams":0})"
                             "\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, a_pcap_reader_that_goes_away)
{
    const auto fifo = scratch_ / "packets.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    int pcap_reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(pcap_reader, 0);
    const auto events = scratch_ / "events.json";
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--pcap", fifo.string(), "--output",
                          events.string()});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    send_udp(*netns, "127.0.0.1", 9);
    for (int attempt = 0; attempt < 500 && read_text(events).empty(); ++attempt)
        std::this_thread::sleep_for(10ms);
    ASSERT_FALSE(read_text(events).empty()) << "the event was never written";
    ::close(pcap_reader);
    EXPECT_EQ(watcher->wait(), 5);
    EXPECT_EQ(stderr_text(), "nflog-watch: cannot write " + fifo.string() + ": Broken pipe\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_live, a_pcap_that_cannot_be_written)
{
    auto watcher = start({"--netns", netns->name(), "--group", "41", "--pcap", "/dev/full"});
    ASSERT_TRUE(wait_until_bound(*netns, {41}));
    send_udp(*netns, "127.0.0.1", 9);
    EXPECT_EQ(watcher->wait(), 5);
    EXPECT_EQ(stderr_text(), "nflog-watch: cannot write /dev/full: No space left on device\n");
    EXPECT_EQ(bound_groups(*netns), std::set<int>{});
}

TEST_F(nflog_watch_cli, invalid_options)
{
    const auto page = std::to_string(std::min<long>(::sysconf(_SC_PAGESIZE), 8192));
    const std::vector<std::pair<std::string, std::string>> cases{
        {"--group 70000", "--group 70000: expected a group number from 0 to 65535"},
        {"--group 41 --group 41", "--group 41 given twice"},
        {"--group x", "--group x: expected a group number from 0 to 65535"},
        {"--group 41 --netns ''", "--netns needs a namespace name or path"},
        {"--group 41 --copy-range 65532", "--copy-range 65532: expected a number of bytes from 0 to 65531"},
        {"--group 41 --nlbufsiz 100", "--nlbufsiz 100: expected a number of bytes from " + page + " to 131072"},
        {"--group 41 --qthresh 0", "--qthresh 0: expected a number of messages from 1 to 4294967295"},
        {"--group 41 --timeout -5", "--timeout -5: expected milliseconds from 0 to 42949670"},
        // One millisecond more would wrap the kernel's timer at HZ=1000.
        {"--group 41 --timeout 42949671", "--timeout 42949671: expected milliseconds from 0 to 42949670"},
        {"--group 41 --rcvbuf 3000000000", "--rcvbuf 3000000000: expected a number of bytes from 0 to 2147483647"},
        {"--group 41 --count 0", "--count 0: expected a number of events from 1 to 18446744073709551615"},
        {"--group 41 --idle-exit 0",
         "--idle-exit 0: expected a number of seconds above 0 and at most 10000000, such as 2 or 0.5"},
        {"--group 41 --stats=yes", "--stats takes no value"},
        {"--group 41 --count", "--count needs a value"},
        {"--netns x", "give --group N: the NFLOG groups to watch"},
        {"--read x --group 41", "--read and --group cannot be combined: read a capture, or watch live"},
        {"--read x --stats", "--stats works only when watching live (with --group)"},
        {"--group 41 --pcap -", "--pcap - writes the capture to standard output: give --output FILE for the events"},
        {"--group 41 --follow", "unknown option --follow"},
    };
    for (const auto& [arguments, message] : cases) {
        const auto result = run(arguments);
        EXPECT_EQ(result.status, 2) << arguments;
        EXPECT_EQ(result.out, "") << arguments;
        EXPECT_EQ(result.err, "nflog-watch: " + message + " (see --help)\n") << arguments;
    }
}

} // namespace
