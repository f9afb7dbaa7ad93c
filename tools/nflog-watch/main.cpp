#include "live_watch.hpp"
#include "options.hpp"
#include "read_capture.hpp"
#include "stop_signals.hpp"

#include <boost/system/system_error.hpp>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <system_error>

namespace {

using namespace nflog::watch;

// Big enough for a full kernel batch of lines, so that the flush after each
// batch is one write. Given to setvbuf: glibc ignores the size when it is
// left to allocate the buffer itself. Static, because the stream (stdout)
// outlives `run`.
char output_buffer[1 << 17];

// The --output file, created if need be but not emptied yet: that waits
// until the inputs are known to work, so that a run that cannot start keeps
// an earlier run's events.
std::FILE* open_output(const std::string& path)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0)
        return nullptr;
    std::FILE* out = ::fdopen(fd, "w");
    if (!out)
        ::close(fd);
    return out;
}

int run(const options& opts)
{
    std::FILE* out = stdout;
    if (!opts.output_path.empty()) {
        out = open_output(opts.output_path);
        if (!out) {
            std::fprintf(stderr, "nflog-watch: cannot write %s: %s\n", opts.output_path.c_str(), std::strerror(errno));
            return exit_cannot_open;
        }
    }
    const auto replace_output = [out] {
        // Fails (EINVAL) only where there is nothing to empty: a FIFO, a device.
        if (out != stdout) {
            [[maybe_unused]] const int emptied = ::ftruncate(::fileno(out), 0);
        }
    };
    int status = exit_ok;
    if (opts.watching()) {
        // A reader that goes away must not kill the watcher before it has
        // unbound its groups and printed its counters: writing fails instead.
        std::signal(SIGPIPE, SIG_IGN);
        // A terminal would otherwise get one write per line.
        std::setvbuf(out, output_buffer, _IOFBF, sizeof output_buffer);
        status = watch_live(opts, out, stderr, replace_output);
    } else {
        const stop_signals stop;
        status = read_capture(opts, out, stderr, replace_output, &stop);
    }
    if (out != stdout && std::fclose(out) != 0 && status == exit_ok) {
        std::fprintf(stderr, "nflog-watch: cannot write %s: %s\n", opts.output_path.c_str(), std::strerror(errno));
        status = exit_output_failed;
    }
    return status;
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const std::span<const char* const> arguments(argv + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0);
        const auto parsed = parse_options(arguments);
        if (!parsed.error.empty()) {
            std::fprintf(stderr, "nflog-watch: %s (see --help)\n", parsed.error.c_str());
            return exit_usage;
        }
        if (parsed.values.help) {
            const auto text = help_text();
            // A write that failed inside fwrite leaves nothing for fflush to
            // report: ferror keeps it.
            errno = 0;
            std::fwrite(text.data(), 1, text.size(), stdout);
            if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
                std::fprintf(stderr, "nflog-watch: cannot write the help: %s\n", std::strerror(errno != 0 ? errno : EIO));
                return exit_output_failed;
            }
            return exit_ok;
        }
        return run(parsed.values);
    } catch (const std::bad_alloc&) {
        std::fputs("nflog-watch: out of memory\n", stderr);
        return exit_out_of_memory;
    } catch (const boost::system::system_error& failure) {
        // Asio's own setup (its epoll and signal descriptors) throws when the
        // system refuses, for example with no descriptor left.
        std::fprintf(stderr, "nflog-watch: %s\n", failure.what());
        return exit_kernel_error;
    } catch (const std::system_error& failure) {
        // The standard library's equivalent (a thread that cannot start).
        std::fprintf(stderr, "nflog-watch: %s\n", failure.what());
        return exit_kernel_error;
    }
}
