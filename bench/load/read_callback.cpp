// This library, read the plainest Asio way: a completion handler that
// starts the next receive.

#include "library_reader.hpp"
#include "phased_run.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace {

using namespace nflog::load;
namespace net = boost::asio;

class callback_reader {
public:
    callback_reader(nflog::socket& socket, std::uint16_t group, phased_run& run, std::uint64_t work_ns)
        : socket_(socket), group_(group), run_(run), timer_(socket.get_executor()), work_ns_(work_ns)
    {
    }

    void start()
    {
        receive();
        check();
    }

private:
    void receive()
    {
        socket_.async_receive([this](boost::system::error_code error, nflog::batch received) {
            if (!error)
                take_batch(received, run_.tally, work_ns_);
            else if (error == nflog::errc::kernel_overrun)
                ++run_.tally.overruns;
            else if (error != nflog::condition::overrun) // a datagram lost for memory: its gap comes later
                return;
            receive();
        });
    }

    // The stop condition is looked at ten times a second, by every reader alike.
    void check()
    {
        timer_.expires_after(std::chrono::milliseconds(100));
        timer_.async_wait([this](boost::system::error_code error) {
            if (error)
                return;
            const bool go_on = run_.check([this](const reader_tally& phase, const phased_run::totals& before) {
                return library_note(socket_, group_, phase, before);
            });
            if (!go_on)
                return socket_.cancel();
            check();
        });
    }

    nflog::socket& socket_;
    std::uint16_t group_;
    phased_run& run_;
    net::steady_timer timer_;
    std::uint64_t work_ns_;
};

} // namespace

int main(int argc, char** argv)
{
    try {
        const args options(argc, argv);
        const auto opts = library_options(options);
        phased_run run(options, "nflog-callback");
        const auto work_ns = options.number("work-ns", 0);
        options.reject_unused();

        net::io_context io(1);
        auto opened = nflog::socket::open(io, opts);
        if (!opened) {
            std::fprintf(stderr, "nflog_load_callback: %s\n", opened.error().message().c_str());
            return 1;
        }
        auto socket = std::move(opened).value();
        callback_reader reader(socket, opts.groups.front(), run, work_ns);
        run.start();
        reader.start();
        io.run();
        return 0;
    }
    catch (const std::exception& failure) {
        std::fprintf(stderr, "nflog_load_callback: %s\n", failure.what());
        return 2;
    }
}
