#include <nflog/socket.hpp>

#include "nflog_fixture.hpp"
#include "support/counting_allocator.hpp"

#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <string>
#include <filesystem>
#include <functional>
#include <iterator>

namespace {

using namespace nflog;
using namespace nflog::test;
using socket_open = nflog_fixture;

/// Runs `body` in a child process and returns the errc value it reports
/// through its exit status (0 = opened). Needed where the process itself
/// must change: dropping root, or a seccomp filter.
int in_child(const std::function<int()>& body)
{
    std::fflush(nullptr);
    const pid_t child = ::fork();
    if (child == 0)
        ::_exit(body());
    int status = 0;
    ::waitpid(child, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 255;
}

int open_result(const options& opts)
{
    net::io_context io;
    auto opened = socket::open(io, opts);
    if (opened)
        return 0;
    if (opened.error().category() == error_category())
        return opened.error().value();
    std::fprintf(stderr, "unexpected error: %s\n", opened.error().message().c_str());
    return 254;
}

TEST_F(socket_open, invalid_options_are_rejected_before_the_kernel_sees_them)
{
    // The diagnostic names the field at fault: the kernel saw nothing.
    auto expect_invalid = [&](std::string_view reason, auto change, errc expected = errc::invalid_option) {
        auto opts = options_for({41});
        change(opts);
        std::string diagnostic = "from an earlier call";
        auto opened = socket::open(io, opts, &diagnostic);
        ASSERT_FALSE(opened) << reason;
        EXPECT_EQ(opened.error(), expected) << reason;
        EXPECT_EQ(diagnostic, reason);
    };
    expect_invalid("", [](options& o) { o.groups.clear(); }, errc::no_group);
    expect_invalid("groups: a group is listed twice", [](options& o) { o.groups = {41, 41}; });
    expect_invalid("copy_range: 1 to 65531 bytes when copying packets", [](options& o) { o.copy_range = 0; });
    expect_invalid("copy_range: 1 to 65531 bytes when copying packets", [](options& o) { o.copy_range = 65532; });
    expect_invalid("mode: none, meta or packet", [](options& o) { o.mode = static_cast<copy_mode>(7); });
    expect_invalid("nlbufsiz: one page to 131072 bytes", [](options& o) { o.nlbufsiz = 100; });
    expect_invalid("nlbufsiz: one page to 131072 bytes", [](options& o) { o.nlbufsiz = 131073; });
    expect_invalid("queue_threshold: at least 1", [](options& o) { o.queue_threshold = 0; });
    expect_invalid("flush_timeout: 0 to 42949670 ms",
                   [](options& o) { o.flush_timeout = std::chrono::milliseconds(-1); });
    expect_invalid("netns and netns_fd: one of them at most", [](options& o) { o.netns_fd = 0; });
    expect_invalid("netns_fd: a descriptor, or -1 for none", [](options& o) {
        o.netns.clear();
        o.netns_fd = -2;
    });
    expect_invalid("receive_buffer_size: at most 2147483647 bytes",
                   [](options& o) { o.receive_buffer_size = std::size_t{1} << 31; });
    expect_invalid("batching_delay: 0 to 1 s", [](options& o) { o.batching_delay = std::chrono::seconds(2); });
    expect_invalid("batching_rate: at least 1 event per second", [](options& o) { o.batching_rate = 0; });
    // Nothing was bound by the refused attempts: the group is still free.
    auto opened = socket::open(io, options_for({41}));
    ASSERT_TRUE(opened);
    std::string diagnostic = "from an earlier call";
    group_settings invalid;
    invalid.queue_threshold = 0;
    EXPECT_EQ(opened.value().configure(41, invalid, &diagnostic).error(), errc::invalid_option);
    EXPECT_EQ(diagnostic, "queue_threshold: at least 1");
}

TEST_F(socket_open, missing_namespace)
{
    auto opts = options_for({41});
    opts.netns = "nflog-no-such-namespace";
    auto opened = socket::open(io, opts);
    ASSERT_FALSE(opened);
    EXPECT_EQ(opened.error(), errc::namespace_not_found);
    EXPECT_EQ(opened.error(), condition::unavailable);
}

TEST_F(socket_open, a_group_owned_by_another_socket_is_busy)
{
    auto first = open_socket({41});
    std::string diagnostic;
    auto second = socket::open(io, options_for({42, 41}), &diagnostic);
    ASSERT_FALSE(second);
    EXPECT_EQ(second.error(), errc::group_busy);
    EXPECT_EQ(second.error(), condition::permission);
    EXPECT_EQ(diagnostic, "group 41 is bound by another socket");
    // The failed open released group 42 again.
    EXPECT_TRUE(socket::open(io, options_for({42})));
    // Closing the owner frees its groups.
    first.close();
    EXPECT_TRUE(socket::open(io, options_for({41})));
}

TEST_F(socket_open, missing_capability_is_told_apart_from_a_busy_group)
{
    const int status = in_child([] {
        // Leaving uid 0 drops every capability.
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            return 253;
        options opts;
        opts.groups = {41};
        return open_result(opts);
    });
    EXPECT_EQ(status, static_cast<int>(errc::permission_denied));
}

TEST_F(socket_open, entering_a_namespace_without_privilege_is_a_permission_error)
{
    const auto path = netns->path();
    const int status = in_child([&] {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            return 253;
        options opts;
        opts.groups = {41};
        opts.netns = path;
        return open_result(opts);
    });
    EXPECT_EQ(status, static_cast<int>(errc::permission_denied));
}

// /proc/PID/ns/net opens only for a caller that may trace PID.
TEST_F(socket_open, a_namespace_file_the_caller_may_not_open_is_a_permission_error)
{
    const auto path = "/proc/" + std::to_string(::getpid()) + "/ns/net";
    const int status = in_child([&] {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            return 253;
        if (const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0 || errno != EACCES)
            return 252; // the premise of the test
        options opts;
        opts.groups = {41};
        opts.netns = path;
        return open_result(opts);
    });
    EXPECT_EQ(status, static_cast<int>(errc::permission_denied));
}

TEST_F(socket_open, no_netlink_is_an_error_value_not_a_crash)
{
    // A seccomp filter answers socket(AF_NETLINK, ...) with EAFNOSUPPORT, as a
    // kernel without netlink (or a sandbox that forbids it) would.
    const int status = in_child([] {
        sock_filter filter[] = {
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 0, 3),
            BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, args[0])),
            BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 0, 1),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EAFNOSUPPORT),
            BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        };
        sock_fprog program{static_cast<unsigned short>(sizeof filter / sizeof filter[0]), filter};
        if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || ::prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) != 0)
            return 253;
        options opts;
        opts.groups = {41};
        return open_result(opts);
    });
    EXPECT_EQ(status, static_cast<int>(errc::nflog_unavailable));
    EXPECT_EQ(make_error_code(errc::nflog_unavailable), condition::unavailable);
}

