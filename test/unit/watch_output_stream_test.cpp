// nflog-watch's output: whole units through a pipe, a failure remembered
// and counted, and a stop that gives up on a reader that stopped reading.

#include "output_stream.hpp"
#include "stop_request.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <csignal>
#include <cstddef>
#include <string>
#include <thread>

namespace {

using nflog::watch::output_stream;
using nflog::watch::stop_request;

// Both ends of a pipe, closed when the test ends.
struct test_pipe {
    test_pipe()
    {
        int ends[2];
        if (::pipe2(ends, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe failed");
        read_end = ends[0];
        write_end = ends[1];
    }
    ~test_pipe()
    {
        close_read_end();
        if (write_end >= 0)
            ::close(write_end);
    }
    test_pipe(const test_pipe&) = delete;
    test_pipe& operator=(const test_pipe&) = delete;

    void close_read_end()
    {
        if (read_end >= 0)
            ::close(read_end);
        read_end = -1;
    }

    // One page: a few lines fill it.
    void shrink() const { ASSERT_EQ(::fcntl(write_end, F_SETPIPE_SZ, 4096), 4096); }

    bool write_end_blocks() const { return (::fcntl(write_end, F_GETFL) & O_NONBLOCK) == 0; }

    // Everything queued, without waiting for more.
    std::string drain() const
    {
        ::fcntl(read_end, F_SETFL, ::fcntl(read_end, F_GETFL) | O_NONBLOCK);
        std::string got;
        std::array<char, 4096> chunk{};
        for (ssize_t n; (n = ::read(read_end, chunk.data(), chunk.size())) > 0;)
            got.append(chunk.data(), static_cast<std::size_t>(n));
        return got;
    }

    int read_end = -1;
    int write_end = -1;
};

// SIGPIPE ignored while it lives, as nflog-watch ignores it when watching.
struct sigpipe_ignored {
    sigpipe_ignored() { before = std::signal(SIGPIPE, SIG_IGN); }
    ~sigpipe_ignored() { std::signal(SIGPIPE, before); }
    sigpipe_ignored(const sigpipe_ignored&) = delete;
    sigpipe_ignored& operator=(const sigpipe_ignored&) = delete;
    void (*before)(int) = nullptr;
};

std::string numbered_line(std::size_t number, std::size_t length)
{
    auto line = std::to_string(number);
    line.resize(length, 'x');
    return line;
}

// Lines 0 to count - 1, 1000 bytes each with their newline, as a reader should get them.
std::string numbered_lines(std::size_t count)
{
    std::string lines;
    for (std::size_t i = 0; i < count; ++i)
        lines += numbered_line(i, 999) + "\n";
    return lines;
}

// Writes `numbered_lines(count)` as events, without a flush of its own; returns them.
std::string write_numbered_events(output_stream& out, std::size_t count)
{
    for (std::size_t i = 0; i < count; ++i)
        out.write_line(numbered_line(i, 999), true);
    return numbered_lines(count);
}

std::size_t newlines_in(const std::string& text) { return static_cast<std::size_t>(std::ranges::count(text, '\n')); }

TEST(output_stream, writes_whole_units_in_order)
{
    test_pipe pipe;
    output_stream out(pipe.write_end, nullptr);
    out.write_line("{\"a\":1}", true);
    out.append("{\"error\":");
    out.append("\"x\"}\n");
    out.end_unit(false);
    EXPECT_EQ(pipe.drain(), "") << "nothing goes out before a flush while little has gathered";
    EXPECT_TRUE(out.flush());
    EXPECT_EQ(pipe.drain(), "{\"a\":1}\n{\"error\":\"x\"}\n");
    EXPECT_FALSE(out.failed());
    EXPECT_EQ(out.events_dropped(), 0u);
}

// A descriptor that is non-blocking of its own (an --output FIFO) and full:
// before any stop the reader gets all the time it needs.
TEST(output_stream, a_flush_before_a_stop_waits_for_a_slow_reader)
{
    test_pipe pipe;
    pipe.shrink();
    ASSERT_EQ(::fcntl(pipe.write_end, F_SETFL, O_NONBLOCK), 0);
    constexpr std::size_t line_count = 100;
    std::string expected;
    std::string got;
    std::thread reader([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        std::array<char, 4096> chunk{};
        while (newlines_in(got) < line_count) {
            const ssize_t n = ::read(pipe.read_end, chunk.data(), chunk.size());
            if (n <= 0)
                break;
            got.append(chunk.data(), static_cast<std::size_t>(n));
        }
    });
    output_stream out(pipe.write_end, nullptr);
    // 100 lines of 1000 bytes: past the size at which units go out by themselves.
    expected = write_numbered_events(out, line_count);
    EXPECT_TRUE(out.flush());
    reader.join();
    EXPECT_EQ(got, expected);
    EXPECT_EQ(out.events_dropped(), 0u);
}

TEST(output_stream, a_reader_gone_away_fails_it_once_and_every_event_after_counts_as_dropped)
{
    const sigpipe_ignored no_sigpipe;
    test_pipe pipe;
    pipe.close_read_end();
    output_stream out(pipe.write_end, nullptr);
    out.write_line("event 1", true);
    out.write_line("error", false);
    out.write_line("event 2", true);
    EXPECT_FALSE(out.flush());
    EXPECT_TRUE(out.failed());
    EXPECT_EQ(out.failure_reason("events"), "Broken pipe");
    EXPECT_EQ(out.events_dropped(), 2u);
    out.write_line("event 3", true);
    out.write_line("error", false);
    EXPECT_FALSE(out.flush());
    EXPECT_EQ(out.events_dropped(), 3u);
}

// The tool's standard output is blocking, and a reader that stopped
// reading would hold a write forever: the stream writes through a
// non-blocking description of its own, the reader gets a second after the
// stop to take more, and the rest is dropped and counted.
TEST(output_stream, after_a_stop_a_reader_that_takes_nothing_is_given_up_on)
{
    const stop_request stop;
    test_pipe pipe;
    pipe.shrink();
    output_stream out(pipe.write_end, &stop);
    constexpr std::size_t line_count = 10;
    write_numbered_events(out, line_count);
    std::raise(SIGTERM);
    ASSERT_TRUE(stop.requested());

    EXPECT_FALSE(out.flush());
    const auto got = pipe.drain();
    ASSERT_FALSE(got.empty()) << "the pipe took what fitted";
    EXPECT_FALSE(got.ends_with('\n')) << "the pipe took part of a line: the one place a line can be cut";
    const auto dropped = line_count - newlines_in(got);
    EXPECT_EQ(out.events_dropped(), dropped) << "the cut line is dropped too";
    EXPECT_EQ(out.failure_reason("events"), "its reader took nothing for a second after the stop; " +
                                                std::to_string(dropped) + " events not written");
    EXPECT_TRUE(got.starts_with(numbered_lines(newlines_in(got)))) << "the lines the reader got are whole and in order";
    // Nothing more is written, lest a line follow the cut one.
    out.write_line("late", true);
    EXPECT_FALSE(out.flush());
    EXPECT_EQ(pipe.drain(), "");
    EXPECT_EQ(out.events_dropped(), dropped + 1);
    EXPECT_TRUE(pipe.write_end_blocks()) << "the descriptor others share keeps its flags";
}

// A supervisor's log socket: written without blocking, never made non-blocking.
TEST(output_stream, a_socket_that_stopped_reading_is_given_up_on_too)
{
    const stop_request stop;
    int ends[2];
    ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ends), 0);
    const int small = 4096;
    ASSERT_EQ(::setsockopt(ends[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small), 0);
    {
        output_stream out(ends[0], &stop);
        // Less than the stream writes out by itself, more than the socket holds.
        write_numbered_events(out, 50);
        std::raise(SIGTERM);
        EXPECT_FALSE(out.flush());
        EXPECT_GT(out.events_dropped(), 0u);
        EXPECT_TRUE(out.failure_reason("events").starts_with("its reader took nothing for a second after the stop; "));
    }
    EXPECT_EQ(::fcntl(ends[0], F_GETFL) & O_NONBLOCK, 0);
    ::close(ends[0]);
    ::close(ends[1]);
}

// Another user's pipe cannot be opened again through /proc: the stream
// then asks poll() before each write, and a stop still ends the flush.
TEST(output_stream, a_pipe_it_cannot_open_again_is_still_given_up_on)
{
    if (::geteuid() != 0)
        GTEST_SKIP() << "needs root, to hand a root-owned pipe to another user";
    test_pipe pipe;
    pipe.shrink();
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        if (::setresgid(65534, 65534, 65534) != 0 || ::setresuid(65534, 65534, 65534) != 0)
            ::_exit(2);
        const stop_request stop;
        output_stream out(pipe.write_end, &stop);
        write_numbered_events(out, 10);
        std::raise(SIGTERM);
        const bool given_up =
            !out.flush() && out.failure_reason("events").starts_with("its reader took nothing for a second");
        ::_exit(given_up ? 0 : 1);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status));
    EXPECT_EQ(WEXITSTATUS(status), 0) << "2: could not become another user; 1: the flush was not given up";
    const auto got = pipe.drain();
    EXPECT_FALSE(got.empty());
    EXPECT_LE(got.size(), 4096u);
    EXPECT_TRUE(pipe.write_end_blocks());
}

