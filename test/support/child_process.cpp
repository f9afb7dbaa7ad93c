#include "support/child_process.hpp"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <thread>

namespace nflog::test {

child_process::child_process(const std::vector<std::string>& command, const child_setup& setup)
{
    // Built before fork: the child may only make async-signal-safe calls.
    std::vector<char*> argv;
    std::vector<std::string> words = command;
    for (auto& word : words)
        argv.push_back(word.data());
    argv.push_back(nullptr);
    std::fflush(nullptr);
    pid_ = ::fork();
    if (pid_ != 0)
        return;
    const int null_fd = ::open("/dev/null", O_RDONLY);
    if (null_fd < 0 || ::dup2(null_fd, STDIN_FILENO) < 0 || ::dup2(setup.stdout_fd, STDOUT_FILENO) < 0 ||
        ::dup2(setup.stderr_fd, STDERR_FILENO) < 0)
        ::_exit(126);
    ::signal(SIGINT, setup.sigint_ignored ? SIG_IGN : SIG_DFL);
    ::signal(SIGTERM, SIG_DFL);
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    if (setup.prepare)
        setup.prepare();
    ::execvp(argv[0], argv.data());
    ::_exit(127);
}

child_process::~child_process()
{
    if (started())
        kill_and_reap();
}

void child_process::signal(int number) const
{
    if (started())
        ::kill(pid_, number);
}

bool child_process::running()
{
    if (status_ || !started())
        return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_)
        status_ = status;
    return !status_;
}

std::optional<int> child_process::wait_for(std::chrono::milliseconds limit)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (running() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    return status_;
}

int child_process::kill_and_reap()
{
    if (running()) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
        status_ = status;
    }
    return status_.value_or(-1);
}

int child_process::shell_status(int wait_status) noexcept
{
    return WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : 128 + WTERMSIG(wait_status);
}

} // namespace nflog::test
