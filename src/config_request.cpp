#include "nflog/detail/config_request.hpp"

#include "nflog/detail/batching_controller.hpp"

#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink.h>

#include <arpa/inet.h>
#include <sys/socket.h>

namespace nflog::detail {

std::size_t build_config_message(std::span<std::byte> out, const config_request& request, std::uint32_t sequence) noexcept
{
    auto* header = mnl_nlmsg_put_header(out.data());
    header->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG;
    header->nlmsg_flags = NLM_F_REQUEST | (request.acknowledge ? NLM_F_ACK : 0);
    header->nlmsg_seq = sequence;

    auto* generic = static_cast<nfgenmsg*>(mnl_nlmsg_put_extra_header(header, sizeof(nfgenmsg)));
    // The family matters only for PF_BIND, which is never sent.
    generic->nfgen_family = AF_UNSPEC;
    generic->version = NFNETLINK_V0;
    generic->res_id = htons(request.group);

    if (request.cmd != config_request::command::none) {
        const nfulnl_msg_config_cmd cmd{static_cast<std::uint8_t>(request.cmd)};
        mnl_attr_put(header, NFULA_CFG_CMD, sizeof cmd, &cmd);
    }
    if (request.mode) {
        nfulnl_msg_config_mode mode{};
        mode.copy_range = htonl(request.copy_range);
        mode.copy_mode = static_cast<std::uint8_t>(*request.mode);
        mnl_attr_put(header, NFULA_CFG_MODE, sizeof mode, &mode);
    }
    if (request.nlbufsiz)
        mnl_attr_put_u32(header, NFULA_CFG_NLBUFSIZ, htonl(*request.nlbufsiz));
    if (request.timeout_centiseconds)
        mnl_attr_put_u32(header, NFULA_CFG_TIMEOUT, htonl(*request.timeout_centiseconds));
    if (request.queue_threshold)
        mnl_attr_put_u32(header, NFULA_CFG_QTHRESH, htonl(*request.queue_threshold));
    if (request.flags)
        mnl_attr_put_u16(header, NFULA_CFG_FLAGS, htons(*request.flags));
    return header->nlmsg_len;
}

namespace {

// The kernel counts in hundredths of a second; never round a wish for a
// short delay down to "no timer at all".
std::uint32_t centiseconds(std::chrono::milliseconds timeout) noexcept
{
    return static_cast<std::uint32_t>((timeout.count() + 9) / 10);
}

} // namespace

config_request settings_request(std::uint16_t group, const group_settings& settings) noexcept
{
    config_request request;
    request.group = group;
    request.mode = settings.mode;
    request.copy_range = settings.copy_range;
    request.nlbufsiz = settings.nlbufsiz;
    if (settings.flush_timeout)
        request.timeout_centiseconds = centiseconds(*settings.flush_timeout);
    request.queue_threshold = settings.queue_threshold;
    return request;
}

config_request bind_request(const options& opts, std::uint16_t group) noexcept
{
    config_request request;
    request.group = group;
    request.cmd = config_request::command::bind;
    request.mode = opts.mode;
    request.copy_range = opts.copy_range;
    request.nlbufsiz = opts.nlbufsiz;
    request.timeout_centiseconds = centiseconds(opts.flush_timeout);
    request.queue_threshold = opts.queue_threshold;
    if (opts.adaptive_batching) {
        // Bound quiet: the receive path grows the batches once it sees a rate.
        const auto start = batching_controller(batching_limits_for(opts)).initial();
        request.queue_threshold = start.queue_threshold;
        request.nlbufsiz = start.nlbufsiz;
    }
    std::uint16_t flags = 0;
    if (opts.sequence_numbers)
        flags |= NFULNL_CFG_F_SEQ;
    if (opts.global_sequence_numbers)
        flags |= NFULNL_CFG_F_SEQ_GLOBAL;
    if (opts.conntrack)
        flags |= NFULNL_CFG_F_CONNTRACK;
    request.flags = flags;
    return request;
}

} // namespace nflog::detail