TEST(output_stream, a_second_stop_gives_up_at_once)
{
    const stop_request stop;
    test_pipe pipe;
    pipe.shrink();
    output_stream out(pipe.write_end, &stop);
    write_numbered_events(out, 10);
    std::raise(SIGINT);
    std::raise(SIGTERM);
    ASSERT_TRUE(stop.insisted());
    EXPECT_FALSE(out.flush());
    EXPECT_EQ(out.failure_reason("records"), "a second stop signal came while its reader was not reading; " +
                                                 std::to_string(10 - newlines_in(pipe.drain())) + " records not written");
}

TEST(output_stream, one_unit_not_written_is_named_in_the_singular)
{
    const stop_request stop;
    test_pipe pipe;
    pipe.shrink();
    // The pipe full before the stream writes anything: its one unit stays.
    const int filler = ::fcntl(pipe.write_end, F_DUPFD_CLOEXEC, 0);
    ASSERT_GE(filler, 0);
    ASSERT_EQ(::fcntl(filler, F_SETFL, O_NONBLOCK), 0);
    const std::string page(4096, 'x');
    ASSERT_EQ(::write(filler, page.data(), page.size()), static_cast<ssize_t>(page.size()));
    output_stream out(pipe.write_end, &stop);
    out.write_line("the one", true);
    std::raise(SIGINT);
    std::raise(SIGTERM);
    ASSERT_TRUE(stop.insisted());
    EXPECT_FALSE(out.flush());
    EXPECT_EQ(out.events_dropped(), 1u);
    EXPECT_EQ(out.failure_reason("records"), "a second stop signal came while its reader was not reading; "
                                             "1 record not written");
    ::fcntl(filler, F_SETFL, 0);
    ::close(filler);
}

