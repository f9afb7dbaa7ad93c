#ifndef NFLOG_TEST_SUPPORT_CHILD_PROCESS_HPP
#define NFLOG_TEST_SUPPORT_CHILD_PROCESS_HPP

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace nflog::test {

/// How a child starts: standard input from /dev/null, standard output and
/// error onto the given descriptors.
struct child_setup {
    int stdout_fd = 1;
    int stderr_fd = 2;
    /// Starts it as a script's background job starts: SIGINT ignored.
    bool sigint_ignored = false;
    /// Runs in the child just before exec; async-signal-safe calls only.
    void (*prepare)() = nullptr;
};

/// A program a test started, bounded: one still running when the object
/// goes is killed and reaped.
///
/// The stop signals (SIGINT, SIGTERM) start at their defaults and unblocked,
/// as a shell starts a foreground program, whatever the test runner
/// inherited: a runner started in the background ignores SIGINT, and an
/// ignored signal is the one disposition a new program inherits.
class child_process {
public:
    /// `command` starts with the program, looked up in PATH without a slash.
    child_process(const std::vector<std::string>& command, const child_setup& setup);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    bool started() const noexcept { return pid_ > 0; }
    pid_t pid() const noexcept { return pid_; }
    void signal(int number) const;

    /// False once it has exited (it is then reaped).
    bool running();
    /// Its raw wait status once it exits by itself within `limit`; nothing,
    /// with it still running, when it does not.
    std::optional<int> wait_for(std::chrono::milliseconds limit);
    /// Kills it unless it has exited; its raw wait status.
    int kill_and_reap();

    /// The exit status, or 128 + the signal that ended it, as a shell says.
    static int shell_status(int wait_status) noexcept;

private:
    pid_t pid_ = -1;
    std::optional<int> status_;
};

} // namespace nflog::test

#endif
