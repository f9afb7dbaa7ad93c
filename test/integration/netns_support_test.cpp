// The tests' own namespaces: none may outlive the test process that made
// it, also when that process died without running its destructors.

#include "support/netns.hpp"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace {

using namespace nflog::test;
namespace fs = std::filesystem;

// Deletes the namespaces it names when it goes, whatever the test did.
struct namespaces_made_here {
    std::vector<std::string> names;
    ~namespaces_made_here()
    {
        for (const auto& name : names)
            run("ip netns delete " + shell_quote(name) + " 2>/dev/null");
    }
};

bool exists(const std::string& name) { return fs::exists("/run/netns/" + name); }

TEST(scoped_netns, namespaces_of_dead_test_processes_are_removed)
{
    NFLOG_REQUIRE_INTEGRATION();
    // The id of a process that has just ended: a child reaped at once.
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(0);
    ASSERT_GT(child, 0);
    ASSERT_EQ(::waitpid(child, nullptr, 0), child);

    const std::string prefix(test_namespace_prefix);
    const auto of_dead_process = prefix + std::to_string(child) + "-0";
    const auto of_this_process = prefix + std::to_string(::getpid()) + "-9999";
    // Not of the test pattern, yet unique, so that a run that crashed here
    // cannot stop the next (scripts/test removes it once its process is gone).
    const auto not_a_test_name = prefix + "other" + std::to_string(::getpid()) + "-0";
    namespaces_made_here made{{of_dead_process, of_this_process, not_a_test_name}};
    for (const auto& name : made.names)
        ASSERT_EQ(run("ip netns add " + shell_quote(name)), 0) << name;

    EXPECT_GE(remove_namespaces_of_dead_test_processes(), 1u);
    EXPECT_FALSE(exists(of_dead_process));
    EXPECT_TRUE(exists(of_this_process));
    EXPECT_TRUE(exists(not_a_test_name));
}

} // namespace
