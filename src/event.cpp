#include "nflog/event.hpp"

#include "nflog/detail/bytes.hpp"
#include "nflog/detail/prefix_action.hpp"

#include <algorithm>
#include <cstring>

namespace nflog {

std::string_view to_string(timestamp_source source) noexcept
{
    return source == timestamp_source::kernel ? "kernel" : "local";
}

bool event::set_prefix(std::string_view text) noexcept
{
    prefix_action_ = unknown_action;
    const auto kept = std::min(text.size(), max_prefix_length);
    // An empty view may point nowhere (a packet without the attribute), and
    // copying from a null pointer is undefined even for no bytes. `text` may
    // be a view of this very prefix (a part of it kept): memmove.
    if (kept != 0)
        std::memmove(prefix_.data(), text.data(), kept);
    // NUL-terminated as well, so the storage can be handed to C interfaces.
    prefix_[kept] = '\0';
    prefix_length_ = static_cast<std::uint8_t>(kept);
    return kept == text.size();
}

bool event::set_hwaddr(std::span<const std::byte> address) noexcept
{
    const auto kept = std::min(address.size(), max_hwaddr_length);
    std::copy_n(address.begin(), kept, hwaddr_.begin());
    hwaddr_length_ = static_cast<std::uint8_t>(kept);
    return kept == address.size();
}

void event::assign(const packet_view& packet, const inet::flow& decoded,
                   std::chrono::system_clock::time_point received_at, source_id from) noexcept
{
    flow = decoded;
    assign_packet(packet, received_at, from);
}

void event::assign(const packet_view& packet, std::chrono::system_clock::time_point received_at,
                   source_id from) noexcept
{
    inet::decode(packet.payload(), packet.hw_protocol(), packet.family(), flow);
    assign_packet(packet, received_at, from);
}

void event::assign_packet(const packet_view& packet, std::chrono::system_clock::time_point received_at,
                          source_id from) noexcept
{
    source = from;
    group = packet.group();
    family = packet.family();
    hook = packet.hook();
    hw_protocol = packet.hw_protocol();
    if (const auto kernel_time = packet.timestamp()) {
        timestamp = *kernel_time;
        time_source = timestamp_source::kernel;
    }
    else {
        timestamp = received_at;
        time_source = timestamp_source::local;
    }
    const auto text = packet.prefix();
    std::uint8_t named = prefix_action_;
    if (named == unknown_action || text.size() != prefix_length_ ||
        !detail::same_bytes(text.data(), prefix_.data(), text.size())) {
        // Classified before the copy is cut, so a marker beyond 127
        // characters in a forged prefix still names the action.
        named = detail::prefix_action(text);
        if (set_prefix(text))
            prefix_action_ = named;
    }
    action = detail::action_name(named);
    mark = packet.mark();
    indev = packet.indev();
    outdev = packet.outdev();
    physindev = packet.physindev();
    physoutdev = packet.physoutdev();
    uid = packet.uid();
    gid = packet.gid();
    seq = packet.seq();
    seq_global = packet.seq_global();
    vlan_proto = packet.vlan_proto();
    vlan_tci = packet.vlan_tci();
    set_hwaddr(packet.hwaddr());
    payload_length = static_cast<std::uint32_t>(packet.payload().size());
    lost_before = 0;
}

event make_event(const packet_view& packet, const inet::flow& flow, std::chrono::system_clock::time_point received_at,
                 source_id source) noexcept
{
    event out;
    out.assign(packet, flow, received_at, source);
    return out;
}

event make_event(const packet_view& packet, std::chrono::system_clock::time_point received_at,
                 source_id source) noexcept
{
    event out;
    out.assign(packet, received_at, source);
    return out;
}

} // namespace nflog
