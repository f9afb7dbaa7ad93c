#include "support/netns.hpp"

#include <signal.h>
#include <unistd.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <regex>
#include <system_error>

namespace nflog::test {

bool integration_allowed()
{
    if (::geteuid() == 0)
        return true;
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true")
        ADD_FAILURE() << "integration tests must run in CI, but this process is not root";
    return false;
}

int run(const std::string& command)
{
    const int status = std::system(command.c_str());
    if (status == -1 || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
}

std::string run_output(const std::string& command)
{
    std::string output;
    FILE* pipe = ::popen(command.c_str(), "r");
    if (pipe == nullptr) {
        ADD_FAILURE() << "cannot run: " << command;
        return output;
    }
    std::array<char, 4096> chunk{};
    std::size_t got = 0;
    while ((got = std::fread(chunk.data(), 1, chunk.size(), pipe)) > 0)
        output.append(chunk.data(), got);
    const int status = ::pclose(pipe);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "command failed: " << command << "\n" << output;
    return output;
}

std::string shell_quote(const std::string& text)
{
    std::string quoted = "'";
    for (char c : text) {
        if (c == '\'')
            quoted += "'\\''";
        else
            quoted += c;
    }
    return quoted + "'";
}

std::size_t remove_namespaces_of_dead_test_processes()
{
    std::size_t removed = 0;
    std::error_code unreadable;
    for (const auto& entry : std::filesystem::directory_iterator("/run/netns", unreadable)) {
        const auto name = entry.path().filename().string();
        if (!name.starts_with(test_namespace_prefix))
            continue;
        const std::string_view rest = std::string_view(name).substr(test_namespace_prefix.size());
        pid_t owner = 0;
        const auto [end, error] = std::from_chars(rest.data(), rest.data() + rest.size(), owner);
        if (error != std::errc() || owner <= 0 || end == rest.data() + rest.size() || *end != '-')
            continue;
        if (::kill(owner, 0) == 0 || errno != ESRCH)
            continue;
        if (run("ip netns delete " + shell_quote(name) + " 2>/dev/null") == 0)
            ++removed;
    }
    return removed;
}

scoped_netns::scoped_netns()
{
    static std::once_flag swept;
    std::call_once(swept, [] { remove_namespaces_of_dead_test_processes(); });
    static std::atomic<int> counter{0};
    name_ = std::string(test_namespace_prefix) + std::to_string(::getpid()) + "-" + std::to_string(counter++);
    EXPECT_EQ(run("ip netns add " + name_), 0) << "cannot create namespace " << name_;
    EXPECT_EQ(exec("ip link set lo up"), 0);
}

scoped_netns::~scoped_netns() { run("ip netns delete " + name_ + " 2>/dev/null"); }

int scoped_netns::exec(const std::string& command) const
{
    return run("ip netns exec " + name_ + " sh -c " + shell_quote(command));
}

std::string scoped_netns::exec_output(const std::string& command) const
{
    return run_output("ip netns exec " + name_ + " sh -c " + shell_quote(command));
}

void scoped_netns::load_ruleset(const std::string& ruleset) const
{
    const std::string command = "ip netns exec " + name_ + " nft -f - <<'NFLOG_RULESET'\n" + ruleset + "\nNFLOG_RULESET";
    ASSERT_EQ(run(command), 0) << "nft rejected the ruleset:\n" << ruleset;
}

long scoped_netns::rule_packets(const std::string& comment) const
{
    const auto listing = exec_output("nft list ruleset");
    const std::regex counter("counter packets ([0-9]+) bytes [0-9]+[^\\n]*comment \"" + comment + "\"");
    std::smatch match;
    if (!std::regex_search(listing, match, counter))
        return -1;
    return std::stol(match[1]);
}

} // namespace nflog::test
