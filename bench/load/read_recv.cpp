// The floor: a hand-written recv() loop over a raw netfilter netlink socket,
// with libmnl only to build the one configuration message. It walks each
// datagram once, reads the prefix, sequence number and payload of every
// packet, and does nothing else. Its kernel settings are fixed (no
// adaptation), given on the command line.

#include "args.hpp"
#include "phased_run.hpp"
#include "reader_tally.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace nflog::load;

struct settings {
    std::uint16_t group = 0;
    std::uint32_t qthresh = 0;
    std::uint32_t nlbufsiz = 0;
    std::uint32_t timeout_cs = 0;
    int rcvbuf = 0;
};

void bind_group(mnl_socket* nl, const settings& s)
{
    std::vector<char> buffer(MNL_SOCKET_BUFFER_SIZE);
    auto* header = mnl_nlmsg_put_header(buffer.data());
    header->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    header->nlmsg_seq = 1;
    auto* generic = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
    generic->nfgen_family = AF_UNSPEC;
    generic->version = NFNETLINK_V0;
    generic->res_id = htons(s.group);
    const nfulnl_msg_config_cmd cmd{NFULNL_CFG_CMD_BIND};
    mnl_attr_put(header, NFULA_CFG_CMD, sizeof cmd, &cmd);
    nfulnl_msg_config_mode mode{};
    mode.copy_range = htonl(0xffff);
    mode.copy_mode = NFULNL_COPY_PACKET;
    mnl_attr_put(header, NFULA_CFG_MODE, sizeof mode, &mode);
    mnl_attr_put_u32(header, NFULA_CFG_QTHRESH, htonl(s.qthresh));
    mnl_attr_put_u32(header, NFULA_CFG_NLBUFSIZ, htonl(s.nlbufsiz));
    mnl_attr_put_u32(header, NFULA_CFG_TIMEOUT, htonl(s.timeout_cs));
    mnl_attr_put_u16(header, NFULA_CFG_FLAGS, htons(NFULNL_CFG_F_SEQ));
    if (mnl_socket_sendto(nl, header, header->nlmsg_len) < 0)
        throw std::runtime_error(std::string("send: ") + std::strerror(errno));
    const auto got = mnl_socket_recvfrom(nl, buffer.data(), buffer.size());
    if (got < 0 || mnl_cb_run(buffer.data(), static_cast<std::size_t>(got), 1, mnl_socket_get_portid(nl), nullptr,
                              nullptr) < 0)
        throw std::runtime_error(std::string("bind: ") + std::strerror(errno));
}

class plain_reader {
public:
    explicit plain_reader(reader_tally& tally) : tally_(tally) {}

    void datagram(const char* data, std::size_t length)
    {
        const auto now = tally_.datagram_arrived();
        auto remaining = static_cast<int>(length);
        for (auto* message = reinterpret_cast<const nlmsghdr*>(data); mnl_nlmsg_ok(message, remaining);
             message = mnl_nlmsg_next(message, &remaining)) {
            if (message->nlmsg_type == ((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET))
                packet(message, now);
        }
    }

private:
    void packet(const nlmsghdr* message, std::uint64_t now)
    {
        std::span<const std::byte> payload;
        std::size_t prefix = 0;
        const auto* end = reinterpret_cast<const char*>(message) + message->nlmsg_len;
        for (auto* attribute = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(message, sizeof(nfgenmsg)));
             mnl_attr_ok(attribute, static_cast<int>(end - reinterpret_cast<const char*>(attribute)));
             attribute = mnl_attr_next(attribute)) {
            switch (mnl_attr_get_type(attribute)) {
            case NFULA_PREFIX: prefix = mnl_attr_get_payload_len(attribute); break;
            case NFULA_PAYLOAD:
                payload = {static_cast<const std::byte*>(mnl_attr_get_payload(attribute)),
                           mnl_attr_get_payload_len(attribute)};
                break;
            case NFULA_SEQ: gap(ntohl(mnl_attr_get_u32(attribute))); break;
            default: break;
            }
        }
        tally_.event(read_stamp(payload), prefix, now);
    }

    void gap(std::uint32_t sequence)
    {
        const std::uint32_t skipped = sequence - next_;
        if (skipped < 0x80000000u)
            tally_.lost += skipped;
        next_ = sequence + 1;
    }

    reader_tally& tally_;
    std::uint32_t next_ = 0;
};

} // namespace

int main(int argc, char** argv)
{
    try {
        const args options(argc, argv);
        settings s;
        s.group = static_cast<std::uint16_t>(options.number("group", 7));
        s.qthresh = static_cast<std::uint32_t>(options.number("qthresh", 256));
        s.nlbufsiz = static_cast<std::uint32_t>(options.number("nlbufsiz", 65536));
        s.timeout_cs = static_cast<std::uint32_t>(options.number("timeout-cs", 1));
        s.rcvbuf = static_cast<int>(options.number("rcvbuf", 8u << 20));
        phased_run run(options, "recv");
        options.reject_unused();

        mnl_socket* nl = mnl_socket_open(NETLINK_NETFILTER);
        if (nl == nullptr || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0)
            throw std::runtime_error(std::string("netlink: ") + std::strerror(errno));
        const int fd = mnl_socket_get_fd(nl);
        if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &s.rcvbuf, sizeof s.rcvbuf) != 0)
            throw std::runtime_error(std::string("SO_RCVBUFFORCE: ") + std::strerror(errno));
        bind_group(nl, s);

        plain_reader reader(run.tally);
        // Large enough for the biggest datagram the kernel builds from a
        // 128 KiB nlbufsiz after its allocator rounds up.
        std::vector<char> buffer(512 * 1024);
        run.start();
        while (run.check()) {
            pollfd waiting{fd, POLLIN, 0};
            if (::poll(&waiting, 1, 100) <= 0)
                continue;
            for (;;) {
                const auto got = ::recv(fd, buffer.data(), buffer.size(), MSG_DONTWAIT);
                if (got > 0) {
                    reader.datagram(buffer.data(), static_cast<std::size_t>(got));
                    continue;
                }
                if (got < 0 && errno == ENOBUFS) {
                    ++run.tally.overruns;
                    continue;
                }
                break;
            }
        }
        mnl_socket_close(nl);
        return 0;
    }
    catch (const std::exception& failure) {
        std::fprintf(stderr, "nflog_load_recv: %s\n", failure.what());
        return 2;
    }
}
