// A bounded UDP flood whose every packet carries a CLOCK_MONOTONIC stamp.
// Run inside the benchmark's namespace; a `log group N drop` rule turns each
// packet into one NFLOG event. Stops at --count packets or after --seconds,
// whichever comes first, and prints "sent,refused,elapsed_ns".
// Paced by --rate (packets per second), or in bursts: --burst N packets as
// fast as the kernel takes them at the start of every --period-ms.

#include "args.hpp"
#include "stamp.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <vector>

namespace {

using nflog::load::monotonic_ns;

struct plan {
    sockaddr_in target{};
    std::uint64_t rate = 0; // packets per second, 0 = as fast as the kernel takes them
    std::uint64_t burst = 0; // packets per period, 0 = no bursts
    std::uint64_t period_ns = 0;
    std::uint64_t count = 0;
    std::uint64_t duration_ns = 0;
    std::uint32_t sender = 0;
    std::size_t batch = 0;
    std::size_t size = 0;
    // The stamp's low 32 bits also go into the packet mark, for readers that
    // see the mark but not the payload.
    bool mark = true;
};

struct outcome {
    std::uint64_t sent = 0;
    std::uint64_t refused = 0;
    std::uint64_t elapsed_ns = 0;
};

class flood {
public:
    flood(int fd, const plan& p)
        : fd_(fd), plan_(p), payloads_(p.batch * p.size), iov_(p.batch), controls_(p.batch), messages_(p.batch)
    {
        for (std::size_t i = 0; i < p.batch; ++i) {
            iov_[i].iov_base = payloads_.data() + i * p.size;
            iov_[i].iov_len = p.size;
            auto& header = messages_[i].msg_hdr;
            header.msg_name = &plan_.target;
            header.msg_namelen = sizeof plan_.target;
            header.msg_iov = &iov_[i];
            header.msg_iovlen = 1;
            if (p.mark) {
                header.msg_control = controls_[i].bytes;
                header.msg_controllen = sizeof controls_[i].bytes;
                auto* cmsg = CMSG_FIRSTHDR(&header);
                cmsg->cmsg_level = SOL_SOCKET;
                cmsg->cmsg_type = SO_MARK;
                cmsg->cmsg_len = CMSG_LEN(sizeof(std::uint32_t));
            }
        }
    }

