// Opening nflog-watch's --output and --pcap files: only a FIFO without a
// reader is waited for.

#include "output_file.hpp"
#include "stop_request.hpp"

#include <gtest/gtest.h>

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>

namespace {

namespace fs = std::filesystem;
using nflog::watch::open_output_file;
using nflog::watch::stop_request;

class output_file : public ::testing::Test {
protected:
    void SetUp() override
    {
        scratch_ = fs::temp_directory_path() / ("nflog-output-file-" + std::to_string(::getpid()));
        fs::create_directories(scratch_);
    }
    void TearDown() override { fs::remove_all(scratch_); }

    fs::path scratch_;
};

TEST_F(output_file, a_new_file_is_created_non_blocking)
{
    const auto path = scratch_ / "events.json";
    const auto opened = open_output_file(path.string(), false, nullptr);
    ASSERT_TRUE(opened.fd) << std::strerror(opened.error);
    EXPECT_NE(::fcntl(opened.fd.get(), F_GETFL) & O_NONBLOCK, 0);
    EXPECT_TRUE(fs::is_regular_file(path));
}

TEST_F(output_file, a_missing_directory_is_an_error)
{
    const auto opened = open_output_file((scratch_ / "none" / "events.json").string(), false, nullptr);
    EXPECT_FALSE(opened.fd);
    EXPECT_EQ(opened.error, ENOENT);
}

// open() says ENXIO for a socket file as for a FIFO without a reader; only
// the FIFO is worth waiting for. (A wait here would hit the test's time limit.)
TEST_F(output_file, a_socket_file_is_an_error_at_once)
{
    const auto path = scratch_ / "log.sock";
    const int listening = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ASSERT_GE(listening, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path.c_str(), sizeof address.sun_path - 1);
    ASSERT_EQ(::bind(listening, reinterpret_cast<const sockaddr*>(&address), sizeof address), 0);
    ASSERT_EQ(::listen(listening, 1), 0);
    const auto opened = open_output_file(path.string(), false, nullptr);
    EXPECT_FALSE(opened.fd);
    EXPECT_EQ(opened.error, ENXIO);
    ::close(listening);
}

TEST_F(output_file, a_fifo_waits_for_its_reader_until_a_stop)
{
    const auto path = scratch_ / "events.fifo";
    ASSERT_EQ(::mkfifo(path.c_str(), 0600), 0);
    const stop_request stop;
    std::thread stopper([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(120));
        ::kill(::getpid(), SIGTERM);
    });
    const auto stopped = open_output_file(path.string(), false, &stop);
    stopper.join();
    EXPECT_FALSE(stopped.fd);
    EXPECT_EQ(stopped.error, 0) << "a stop is no failure";

    const int reader = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    ASSERT_GE(reader, 0);
    const auto opened = open_output_file(path.string(), false, nullptr);
    EXPECT_TRUE(opened.fd) << "a FIFO with a reader opens at once";
    ::close(reader);
}

} // namespace
