#include "cases.hpp"

#include <nflog/inet.hpp>

#include <libnetfilter_log/libnetfilter_log.h>

#include <arpa/inet.h>
#include <sched.h>
#include <sys/time.h>

#include <cerrno>
#include <cstring>

namespace nflog::bench {

struct nflog_baseline::state {
    nflog_handle* handle = nullptr;
    std::vector<nflog_g_handle*> bound;
    tally current;

    ~state()
    {
        for (auto* group : bound)
            nflog_unbind_group(group);
        if (handle)
            nflog_close(handle);
    }
};

namespace {

int on_packet(nflog_g_handle*, nfgenmsg* generic, nflog_data* data, void* context)
{
    auto& out = *static_cast<tally*>(context);
    const auto* header = nflog_get_msg_packet_hdr(data);
    if (!header) {
        ++out.failures;
        return 0;
    }
    ++out.packets;

    std::uint64_t details = ntohs(header->hw_protocol) + header->hook + nflog_get_nfmark(data) +
                            nflog_get_indev(data) + nflog_get_outdev(data);
    std::uint32_t id = 0;
    if (nflog_get_uid(data, &id) == 0)
        details += id;
    if (nflog_get_gid(data, &id) == 0)
        details += id;
    if (nflog_get_seq(data, &id) == 0)
        details += id;
    timeval time{};
    if (nflog_get_timestamp(data, &time) == 0)
        details += static_cast<std::uint64_t>(time.tv_sec) * 1'000'000 + static_cast<std::uint64_t>(time.tv_usec);
    if (const auto* hardware = nflog_get_packet_hw(data))
        details += ntohs(hardware->hw_addrlen);
    out.details += details;
    if (const char* prefix = nflog_get_prefix(data))
        add_prefix(out, prefix);

    char* bytes = nullptr;
    const int length = nflog_get_payload(data, &bytes);
    std::span<const std::byte> payload;
    if (length > 0)
        payload = {reinterpret_cast<const std::byte*>(bytes), static_cast<std::size_t>(length)};
    const auto flow = inet::decode(payload, ntohs(header->hw_protocol), generic->nfgen_family);
    add_destination(out, flow);
    add_flow_rest(out, flow);
    return 0;
}

// Only counts: what the dispatch costs before any getter runs.
int count_packet(nflog_g_handle*, nfgenmsg*, nflog_data*, void* context)
{
    ++static_cast<tally*>(context)->packets;
    return 0;
}

std::string failed(const char* what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

} // namespace

nflog_baseline::opened nflog_baseline::open(const std::vector<std::uint16_t>& groups)
{
    // A namespace of our own: binding a group there cannot take it from a
    // logger of the host. It goes away with the process.
    if (unshare(CLONE_NEWNET) != 0)
        return {nullptr, failed("unshare(CLONE_NEWNET)")};
    auto owned = std::make_unique<state>();
    owned->handle = nflog_open();
    if (!owned->handle)
        return {nullptr, failed("nflog_open")};
    // nflog_handle_packet dispatches each message by its res_id to the group
    // handle bound to that number; a message for an unbound group never
    // reaches a callback. So every group of the corpus is bound.
    for (const auto group : groups) {
        auto* bound = nflog_bind_group(owned->handle, group);
        if (!bound)
            return {nullptr, failed(("nflog_bind_group(" + std::to_string(group) + ")").c_str())};
        owned->bound.push_back(bound);
        if (nflog_callback_register(bound, on_packet, &owned->current) != 0)
            return {nullptr, failed("nflog_callback_register")};
    }
    return {std::unique_ptr<nflog_baseline>(new nflog_baseline(std::move(owned))), {}};
}

nflog_baseline::nflog_baseline(std::unique_ptr<state> state) noexcept : state_(std::move(state)) {}

nflog_baseline::~nflog_baseline() = default;

tally nflog_baseline::decode(const corpus& input) noexcept { return handle_all(input); }

tally nflog_baseline::dispatch_only(const corpus& input) noexcept
{
    for (auto* group : state_->bound)
        nflog_callback_register(group, count_packet, &state_->current);
    const auto out = handle_all(input);
    for (auto* group : state_->bound)
        nflog_callback_register(group, on_packet, &state_->current);
    return out;
}

tally nflog_baseline::handle_all(const corpus& input) noexcept
{
    state_->current = {};
    for (const auto datagram : input.datagrams()) {
        // The buffer is only read; the C signature is simply not const. The
        // return value is -1 at a batch's NLMSG_DONE (no subsystem handles it)
        // after every packet before it was delivered, so it says nothing here.
        nflog_handle_packet(state_->handle, const_cast<char*>(reinterpret_cast<const char*>(datagram.data())),
                            static_cast<int>(datagram.size()));
    }
    return state_->current;
}

} // namespace nflog::bench