    outcome run()
    {
        const auto start = monotonic_ns();
        const auto stop = start + plan_.duration_ns;
        outcome out;
        for (auto now = start; out.sent + out.refused < plan_.count && now < stop; now = monotonic_ns()) {
            const auto done = out.sent + out.refused;
            std::uint64_t due = plan_.count - done;
            if (plan_.burst != 0) {
                const auto owed = ((now - start) / plan_.period_ns + 1) * plan_.burst;
                if (owed <= done) {
                    sleep_until(start + done / plan_.burst * plan_.period_ns);
                    continue;
                }
                due = std::min(due, owed - done);
            }
            else if (plan_.rate != 0) {
                // No overflow: rate <= 1e7 per second and a run <= 600 s keep the product below 2^63.
                const auto owed = (now - start) * plan_.rate / 1'000'000'000u;
                if (owed <= done) {
                    sleep_until(start + (done + 1) * 1'000'000'000u / plan_.rate);
                    continue;
                }
                due = std::min(due, owed - done);
            }
            send(static_cast<std::size_t>(std::min<std::uint64_t>(due, batch_)), done, out);
        }
        out.elapsed_ns = monotonic_ns() - start;
        return out;
    }

private:
    void send(std::size_t n, std::uint64_t first, outcome& out)
    {
        const auto now = monotonic_ns();
        for (std::size_t i = 0; i < n; ++i) {
            const nflog::load::stamp value{plan_.sender, static_cast<std::uint32_t>(first + i), now};
            nflog::load::write_stamp(std::span<std::byte, nflog::load::stamp_size>(
                                         payloads_.data() + i * plan_.size, nflog::load::stamp_size),
                                     value);
            if (plan_.mark) {
                // The kernel leaves out a zero mark; 1 ns of error is harmless.
                const std::uint32_t mark = std::max<std::uint32_t>(static_cast<std::uint32_t>(now), 1);
                std::memcpy(CMSG_DATA(CMSG_FIRSTHDR(&messages_[i].msg_hdr)), &mark, sizeof mark);
            }
        }
        const int accepted = ::sendmmsg(fd_, messages_.data(), static_cast<unsigned>(n), 0);
        if (accepted > 0) {
            out.sent += static_cast<std::uint64_t>(accepted);
            return;
        }
        // sendmmsg stops at the first failure. A drop on the output hook
        // answers EPERM after the rule has logged the packet, so the packet
        // counts as sent; anything else is a refusal, counted so the loop
        // still ends.
        // Such a drop ends every call after one packet: preparing more
        // would only slow the sender down.
        if (errno == EPERM) {
            ++out.sent;
            batch_ = 1;
        }
        else if (errno != EINTR)
            ++out.refused;
    }

    static void sleep_until(std::uint64_t deadline_ns)
    {
        timespec at{};
        at.tv_sec = static_cast<time_t>(deadline_ns / 1'000'000'000u);
        at.tv_nsec = static_cast<long>(deadline_ns % 1'000'000'000u);
        ::clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, nullptr);
    }

    int fd_;
    plan plan_;
    std::size_t batch_ = plan_.batch;
    std::vector<std::byte> payloads_;
    std::vector<iovec> iov_;
    struct control {
        alignas(cmsghdr) unsigned char bytes[CMSG_SPACE(sizeof(std::uint32_t))];
    };
    std::vector<control> controls_;
    std::vector<mmsghdr> messages_;
};

} // namespace

int main(int argc, char** argv)
{
    try {
        const nflog::load::args options(argc, argv);
        plan p;
        p.target.sin_family = AF_INET;
        p.target.sin_port = htons(static_cast<std::uint16_t>(options.number("port", 7777)));
        const auto address = options.text("dst", "127.0.0.1");
        if (::inet_pton(AF_INET, address.c_str(), &p.target.sin_addr) != 1)
            throw std::invalid_argument("--dst needs an IPv4 address");
        p.rate = std::min<std::uint64_t>(options.number("rate", 0), 10'000'000);
        p.burst = std::min<std::uint64_t>(options.number("burst", 0), 10'000'000);
        p.period_ns = std::clamp<std::uint64_t>(options.number("period-ms", 100), 1, 60'000) * 1'000'000u;
        if (p.burst != 0 && p.rate != 0)
            throw std::invalid_argument("--burst and --rate exclude each other");
        p.count = options.number("count", 100000);
        p.duration_ns = std::min<std::uint64_t>(options.number("seconds", 10), 600) * 1'000'000'000u;
        p.sender = static_cast<std::uint32_t>(options.number("sender", 0));
        p.batch = std::clamp<std::size_t>(options.number("batch", 64), 1, 1024);
        p.size = std::clamp<std::size_t>(options.number("size", nflog::load::stamp_size), nflog::load::stamp_size,
                                         1400);
        p.mark = options.number("mark", 1) != 0;
        options.reject_unused();

        // Default timer slack (50 us) would bunch a paced flood into bursts.
        ::prctl(PR_SET_TIMERSLACK, 1UL, 0UL, 0UL, 0UL);
        const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
        const auto out = flood(fd, p).run();
        ::close(fd);
        std::printf("%llu,%llu,%llu\n", static_cast<unsigned long long>(out.sent),
                    static_cast<unsigned long long>(out.refused), static_cast<unsigned long long>(out.elapsed_ns));
        return 0;
    }
    catch (const std::exception& failure) {
        std::fprintf(stderr, "nflog_load_flood: %s\n", failure.what());
        return 2;
    }
}
