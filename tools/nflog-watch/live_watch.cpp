#include "live_watch.hpp"

#include "capture_record.hpp"
#include "diagnostic_lines.hpp"
#include "error_reason.hpp"
#include "event_json.hpp"
#include "open_error.hpp"
#include "output_stream.hpp"
#include "pcap_writer.hpp"
#include "reader_watch.hpp"
#include "socket_options.hpp"
#include "stats_line.hpp"
#include "stop_request.hpp"

#include <nflog/inet.hpp>
#include <nflog/socket.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <fcntl.h>

#include <cerrno>
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

class live_watcher {
public:
    live_watcher(const options& opts, int out, std::FILE* diagnostics, const stop_request* stop)
        : opts_(opts), stop_(stop), out_(out), sink_(out, stop), diagnostics_(diagnostics, stop)
    {
        // Room for the longest line (a 127-byte prefix written twice, each
        // byte escaped to at most six, and every other member), so that no
        // event ever grows it.
        line_.reserve(4096);
    }

    int run(const std::function<void()>& inputs_ready)
    {
        // The sockets first: a watch that cannot start touches no file.
        if (const int status = open_sockets(); status != exit_ok)
            return status;
        if (!opts_.pcap_path.empty()) {
            auto opened = pcap_writer::open(opts_.pcap_path, stop_);
            if (opened.error != 0) {
                diagnostics_.problem("cannot write %s: %s", opts_.pcap_path.c_str(), std::strerror(opened.error));
                return exit_cannot_open;
            }
            // Stopped while a FIFO waited for its reader: nothing was written.
            if (!opened.writer)
                return finish();
            pcap_.emplace(std::move(*opened.writer));
        }
        if (inputs_ready)
            inputs_ready();
        if (stop_)
            watch_for_stop();

        watch_readers();
        last_activity_ = steady::now();
        for (auto& source : sources_)
            receive(source);
        if (opts_.idle_exit)
            watch_idleness();
        io_.run();
        return finish();
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
                diagnostics_.problem("%s", failure.message.c_str());
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
            if (error != condition::overrun) {
                report_receive_failure(source, error);
                return stop(exit_kernel_error);
            }
            // Events were lost (the kernel dropped a batch, or memory ran out
            // for one here); the socket goes on, and the next batch's
            // sequence numbers say how many went. The reason is written
            // without building a string, which could need the memory that
            // just ran out.
            if (error == errc::kernel_overrun)
                write_problem(overrun_reason, context);
            else
                write_problem(message_error_reason(error, reason_), context);
        } else {
            write_batch(received, context);
        }
        flush_outputs();
        if (!stopping_)
            receive(source);
    }

    // The stop signals' handler wakes the loop through the request's pipe,
    // a signal-safe way in, which no stop ever empties.
    void watch_for_stop()
    {
        const int wake = ::fcntl(stop_->wake_fd(), F_DUPFD_CLOEXEC, 0);
        if (wake < 0)
            throw boost::system::system_error(errno, boost::system::system_category(), "cannot watch the stop signals");
        stop_wake_.assign(wake);
        stop_wake_.async_wait(asio::posix::descriptor_base::wait_read, [this](const boost::system::error_code& error) {
            if (!error)
                stop(exit_ok);
        });
    }

    // A reader that went away stops the watch as a failed write would, also
    // when no event comes to be written.
    void watch_readers()
    {
        events_reader_.start(out_, [this] {
            sink_.reader_gone();
            flush_outputs();
        });
        if (pcap_)
            pcap_reader_.start(pcap_->fd(), [this] {
                pcap_->reader_gone();
                flush_outputs();
            });
    }

    // Whatever stopped the watch (or kept it from starting), what was
    // written reaches its files, and the sockets' counters are final.
    int finish()
    {
        stop(exit_ok);
        flush_outputs();
        if (opts_.stats)
            print_stats();
        return status_;
    }

    void write_batch(const nflog::batch& received, const event_context& context)
    {
        if (received.lost_before() != 0) {
            auto json = begin_error(line_, gap_reason, context);
            // The kernel sends each group's messages in datagrams of their own.
            for (const auto& item : received)
                if (item) {
                    json.number("group", item.assume_value().group());
                    break;
                }
            json.number("lost", received.lost_before());
            json.close();
            sink_.write_line(line_, false);
        }
        if (received.truncated())
            write_problem(truncated_reason, context);
        std::size_t packets_seen = 0;
        for (const auto& item : received) {
            if (!item) {
                write_message_error(line_, item.error(), context, std::nullopt, reason_);
                sink_.write_line(line_, false);
                continue;
            }
            const auto& packet = item.assume_value();
            ++packets_seen;
            const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
            write_event(line_, packet, flow, context);
            sink_.write_line(line_, true);
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
        sink_.write_line(line_, false);
    }

    void report_receive_failure(const watched_namespace& source, const boost::system::error_code& error)
    {
        const std::string where = source.label.empty() ? std::string() : "network namespace " + source.label + ": ";
        diagnostics_.problem("%sreceiving failed: %s", where.c_str(), error.message().c_str());
    }

    void flush_outputs()
    {
        const bool events_written = sink_.flush();
        const bool packets_written = !pcap_ || pcap_->flush();
        if ((events_written && packets_written) || output_failure_reported_)
            return;
        output_failure_reported_ = true;
        if (!events_written)
            report_output_failure(opts_.output_path.empty() ? "the events" : opts_.output_path,
                                  sink_.failure_reason("events"));
        else
            report_output_failure(opts_.pcap_path, pcap_->failure_reason());
        stop(exit_output_failed);
    }

    void report_output_failure(const std::string& what, const std::string& reason)
    {
        diagnostics_.problem("cannot write %s: %s", what.c_str(), reason.c_str());
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
        stop_wake_.cancel(ignored);
        idle_timer_.cancel();
        events_reader_.cancel();
        pcap_reader_.cancel();
        for (auto& source : sources_)
            source.socket.close(); // unbinds its groups; a pending receive completes as aborted
    }

    void print_stats()
    {
        watch_totals totals;
        // A line that never reached its reader is no event written.
        totals.events = events_ - sink_.events_dropped();
        totals.discarded = unwritten_ + sink_.events_dropped();
        for (const auto& source : sources_)
            totals.add(source.socket.stats());
        write_stats(line_, totals);
        diagnostics_.line(line_);
    }

    const options& opts_;
    const stop_request* stop_;
    int out_;
    asio::io_context io_{1};
    asio::posix::stream_descriptor stop_wake_{io_};
    asio::steady_timer idle_timer_{io_};
    // A deque: receive handlers hold references to its elements.
    std::deque<watched_namespace> sources_;
    output_stream sink_;
    std::optional<pcap_writer> pcap_;
    reader_watch events_reader_{io_};
    reader_watch pcap_reader_{io_};
    diagnostic_lines diagnostics_;
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

int watch_live(const options& opts, int out, std::FILE* diagnostics, const std::function<void()>& inputs_ready,
               const stop_request* stop)
{
    live_watcher watcher(opts, out, diagnostics, stop);
    return watcher.run(inputs_ready);
}

} // namespace nflog::watch
