#include "live_watch.hpp"

#include "capture_record.hpp"
#include "error_reason.hpp"
#include "event_json.hpp"
#include "line_sink.hpp"
#include "open_error.hpp"
#include "pcap_writer.hpp"
#include "socket_options.hpp"
#include "stats_line.hpp"
#include "stop_signals.hpp"

#include <nflog/inet.hpp>
#include <nflog/socket.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <signal.h>

#include <csignal>
#include <cstring>
#include <deque>
#include <optional>
#include <string>

namespace nflog::watch {
namespace {

namespace asio = boost::asio;
using steady = std::chrono::steady_clock;

// The reasons of the error lines the receive loop writes itself.
constexpr std::string_view overrun_reason = "kernel dropped NFLOG messages (receive buffer overrun)";
constexpr std::string_view gap_reason = "NFLOG sequence gap: messages were lost";
constexpr std::string_view truncated_reason = "netlink datagram larger than the receive buffer";

struct watched_namespace {
    std::string label; ///< as given on the command line; empty: this namespace
    nflog::socket socket;
};

// Asio installs its signal handler without SA_RESTART: a signal that
// arrives while a write to a slow reader blocks would make that write fail
// with EINTR, and stdio would drop the buffered lines (the tool would then
// print a cut line and exit with an output error). With SA_RESTART the
// write goes on, and the signal stops the watch once it is done.
void restart_interrupted_calls(int signal_number) noexcept
{
    struct sigaction installed {};
    if (::sigaction(signal_number, nullptr, &installed) != 0)
        return;
    installed.sa_flags |= SA_RESTART;
    ::sigaction(signal_number, &installed, nullptr);
}

class live_watcher {
public:
    live_watcher(const options& opts, std::FILE* out, std::FILE* diagnostics)
        : opts_(opts), sink_(out), diagnostics_(diagnostics)
    {
        // Room for the longest line (a 127-byte prefix written twice, each
        // byte escaped to at most six, and every other member), so that no
        // event ever grows it.
        line_.reserve(4096);
    }

    int run(const std::function<void()>& inputs_ready)
    {
        // Registered before any group is bound: a signal that arrives while
        // the sockets open waits for the loop and stops it at once.
        // Only those not ignored: Asio would install its handler regardless.
        const auto taken = stop_signals_not_ignored();
        for (const int stop_signal : {SIGINT, SIGTERM}) {
            if (::sigismember(&taken, stop_signal) != 1)
                continue;
            signals_.add(stop_signal);
            restart_interrupted_calls(stop_signal);
        }
        // A mask that blocked them when the tool started (a supervisor's,
        // leaked into what it starts) would keep them pending for good.
        // Unblocked only once handled: one pending since then stops the
        // loop as soon as it runs.
        ::pthread_sigmask(SIG_UNBLOCK, &taken, nullptr);
        signals_.async_wait([this](const boost::system::error_code& error, int) {
            if (!error)
                stop(exit_ok);
        });
        // The sockets first: a watch that cannot start touches no file.
        if (const int status = open_sockets(); status != exit_ok)
            return status;
        if (!opts_.pcap_path.empty()) {
            std::string problem;
            pcap_ = pcap_writer::open(opts_.pcap_path, problem);
            if (!pcap_) {
                // libpcap's reason names the file: name it once.
                std::string_view reason = problem;
                if (const auto named = opts_.pcap_path + ": "; reason.starts_with(named))
                    reason.remove_prefix(named.size());
                std::fprintf(diagnostics_, "nflog-watch: cannot write %s: %.*s\n", opts_.pcap_path.c_str(),
                             static_cast<int>(reason.size()), reason.data());
                return exit_cannot_open;
            }
        }
        if (inputs_ready)
            inputs_ready();

        last_activity_ = steady::now();
        for (auto& source : sources_)
            receive(source);
        if (opts_.idle_exit)
            watch_idleness();
        io_.run();

        // Whatever stopped the loop, what was written reaches its files.
        flush_outputs();
        if (opts_.stats)
            print_stats();
        return status_;
    }

private:
    int open_sockets()
    {
        const std::vector<std::string> here{std::string()};
        for (const auto& label : opts_.netns.empty() ? here : opts_.netns) {
            const auto settings = socket_options(opts_, label);
            std::string diagnostic;
            auto opened = nflog::socket::open(io_, settings, &diagnostic);
            if (!opened) {
                std::optional<std::uint16_t> busy;
                if (opened.error() == errc::group_busy)
                    busy = find_busy_group(settings);
                const auto failure = describe_open_error(opened.error(), label, opts_.groups, busy, diagnostic);
                std::fprintf(diagnostics_, "nflog-watch: %s\n", failure.message.c_str());
                return failure.status;
            }
            sources_.push_back({label, std::move(opened).value()});
        }
        return exit_ok;
    }

    // The kernel says only "busy" for the whole bind; trying the groups one
    // by one names the culprit (each free one is bound and released again).
    std::optional<std::uint16_t> find_busy_group(nflog::options settings)
    {
        if (settings.groups.size() < 2)
            return std::nullopt;
        const auto groups = settings.groups;
        for (const auto group : groups) {
            settings.groups = {group};
            const auto opened = nflog::socket::open(io_, settings);
            if (!opened && opened.error() == errc::group_busy)
                return group;
        }
        return std::nullopt;
    }

    void receive(watched_namespace& source)
    {
        source.socket.async_receive([this, &source](const boost::system::error_code& error, nflog::batch received) {
            handle(source, error, std::move(received));
        });
    }

