#include "event_json.hpp"

#include "iso_time.hpp"

#include <nflog/action.hpp>

#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <array>
#include <cstddef>
#include <span>

namespace nflog::watch {
namespace {

std::string_view family_name(std::uint8_t family) noexcept
{
    switch (family) {
    case NFPROTO_IPV4: return "ipv4";
    case NFPROTO_IPV6: return "ipv6";
    case NFPROTO_BRIDGE: return "bridge";
    case NFPROTO_ARP: return "arp";
    case NFPROTO_NETDEV: return "netdev";
    default: return {};
    }
}

// `detail` is the prefix as the watcher these events replace gave it: without
// the spaces an iptables-style "DENIED " ends with (Python's str.strip() on
// ASCII text).
std::string_view trim_ascii_space(std::string_view text) noexcept
{
    constexpr std::string_view space = " \t\n\v\f\r\x1c\x1d\x1e\x1f";
    const auto first = text.find_first_not_of(space);
    if (first == std::string_view::npos)
        return {};
    return text.substr(first, text.find_last_not_of(space) - first + 1);
}

std::string_view l3_name(inet::l3_protocol protocol) noexcept
{
    switch (protocol) {
    case inet::l3_protocol::ipv4: return "ipv4";
    case inet::l3_protocol::ipv6: return "ipv6";
    case inet::l3_protocol::arp: return "arp";
    case inet::l3_protocol::none: break;
    }
    return {};
}

using address_buffer = std::array<char, inet::address::max_text_size>;

std::string_view format_address(const inet::address& address, address_buffer& buffer) noexcept
{
    const auto end = address.to_chars(buffer.data(), buffer.data() + buffer.size()).ptr;
    return {buffer.data(), static_cast<std::size_t>(end - buffer.data())};
}

// Up to 8 address bytes (nfulnl_msg_packet_hw) as "aa:bb:..".
using hwaddr_buffer = std::array<char, 8 * 3>;

std::string_view format_hwaddr(std::span<const std::byte> address, hwaddr_buffer& buffer) noexcept
{
    static constexpr char hex[] = "0123456789abcdef";
    std::size_t length = 0;
    for (const auto byte : address.first(std::min(address.size(), std::size_t{8}))) {
        if (length != 0)
            buffer[length++] = ':';
        const auto value = std::to_integer<unsigned>(byte);
        buffer[length++] = hex[value >> 4];
        buffer[length++] = hex[value & 0x0f];
    }
    return {buffer.data(), length};
}

void write_time(json_object_writer& json, std::chrono::system_clock::time_point time, time_source source)
{
    iso_time_buffer buffer;
    json.string("ts", format_iso_time(time, buffer));
    json.string("ts_source", to_string(source));
}

template <class T>
void optional_number(json_object_writer& json, std::string_view key, const std::optional<T>& value)
{
    if (value)
        json.number(key, *value);
}

void write_flow(json_object_writer& json, const inet::flow& flow, bool cut_by_snap_length)
{
    if (const auto l3 = l3_name(flow.l3); !l3.empty())
        json.string("l3", l3);
    address_buffer address;
    if (flow.has_src)
        json.string("src", format_address(flow.src, address));
    if (flow.has_dst)
        json.string("dest", format_address(flow.dst, address));
    // A number, as the watcher these events replace wrote it: consumers test
    // `proto == 6`.
    optional_number(json, "proto", flow.protocol);
    optional_number(json, "sport", flow.src_port);
    optional_number(json, "dport", flow.dst_port);
    optional_number(json, "port", flow.dst_port);
    optional_number(json, "icmp_type", flow.icmp_type);
    optional_number(json, "icmp_code", flow.icmp_code);
    optional_number(json, "arp_op", flow.arp_op);
    if (flow.fragment)
        json.boolean("fragment", true);
    if (flow.truncated || cut_by_snap_length)
        json.boolean("truncated", true);
    if (flow.error != inet::decode_error::none)
        json.string("decode_error", inet::to_string(flow.error));
}

} // namespace

std::string_view to_string(time_source source) noexcept
{
    switch (source) {
    case time_source::kernel: return "kernel";
    case time_source::capture: return "capture";
    case time_source::local: return "local";
    }
    return "unknown";
}

void write_event(std::string& line, const packet_view& packet, const inet::flow& flow, const event_context& context)
{
    json_object_writer json(line);
    if (const auto kernel_time = packet.timestamp())
        write_time(json, *kernel_time, time_source::kernel);
    else
        write_time(json, context.fallback_time, context.fallback_source);
    json.string("source", "nflog");
    const bool has_prefix = packet.has(NFULA_PREFIX);
    const auto prefix = packet.prefix();
    json.string("action", action_from_prefix(prefix));
    json.string("container", context.container);
    if (context.netns)
        json.string("netns", *context.netns);

    json.number("group", packet.group());
    if (const auto family = family_name(packet.family()); !family.empty())
        json.string("family", family);
    else
        json.number("family", packet.family());
    json.number("hook", packet.hook());
    json.number("hw_protocol", packet.hw_protocol());
    if (has_prefix) {
        json.string("prefix", prefix);
        json.string("detail", trim_ascii_space(prefix));
    }

    write_flow(json, flow, context.cut_by_snap_length);

    optional_number(json, "mark", packet.mark());
    optional_number(json, "indev", packet.indev());
    optional_number(json, "outdev", packet.outdev());
    optional_number(json, "physindev", packet.physindev());
    optional_number(json, "physoutdev", packet.physoutdev());
    optional_number(json, "uid", packet.uid());
    optional_number(json, "gid", packet.gid());
    optional_number(json, "seq", packet.seq());
    optional_number(json, "seq_global", packet.seq_global());
    if (const auto hwaddr = packet.hwaddr(); !hwaddr.empty()) {
        hwaddr_buffer buffer;
        json.string("hwaddr", format_hwaddr(hwaddr, buffer));
    }
    optional_number(json, "vlan_proto", packet.vlan_proto());
    optional_number(json, "vlan_tci", packet.vlan_tci());
    if (packet.has(NFULA_PAYLOAD))
        json.number("payload_len", packet.payload().size());
    json.close();
}

json_object_writer begin_error(std::string& line, std::string_view reason, const event_context& context)
{
    json_object_writer json(line);
    json.string("error", reason);
    write_time(json, context.fallback_time, context.fallback_source);
    json.string("source", "nflog");
    json.string("container", context.container);
    if (context.netns)
        json.string("netns", *context.netns);
    return json;
}

void write_message_error(std::string& line, const boost::system::error_code& error, const event_context& context,
                         std::optional<std::uint64_t> record, reason_buffer& buffer)
{
    auto json = begin_error(line, message_error_reason(error, buffer), context);
    if (record)
        json.number("record", *record);
    if (is_kernel_reply(error))
        json.number("errno", error.value());
    json.close();
}

} // namespace nflog::watch