// open() reports running out of memory as a value, leaves no descriptor
// behind and no group bound: the same group opens right after.
TEST_F(socket_open, memory_that_runs_out_while_opening_is_an_error_value)
{
    const auto opts = options_for({41});
    const auto descriptors = [] {
        return std::distance(std::filesystem::directory_iterator("/proc/self/fd"), std::filesystem::directory_iterator{});
    };
    const auto before = descriptors();
    {
        // The buffer that receives the kernel's answers while binding.
        failing_allocations no_buffer(datagram_capacity(opts));
        const auto opened = socket::open(io, opts);
        ASSERT_FALSE(opened);
        EXPECT_EQ(opened.error(), boost::system::error_code(ENOMEM, boost::system::generic_category()));
        EXPECT_EQ(no_buffer.failed(), 1u);
    }
    EXPECT_EQ(descriptors(), before);
    EXPECT_TRUE(socket::open(io, opts));
}

TEST_F(socket_open, configuring_groups_at_run_time)
{
    auto watcher = open_socket({41});
    auto other = open_socket({43});
    group_settings batching;
    batching.queue_threshold = 8;
    batching.flush_timeout = std::chrono::milliseconds(20);
    EXPECT_TRUE(watcher.configure(41, batching));

    auto unbound = watcher.configure(45, batching);
    ASSERT_FALSE(unbound);
    EXPECT_EQ(unbound.error(), errc::group_not_bound);

    auto foreign = watcher.configure(43, batching);
    ASSERT_FALSE(foreign);
    EXPECT_EQ(foreign.error(), errc::group_busy);

    group_settings invalid;
    invalid.nlbufsiz = 1u << 20;
    auto refused = watcher.configure(41, invalid);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error(), errc::invalid_option);

    // Data that arrives while a request waits for its answer is kept.
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    group_settings immediate;
    immediate.queue_threshold = 1;
    EXPECT_TRUE(watcher.configure(41, immediate));
    udp.send_udp("127.0.0.1", 9, 1);
    ::usleep(20000);
    EXPECT_TRUE(watcher.configure(41, immediate));
    EXPECT_EQ(collect(watcher, 1).size(), 1u);
    EXPECT_EQ(watcher.stats().lost, 0u);
}

} // namespace
