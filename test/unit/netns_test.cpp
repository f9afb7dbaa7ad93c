// Opening a socket inside a namespace starts a thread for it; when the
// system refuses that thread, the caller gets the refusal as a value and
// keeps no descriptor it did not have before.
#include <nflog/detail/netns.hpp>

#include <gtest/gtest.h>

#include <linux/netlink.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <iterator>

namespace {

std::ptrdiff_t open_descriptors()
{
    return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator{});
}

// What the child found, as its exit status.
enum child_result : int {
    refused_as_a_value = 0,
    could_not_drop_privileges,
    could_not_limit_processes,
    threw,
    thread_started,
    wrong_error,
    descriptor_leaked,
};

int open_without_threads() noexcept
{
    // RLIMIT_NPROC does not bind root: become an unprivileged user first,
    // and stay dumpable so that /proc/self/ns/net can still be opened.
    if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
        return could_not_drop_privileges;
    ::prctl(PR_SET_DUMPABLE, 1);
    const rlimit none{0, 0};
    if (::setrlimit(RLIMIT_NPROC, &none) != 0)
        return could_not_limit_processes;
    try {
        const auto before = open_descriptors();
        const auto opened = nflog::detail::open_netlink_socket(NETLINK_NETFILTER, "/proc/self/ns/net", -1);
        if (opened)
            return thread_started;
        if (opened.error() != boost::system::error_code(EAGAIN, boost::system::generic_category()))
            return wrong_error;
        return open_descriptors() == before ? refused_as_a_value : descriptor_leaked;
    }
    catch (...) {
        return threw;
    }
}

TEST(netns, a_thread_the_system_refuses_is_an_error_value_and_leaks_no_descriptor)
{
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0)
        ::_exit(open_without_threads());
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status)) << "the child ended with signal " << WTERMSIG(status);
    EXPECT_EQ(WEXITSTATUS(status), refused_as_a_value)
        << "1: setuid failed, 2: setrlimit failed, 3: an exception escaped, 4: the thread started, 5: not EAGAIN, "
           "6: a descriptor leaked";
}

} // namespace