// After a stop, a reader that still takes something is waited for: only a
// whole second without progress gives up.
TEST(output_stream, after_a_stop_a_slow_reader_still_gets_everything)
{
    const stop_request stop;
    test_pipe pipe;
    pipe.shrink();
    output_stream out(pipe.write_end, &stop);
    constexpr std::size_t line_count = 20;
    const auto expected = write_numbered_events(out, line_count);
    std::raise(SIGTERM);
    std::string got;
    std::thread reader([&] {
        std::array<char, 1000> chunk{};
        while (got.size() < expected.size()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
            const ssize_t n = ::read(pipe.read_end, chunk.data(), chunk.size());
            if (n <= 0)
                break;
            got.append(chunk.data(), static_cast<std::size_t>(n));
        }
    });
    EXPECT_TRUE(out.flush()) << out.failure_reason("events");
    reader.join();
    EXPECT_EQ(got, expected);
    EXPECT_EQ(out.events_dropped(), 0u);
}

// An --output FIFO whose reader had been slow for longer than a second when
// the stop came: it still gets its second after the stop.
TEST(output_stream, a_reader_stalled_before_the_stop_gets_its_second_after_it)
{
    const stop_request stop;
    test_pipe pipe;
    pipe.shrink();
    ASSERT_EQ(::fcntl(pipe.write_end, F_SETFL, O_NONBLOCK), 0);
    output_stream out(pipe.write_end, &stop);
    const auto expected = write_numbered_events(out, 10);
    std::thread stopper([] {
        std::this_thread::sleep_for(output_stream::stalled_after + std::chrono::milliseconds(200));
        ::kill(::getpid(), SIGTERM);
    });
    std::string got;
    std::thread reader([&] {
        // Reads only once the stop came: the writer has waited longer than
        // a second by then.
        while (!stop.requested())
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        std::array<char, 4096> chunk{};
        while (got.size() < expected.size()) {
            const ssize_t n = ::read(pipe.read_end, chunk.data(), chunk.size());
            if (n <= 0)
                break;
            got.append(chunk.data(), static_cast<std::size_t>(n));
        }
    });
    EXPECT_TRUE(out.flush()) << out.failure_reason("events");
    stopper.join();
    reader.join();
    EXPECT_EQ(got, expected);
}

