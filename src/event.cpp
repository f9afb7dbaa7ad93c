#include "nflog/event.hpp"

#include "nflog/action.hpp"

#include <algorithm>
#include <cstring>

namespace nflog {

std::string_view to_string(timestamp_source source) noexcept
{
    return source == timestamp_source::kernel ? "kernel" : "local";
}

bool event::set_prefix(std::string_view text) noexcept
{
    const auto kept = std::min(text.size(), max_prefix_length);
    std::memcpy(prefix_.data(), text.data(), kept);
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

event make_event(const packet_view& packet, const inet::flow& flow, std::chrono::system_clock::time_point received_at,
                 source_id source) noexcept
{
    event out;
    out.source = source;
    out.group = packet.group();
    out.family = packet.family();
    out.hook = packet.hook();
    out.hw_protocol = packet.hw_protocol();
    if (const auto kernel_time = packet.timestamp()) {
        out.timestamp = *kernel_time;
        out.time_source = timestamp_source::kernel;
    }
    else {
        out.timestamp = received_at;
        out.time_source = timestamp_source::local;
    }
    const auto prefix = packet.prefix();
    // Classified before the copy is cut, so a marker beyond 127 characters
    // in a forged prefix still names the action.
    out.action = action_from_prefix(prefix);
    out.set_prefix(prefix);
    out.flow = flow;
    out.mark = packet.mark();
    out.indev = packet.indev();
    out.outdev = packet.outdev();
    out.physindev = packet.physindev();
    out.physoutdev = packet.physoutdev();
    out.uid = packet.uid();
    out.gid = packet.gid();
    out.seq = packet.seq();
    out.seq_global = packet.seq_global();
    out.vlan_proto = packet.vlan_proto();
    out.vlan_tci = packet.vlan_tci();
    out.set_hwaddr(packet.hwaddr());
    out.payload_length = static_cast<std::uint32_t>(packet.payload().size());
    return out;
}

event make_event(const packet_view& packet, std::chrono::system_clock::time_point received_at,
                 source_id source) noexcept
{
    return make_event(packet, inet::decode(packet.payload(), packet.hw_protocol(), packet.family()), received_at,
                      source);
}

} // namespace nflog
