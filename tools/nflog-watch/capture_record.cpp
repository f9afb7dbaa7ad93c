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
constexpr std::size_t done_message_size = NLMSG_LENGTH(sizeof(std::int32_t));

unwrapped_record malformed(std::string_view problem) noexcept
{
    return {unwrapped_record::status::malformed, {}, problem};
}

enum class cut_place {
    last_attribute, ///< inside the last attribute, after its header
    padding,        ///< after the last attribute's data: nothing was lost
    elsewhere,
};

// Shortens the attribute of an NFULNL_MSG_PACKET that the cut falls into,
// when it is the message's last and its payload: every other attribute the
// kernel sends last has a fixed size, and a shortened one would read as the
// packet's fault, not the capture's. `message`: its captured bytes from the
// netlink header on; `original_end`: where the message ended before the cut.
cut_place shorten_last_attribute(std::span<std::byte> message, std::size_t original_end) noexcept
{
    constexpr std::size_t first_attribute = NLMSG_HDRLEN + sizeof(nfgenmsg);
    if (message.size() < first_attribute)
        return cut_place::elsewhere;
    std::size_t at = first_attribute;
    // `at` can pass the end by the padding of a whole last attribute.
    while (at + sizeof(nlattr) <= message.size()) {
        const std::size_t length = detail::load<std::uint16_t>(message.data() + at);
        if (length < sizeof(nlattr))
            return cut_place::elsewhere;
        const auto end = at + length;
        if (end > message.size()) {
            const auto type = detail::load<std::uint16_t>(message.data() + at + 2) & NLA_TYPE_MASK;
            if (type != NFULA_PAYLOAD || end > original_end || detail::align4(end) < original_end)
                return cut_place::elsewhere;
            const auto captured = static_cast<std::uint16_t>(message.size() - at);
            std::memcpy(message.data() + at, &captured, sizeof captured);
            return cut_place::last_attribute;
        }
        at = detail::align4(end);
    }
    return at >= original_end ? cut_place::padding : cut_place::elsewhere;
}

void set_message_length(std::span<std::byte> message) noexcept
{
    const auto length = static_cast<std::uint32_t>(message.size());
    std::memcpy(message.data(), &length, sizeof length);
}

} // namespace

repaired_cut repair_cut_netlink_datagram(std::span<const std::byte> datagram, std::size_t original_length,
                                         std::vector<std::byte>& buffer)
{
    if (original_length < netlink_link_header)
        return {};
    const auto original_size = original_length - netlink_link_header;
    // Only a cut record comes here, and its bytes never exceed the capture's
    // snap length: the buffer soon stops growing.
    buffer.assign(datagram.begin(), datagram.end());
    const std::span<std::byte> captured(buffer);
    std::size_t at = 0;
    while (at + NLMSG_HDRLEN <= captured.size()) {
        const std::size_t length = detail::load<std::uint32_t>(captured.data() + at);
        if (length < NLMSG_HDRLEN)
            return {};
        const auto end = at + length;
        const auto padded_end = detail::align4(end);
        // The kernel ends a batch of several packets with an NLMSG_DONE,
        // which the cut then took whole.
        const bool last = end <= original_size &&
                          (padded_end >= original_size || padded_end + done_message_size == original_size);
        if (end <= captured.size()) {
            if (last)
                return {true, datagram.first(end), nullptr};
            at = padded_end;
            continue;
        }
        if (!last || detail::load<std::uint16_t>(captured.data() + at + 4) != packet_message_type)
            return {};
        const auto message = captured.subspan(at);
        const auto place = shorten_last_attribute(message, length);
        if (place == cut_place::elsewhere)
            return {};
        set_message_length(message);
        return {true, captured, place == cut_place::last_attribute ? message.data() : nullptr};
    }
    return {};
}

repaired_cut repair_cut_nflog_message(std::vector<std::byte>& message, std::size_t original_length) noexcept
{
    const std::span<std::byte> captured(message);
    const auto place = shorten_last_attribute(captured, NLMSG_HDRLEN + original_length);
    if (place == cut_place::elsewhere)
        return {};
    return {true, captured, place == cut_place::last_attribute ? captured.data() : nullptr};
}

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