TEST(stop_request, waits_end_at_a_stop)
{
    const stop_request stop;
    test_pipe pipe;
    ASSERT_EQ(::write(pipe.write_end, "x", 1), 1);
    EXPECT_TRUE(stop.wait_readable(pipe.read_end)) << "input is there";
    EXPECT_TRUE(stop.sleep(1));
    pipe.drain();
    std::thread signaller([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ::kill(::getpid(), SIGTERM);
    });
    // Waits for the signal: a wait that went on would hit the test's time limit.
    EXPECT_FALSE(stop.wait_readable(pipe.read_end));
    signaller.join();
    EXPECT_FALSE(stop.sleep(1'000'000'000)) << "a sleep after the stop ends at once";
}

TEST(stop_request, a_signal_ignored_from_the_start_stays_ignored)
{
    const auto before = std::signal(SIGINT, SIG_IGN);
    {
        const stop_request stop;
        std::raise(SIGINT);
        EXPECT_FALSE(stop.requested());
        std::raise(SIGTERM);
        EXPECT_TRUE(stop.requested());
    }
    struct sigaction now {};
    ::sigaction(SIGINT, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_IGN);
    std::signal(SIGINT, before);
}

// A terminal that closes sends SIGHUP: a stop like the others.
TEST(stop_request, a_hang_up_is_a_stop_and_its_handler_is_put_back)
{
    const auto before = std::signal(SIGHUP, SIG_DFL);
    {
        const stop_request stop;
        std::raise(SIGHUP);
        EXPECT_TRUE(stop.requested());
    }
    struct sigaction now {};
    ::sigaction(SIGHUP, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
    std::signal(SIGHUP, before);
}

TEST(stop_request, the_handlers_and_the_mask_are_put_back)
{
    sigset_t blocked;
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGTERM);
    sigset_t mask_before;
    ASSERT_EQ(::pthread_sigmask(SIG_BLOCK, &blocked, &mask_before), 0);
    {
        const stop_request stop;
        sigset_t mask_inside;
        ::pthread_sigmask(SIG_BLOCK, nullptr, &mask_inside);
        EXPECT_EQ(::sigismember(&mask_inside, SIGTERM), 0) << "a blocked stop signal is let in";
        std::raise(SIGTERM);
        EXPECT_TRUE(stop.requested());
    }
    sigset_t mask_after;
    ::pthread_sigmask(SIG_BLOCK, nullptr, &mask_after);
    EXPECT_EQ(::sigismember(&mask_after, SIGTERM), 1);
    struct sigaction now {};
    ::sigaction(SIGTERM, nullptr, &now);
    EXPECT_EQ(now.sa_handler, SIG_DFL);
    ::pthread_sigmask(SIG_SETMASK, &mask_before, nullptr);
}

} // namespace
