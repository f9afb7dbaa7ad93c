#include "nflog/packet.hpp"

#include <linux/netfilter/nfnetlink.h>

#include <algorithm>

namespace nflog {
namespace {

// The lengths an attribute may have, its header included: from `minimum` to
// `minimum + spread`. Fixed-size attributes have no spread; the others take
// anything from an empty payload on. Two flat arrays of words, so the check
// reads each with one instruction.
struct length_rules {
    std::array<std::uint32_t, packet_view::max_attribute + 1> minimum{};
    std::array<std::uint32_t, packet_view::max_attribute + 1> spread{};
};

constexpr length_rules rules = [] {
    constexpr std::uint32_t header = netlink::attribute_view::header_size;
    length_rules out;
    out.minimum.fill(header);
    out.spread.fill(0xffff - header);
    const auto fixed = [&](int type, std::size_t payload) {
        out.minimum[type] = header + static_cast<std::uint32_t>(payload);
        out.spread[type] = 0;
    };
    fixed(NFULA_PACKET_HDR, sizeof(nfulnl_msg_packet_hdr));
    fixed(NFULA_MARK, 4);
    fixed(NFULA_TIMESTAMP, sizeof(nfulnl_msg_packet_timestamp));
    fixed(NFULA_IFINDEX_INDEV, 4);
    fixed(NFULA_IFINDEX_OUTDEV, 4);
    fixed(NFULA_IFINDEX_PHYSINDEV, 4);
    fixed(NFULA_IFINDEX_PHYSOUTDEV, 4);
    fixed(NFULA_HWADDR, sizeof(nfulnl_msg_packet_hw));
    fixed(NFULA_UID, 4);
    fixed(NFULA_SEQ, 4);
    fixed(NFULA_SEQ_GLOBAL, 4);
    fixed(NFULA_GID, 4);
    fixed(NFULA_HWTYPE, 2);
    fixed(NFULA_HWLEN, 2);
    fixed(NFULA_CT_INFO, 4);
    return out;
}();

// The nested VLAN attribute: only its two members are kept, as offsets of
// their payloads from `base`.
errc parse_vlan(const std::byte* base, std::uint32_t at, std::uint32_t length, std::uint32_t& proto,
                std::uint32_t& tci) noexcept
{
    const std::span<const std::byte> members(base + at + netlink::attribute_view::header_size,
                                             length - netlink::attribute_view::header_size);
    for (const auto& inner : netlink::attribute_range(members)) {
        if (!inner)
            return inner.error() == errc::short_attribute ? errc::short_attribute : errc::bad_attribute_length;
        const auto& member = inner.assume_value();
        const auto type = member.type();
        if (type != NFULA_VLAN_PROTO && type != NFULA_VLAN_TCI)
            continue;
        if (member.payload().size() != 2)
            return errc::bad_attribute_size;
        const auto offset = static_cast<std::uint32_t>(member.payload().data() - base);
        (type == NFULA_VLAN_PROTO ? proto : tci) = offset;
    }
    return errc{};
}

} // namespace

result<packet_view> packet_view::parse(const netlink::message_view& message) noexcept
{
    packet_view view;
    if (const auto failure = parse_into(message, view); failure != errc{})
        return make_error_code(failure);
    return view;
}

// One flat loop over the attribute headers: this runs for every logged
// packet, and the generic attribute range would build a result per attribute.
errc packet_view::parse_into(const netlink::message_view& message, packet_view& view) noexcept
{
    if (message.type() != packet_message_type)
        return errc::not_a_packet;
    const auto bytes = message.bytes();
    constexpr std::size_t netlink_header = netlink::message_view::header_size;
    if (bytes.size() < netlink_header + sizeof(nfgenmsg))
        return errc::short_nfgenmsg;

    const std::byte* base = bytes.data();
    const std::size_t end = bytes.size();
    view.base_ = base;
    // nlmsg_len is 32 bits, so the message length and every offset in it fit.
    view.message_length_ = static_cast<std::uint32_t>(end);
    view.family_ = detail::load<std::uint8_t>(base + netlink_header);
    view.group_ = detail::load_be<std::uint16_t>(base + netlink_header + 2);
    view.vlan_proto_offset_ = view.vlan_tci_offset_ = absent;
    std::uint32_t present = 0;

    // Offsets stay far from overflow: `at` ends at most 3 bytes past `end`,
    // after an unpadded last attribute, which is accepted.
    std::size_t at = netlink_header + detail::align4(sizeof(nfgenmsg));
    while (at + attribute_header <= end) {
        const std::size_t length = detail::load<std::uint16_t>(base + at);
        if (length < attribute_header || at + length > end)
            return errc::bad_attribute_length;
        // Newer kernels may add attributes: what we do not know is skipped.
        const unsigned type = detail::load<std::uint16_t>(base + at + 2) & NLA_TYPE_MASK;
        if (type - 1u < max_attribute) {
            // One range test for fixed and free sizes alike: a branch on
            // "is this type fixed" would change direction from one attribute
            // to the next and mispredict, this one never fails on good input.
            if (length - rules.minimum[type] > rules.spread[type])
                return errc::bad_attribute_size;
            if (type == NFULA_VLAN) [[unlikely]] {
                // A repeated VLAN attribute replaces both members of the earlier one.
                view.vlan_proto_offset_ = view.vlan_tci_offset_ = absent;
                if (const auto failure = parse_vlan(base, static_cast<std::uint32_t>(at), static_cast<std::uint32_t>(length),
                                                    view.vlan_proto_offset_, view.vlan_tci_offset_);
                    failure != errc{})
                    return failure;
            }
            view.attributes_[type] = static_cast<std::uint32_t>(at);
            present |= 1u << type;
        }
        at += detail::align4(length);
    }
    if (at < end)
        return errc::short_attribute;
    view.present_ = present;
    if ((present & 1u << NFULA_PACKET_HDR) == 0)
        return errc::missing_packet_header;
    return errc{};
}

// Out of line, next to parse_into, so that the parse inlines into the walk.
void packet_range::iterator::settle() noexcept
{
    constexpr std::size_t header_size = netlink::message_view::header_size;
    while (!rest_.empty()) {
        // A length that cannot be trusted ends the walk after one error element.
        if (rest_.size() < header_size) {
            current_ = make_error_code(errc::short_message);
            rest_ = {};
            return;
        }
        const auto length = detail::load<std::uint32_t>(rest_.data());
        if (length < header_size || length > rest_.size()) {
            current_ = make_error_code(errc::bad_message_length);
            rest_ = {};
            return;
        }
        const netlink::message_view message(rest_.first(length));
        const auto type = message.type();
        if (type == NLMSG_DONE)
            break;
        // An unpadded last message is accepted.
        rest_ = rest_.subspan(std::min<std::size_t>(detail::align4(length), rest_.size()));
        if (type == packet_message_type) {
            if (!current_.has_value())
                current_ = packet_view{};
            if (const auto failure = packet_view::parse_into(message, current_.assume_value()); failure != errc{})
                current_ = make_error_code(failure);
            return;
        }
        if (type == NLMSG_ERROR) {
            const auto reply = netlink::parse_error(message);
            if (!reply) {
                current_ = reply.error();
                return;
            }
            if (reply.assume_value().error != 0) {
                current_ = boost::system::error_code(reply.assume_value().error, boost::system::generic_category());
                return;
            }
        }
    }
    at_end_ = true;
    rest_ = {};
}

} // namespace nflog