    void handle(watched_namespace& source, const boost::system::error_code& error, const nflog::batch& received)
    {
        // A receive that had taken its datagram before the stop still
        // delivers it; the socket's close() did not see those events.
        if (stopping_) {
            unwritten_ += received.packet_count();
            return;
        }
        last_activity_ = steady::now();
        event_context context;
        context.fallback_time = std::chrono::system_clock::now();
        context.fallback_source = time_source::local;
        context.container = opts_.container;
        if (!opts_.netns.empty())
            context.netns = source.label;

        if (error) {
            if (error != errc::kernel_overrun) {
                report_receive_failure(source, error);
                return stop(exit_kernel_error);
            }
            // The kernel dropped a batch; the socket goes on, and the next
            // batch's sequence numbers say how many events went with it.
            write_problem(overrun_reason, context);
        } else {
            write_batch(received, context);
        }
        flush_outputs();
        if (!stopping_)
            receive(source);
    }

    void write_batch(const nflog::batch& received, const event_context& context)
    {
        if (received.lost_before() != 0) {
            auto json = begin_error(line_, gap_reason, context);
            json.number("lost", received.lost_before());
            json.close();
            sink_.write(line_);
        }
        if (received.truncated())
            write_problem(truncated_reason, context);
        std::size_t packets_seen = 0;
        for (const auto& item : received) {
            if (!item) {
                write_message_error(line_, item.error(), context, std::nullopt, reason_);
                sink_.write(line_);
                continue;
            }
            const auto& packet = item.assume_value();
            ++packets_seen;
            const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
            write_event(line_, packet, flow, context);
            sink_.write(line_);
            if (pcap_)
                pcap_->write(nflog_record_of(packet), packet.timestamp().value_or(context.fallback_time));
            if (++events_ == opts_.count) {
                unwritten_ += received.packet_count() - packets_seen;
                stop(exit_ok);
                break;
            }
        }
    }

    void write_problem(std::string_view reason, const event_context& context)
    {
        begin_error(line_, reason, context).close();
        sink_.write(line_);
    }

    void report_receive_failure(const watched_namespace& source, const boost::system::error_code& error)
    {
        const std::string where = source.label.empty() ? std::string() : "network namespace " + source.label + ": ";
        std::fprintf(diagnostics_, "nflog-watch: %sreceiving failed: %s\n", where.c_str(), error.message().c_str());
    }

    void flush_outputs()
    {
        const bool events_written = sink_.flush();
        const bool packets_written = !pcap_ || pcap_->flush();
        if ((events_written && packets_written) || output_failure_reported_)
            return;
        output_failure_reported_ = true;
        if (!events_written)
            std::fprintf(diagnostics_, "nflog-watch: cannot write %s: %s\n",
                         opts_.output_path.empty() ? "the events" : opts_.output_path.c_str(),
                         std::strerror(sink_.error()));
        else
            std::fprintf(diagnostics_, "nflog-watch: cannot write %s: %s\n", opts_.pcap_path.c_str(),
                         std::strerror(pcap_->error()));
        stop(exit_output_failed);
    }

    void watch_idleness()
    {
        idle_timer_.expires_at(last_activity_ + *opts_.idle_exit);
        idle_timer_.async_wait([this](const boost::system::error_code& error) {
            if (error || stopping_)
                return;
            // Batches move last_activity_ on without touching the timer:
            // re-arming it once per batch would cost more than this check.
            if (steady::now() - last_activity_ >= *opts_.idle_exit)
                stop(exit_ok);
            else
                watch_idleness();
        });
    }

    // The first status wins, except that a failure replaces a clean stop
    // that has not finished yet (the output failing after --count, say).
    void stop(int status)
    {
        if (status_ == exit_ok)
            status_ = status;
        if (stopping_)
            return;
        stopping_ = true;
        boost::system::error_code ignored;
        signals_.cancel(ignored);
        idle_timer_.cancel();
        for (auto& source : sources_)
            source.socket.close(); // unbinds its groups; a pending receive completes as aborted
    }

    void print_stats()
    {
        watch_totals totals;
        totals.events = events_;
        totals.discarded = unwritten_;
        for (const auto& source : sources_)
            totals.add(source.socket.stats());
        write_stats(line_, totals);
        std::fprintf(diagnostics_, "%s\n", line_.c_str());
        std::fflush(diagnostics_);
    }

    const options& opts_;
    asio::io_context io_{1};
    asio::signal_set signals_{io_};
    asio::steady_timer idle_timer_{io_};
    // A deque: receive handlers hold references to its elements.
    std::deque<watched_namespace> sources_;
    line_sink sink_;
    std::optional<pcap_writer> pcap_;
    std::FILE* diagnostics_;
    std::string line_;
    reason_buffer reason_{};
    std::uint64_t events_ = 0;
    // Events received once --count was reached or the tool was stopping: for
    // `discarded`, with what the sockets' close() counted.
    std::uint64_t unwritten_ = 0;
    steady::time_point last_activity_{};
    bool stopping_ = false;
    bool output_failure_reported_ = false;
    int status_ = exit_ok;
};

} // namespace

int watch_live(const options& opts, std::FILE* out, std::FILE* diagnostics, const std::function<void()>& inputs_ready)
{
    live_watcher watcher(opts, out, diagnostics);
    return watcher.run(inputs_ready);
}

} // namespace nflog::watch
