#include "capture_record.hpp"

#include <nflog/detail/bytes.hpp>
#include <nflog/packet.hpp>

#include <linux/if_arp.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <cstdint>
#include <cstring>
#include <limits>

namespace nflog::watch {
namespace {

constexpr std::size_t netlink_link_header = 16;
constexpr std::size_t nflog_record_header = sizeof(nfgenmsg);

unwrapped_record malformed(std::string_view problem) noexcept
{
    return {unwrapped_record::status::malformed, {}, problem};
}

} // namespace

unwrapped_record unwrap_netlink_record(std::span<const std::byte> record) noexcept
{
    if (record.size() < netlink_link_header)
        return malformed("record shorter than the 16-byte netlink link-layer header");
    if (detail::load_be<std::uint16_t>(record.data() + 2) != ARPHRD_NETLINK)
        return malformed("link-layer header does not say ARPHRD_NETLINK");
    if (detail::load_be<std::uint16_t>(record.data() + 14) != NETLINK_NETFILTER)
        return {unwrapped_record::status::not_netfilter, {}, {}};
    return {unwrapped_record::status::datagram, record.subspan(netlink_link_header), {}};
}

unwrapped_record unwrap_nflog_record(std::span<const std::byte> record, std::vector<std::byte>& buffer)
{
    if (record.size() < nflog_record_header)
        return malformed("record shorter than the 4-byte nflog header");
    // Version 0 is the only one: any other promises a layout nobody defined.
    if (std::to_integer<std::uint8_t>(record[1]) != NFNETLINK_V0)
        return malformed("unsupported nflog header version");
    if (record.size() > std::numeric_limits<std::uint32_t>::max() - sizeof(nlmsghdr))
        return malformed("record too long for one netlink message");

    const nlmsghdr header{
        .nlmsg_len = static_cast<std::uint32_t>(sizeof(nlmsghdr) + record.size()),
        .nlmsg_type = packet_message_type,
        .nlmsg_flags = 0,
        .nlmsg_seq = 0,
        .nlmsg_pid = 0,
    };
    buffer.resize(sizeof header + record.size());
    std::memcpy(buffer.data(), &header, sizeof header);
    std::memcpy(buffer.data() + sizeof header, record.data(), record.size());
    return {unwrapped_record::status::datagram, buffer, {}};
}

std::span<const std::byte> nflog_record_of(const packet_view& packet) noexcept
{
    const auto message = packet.message();
    // A view from parse() always holds a header and its nfgenmsg; a default
    // one holds nothing.
    if (message.size() < NLMSG_HDRLEN)
        return {};
    return message.subspan(NLMSG_HDRLEN);
}

} // namespace nflog::watch
