// libnetfilter_log, used the way its documentation and most programs use
// it: nflog_open, nflog_bind_group, nflog_set_mode(COPY_PACKET, 0xffff), a
// callback, and a recv() + nflog_handle_packet loop. Kernel batching stays
// at the kernel's defaults (qthresh 100, flush timeout 1 s, nlbufsiz one
// page) unless the command line sets it; the socket buffer is raised to
// the same 8 MiB this library asks for, so neither overflows for want of
// room. nflog_bind_pf is never called: it would change the namespace's
// default logger, and group delivery does not need it.

#include "args.hpp"
#include "phased_run.hpp"
#include "reader_tally.hpp"

extern "C" {
#include <libnetfilter_log/libnetfilter_log.h>
#include <libnfnetlink/libnfnetlink.h>
}

#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace nflog::load;

struct callback_context {
    reader_tally* tally = nullptr;
    std::uint64_t now = 0;
};

int on_packet(nflog_g_handle*, nfgenmsg*, nflog_data* data, void* opaque)
{
    auto& context = *static_cast<callback_context*>(opaque);
    char* payload = nullptr;
    const int length = nflog_get_payload(data, &payload);
    const char* prefix = nflog_get_prefix(data);
    const std::size_t prefix_length = prefix != nullptr ? std::strlen(prefix) : 0;
    std::optional<stamp> sent;
    if (length > 0)
        sent = read_stamp({reinterpret_cast<const std::byte*>(payload), static_cast<std::size_t>(length)});
    context.tally->event(sent, prefix_length, context.now);
    return 0;
}

void require(bool ok, const char* what)
{
    if (!ok)
        throw std::runtime_error(std::string(what) + ": " + std::strerror(errno));
}

} // namespace

int main(int argc, char** argv)
{
    try {
        const args options(argc, argv);
        const auto group = static_cast<std::uint16_t>(options.number("group", 7));
        const auto rcvbuf = static_cast<std::uint32_t>(options.number("rcvbuf", 8u << 20));
        const bool set_qthresh = options.has("qthresh");
        const auto qthresh = static_cast<std::uint32_t>(options.number("qthresh", 0));
        const bool set_nlbufsiz = options.has("nlbufsiz");
        const auto nlbufsiz = static_cast<std::uint32_t>(options.number("nlbufsiz", 0));
        const bool set_timeout = options.has("timeout-cs");
        const auto timeout = static_cast<std::uint32_t>(options.number("timeout-cs", 0));
        phased_run run(options, "libnetfilter_log");
        options.reject_unused();

        nflog_handle* handle = nflog_open();
        require(handle != nullptr, "nflog_open");
        nfnl_rcvbufsiz(nflog_nfnlh(handle), rcvbuf);
        nflog_g_handle* bound = nflog_bind_group(handle, group);
        require(bound != nullptr, "nflog_bind_group");
        require(nflog_set_mode(bound, NFULNL_COPY_PACKET, 0xffff) == 0, "nflog_set_mode");
        if (set_qthresh)
            require(nflog_set_qthresh(bound, qthresh) == 0, "nflog_set_qthresh");
        if (set_nlbufsiz)
            require(nflog_set_nlbufsiz(bound, nlbufsiz) == 0, "nflog_set_nlbufsiz");
        if (set_timeout)
            require(nflog_set_timeout(bound, timeout) == 0, "nflog_set_timeout");
        callback_context context{&run.tally, 0};
        nflog_callback_register(bound, &on_packet, &context);

        const int fd = nflog_fd(handle);
        std::vector<char> buffer(512 * 1024);
        run.start();
        while (run.check()) {
            pollfd waiting{fd, POLLIN, 0};
            if (::poll(&waiting, 1, 100) <= 0)
                continue;
            for (;;) {
                const auto got = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
                if (got > 0) {
                    context.now = run.tally.datagram_arrived();
                    nflog_handle_packet(handle, buffer.data(), static_cast<int>(got));
                    continue;
                }
                if (got < 0 && errno == ENOBUFS) {
                    ++run.tally.overruns;
                    continue;
                }
                break;
            }
        }
        nflog_unbind_group(bound);
        nflog_close(handle);
        return 0;
    }
    catch (const std::exception& failure) {
        std::fprintf(stderr, "nflog_load_libnfl: %s\n", failure.what());
        return 2;
    }
}
