#include "diagnostic_lines.hpp"
#include "live_watch.hpp"
#include "options.hpp"
#include "output_file.hpp"
#include "read_capture.hpp"
#include "stats_line.hpp"
#include "stop_request.hpp"
#include "unique_fd.hpp"

#include <boost/system/system_error.hpp>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <new>
#include <span>
#include <string>
#include <system_error>
#include <utility>

namespace {

using namespace nflog::watch;

int run(const options& opts)
{
    // Before anything can wait: a stop must end every wait (see stop_request).
    const stop_request stop;
    int out = STDOUT_FILENO;
    unique_fd output_file;
    if (!opts.output_path.empty()) {
        // Created if need be but not emptied yet: that waits until the
        // inputs are known to work, so that a run that cannot start keeps an
        // earlier run's events.
        auto opened = open_output_file(opts.output_path, false, &stop);
        if (opened.error != 0) {
            diagnostic_lines(stderr, &stop).problem("cannot write %s: %s", opts.output_path.c_str(),
                                                    std::strerror(opened.error));
            return exit_cannot_open;
        }
        // Stopped while a FIFO waited for its reader: nothing was watched.
        if (!opened.fd) {
            if (opts.watching() && opts.stats) {
                std::string counters;
                write_stats(counters, {});
                diagnostic_lines(stderr, &stop).line(counters);
            }
            return exit_ok;
        }
        output_file = std::move(opened.fd);
        out = output_file.get();
    }
    const auto replace_output = [&output_file] {
        // Fails (EINVAL) only where there is nothing to empty: a FIFO, a device.
        if (output_file) {
            [[maybe_unused]] const int emptied = ::ftruncate(output_file.get(), 0);
        }
    };
    int status = exit_ok;
    if (opts.watching()) {
        // A reader that goes away must not kill the watcher before it has
        // unbound its groups and printed its counters: writing fails instead.
        std::signal(SIGPIPE, SIG_IGN);
        status = watch_live(opts, out, stderr, replace_output, &stop);
    } else {
        status = read_capture(opts, out, stderr, replace_output, &stop);
    }
    if (output_file) {
        if (const int error = output_file.close(); error != 0 && status == exit_ok) {
            diagnostic_lines(stderr, &stop).problem("cannot write %s: %s", opts.output_path.c_str(),
                                                    std::strerror(error));
            status = exit_output_failed;
        }
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
