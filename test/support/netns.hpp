#ifndef NFLOG_TEST_SUPPORT_NETNS_HPP
#define NFLOG_TEST_SUPPORT_NETNS_HPP

#include <gtest/gtest.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace nflog::test {

/// True when the test may create namespaces and load rulesets. Otherwise the
/// calling test is skipped loudly, or fails when CI=true: CI runs as root and
/// no integration test may silently not run there.
bool integration_allowed();

#define NFLOG_REQUIRE_INTEGRATION()                                                                                    \
    do {                                                                                                               \
        if (!::nflog::test::integration_allowed())                                                                     \
            GTEST_SKIP() << "integration test needs root (network namespaces, nftables): SKIPPED";                     \
    } while (0)

/// Runs `command` with /bin/sh; returns its exit status (or -1).
int run(const std::string& command);
/// Runs `command` and returns its standard output; fails the test on a non-zero status.
std::string run_output(const std::string& command);

/// A throwaway network namespace with loopback up, deleted when it goes out
/// of scope, whatever the test did. Names are unique per process and object:
/// `test_namespace_prefix`, the process id, a number.
///
/// A test process that dies without running destructors (an abort, a
/// sanitizer's report, a kill at a timeout) cannot delete its namespaces:
/// the first one a later test process makes removes those first (see
/// `remove_namespaces_of_dead_test_processes`).
class scoped_netns {
public:
    scoped_netns();
    ~scoped_netns();
    scoped_netns(const scoped_netns&) = delete;
    scoped_netns& operator=(const scoped_netns&) = delete;

    const std::string& name() const noexcept { return name_; }
    std::string path() const { return "/run/netns/" + name_; }

    /// Runs a shell command inside the namespace; returns its exit status.
    int exec(const std::string& command) const;
    /// Runs a command inside; asserts success (non-fatal) and returns stdout.
    std::string exec_output(const std::string& command) const;
    /// Loads an nft ruleset (nft -f syntax) into the namespace; asserts success.
    void load_ruleset(const std::string& ruleset) const;
    /// The packet counter of the first rule carrying `comment`, or -1.
    long rule_packets(const std::string& comment) const;

private:
    std::string name_;
};

inline constexpr std::string_view test_namespace_prefix = "nflogt-";

/// Deletes the namespaces of `scoped_netns` whose process has ended; a
/// namespace whose process still runs, or whose name is not one of
/// `scoped_netns`, stays. Returns how many it deleted.
std::size_t remove_namespaces_of_dead_test_processes();

/// Quotes `text` for /bin/sh.
std::string shell_quote(const std::string& text);

} // namespace nflog::test

#endif
