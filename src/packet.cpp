#include "nflog/packet.hpp"

namespace nflog {

// Here the kernel's own header is the one included.
static_assert(detail::nfula_vlan == NFULA_VLAN && detail::nfula_l2hdr == NFULA_L2HDR);

namespace {

// The nested VLAN attribute: only its two members are kept, as offsets of
// their payloads from `base`, and their presence bits.
errc parse_vlan(const std::byte* base, std::size_t at, std::size_t length, std::uint32_t& proto, std::uint32_t& tci,
                std::uint32_t& present, unsigned proto_bit, unsigned tci_bit) noexcept
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
        const bool is_proto = type == NFULA_VLAN_PROTO;
        (is_proto ? proto : tci) = offset;
        present |= 1u << (is_proto ? proto_bit : tci_bit);
    }
    return errc{};
}

} // namespace

// The attributes before `stop` all passed the framing checks of parse_into,
// so this walk needs none of its own.
errc packet_view::parse_vlans(packet_view& view, std::size_t stop) noexcept
{
    const std::byte* base = view.base_;
    for (std::size_t at = attributes_start; at + attribute_header <= stop;) {
        const std::size_t length = detail::load<std::uint16_t>(base + at);
        if ((detail::load<std::uint16_t>(base + at + 2) & NLA_TYPE_MASK) == NFULA_VLAN) {
            // A repeated VLAN attribute replaces both members of the earlier one.
            view.vlan_proto_offset_ = view.vlan_tci_offset_ = absent;
            view.present_ &= ~(1u << vlan_proto_bit | 1u << vlan_tci_bit);
            if (const auto failure = parse_vlan(base, at, length, view.vlan_proto_offset_, view.vlan_tci_offset_,
                                                view.present_, vlan_proto_bit, vlan_tci_bit);
                failure != errc{})
                return failure;
        }
        at += detail::align4(length);
    }
    return errc{};
}

void detail::packet_walk::stop(result<packet_view>& element, errc failure) noexcept
{
    element = make_error_code(failure);
    rest_ = {};
}

bool detail::packet_walk::yield_error(result<packet_view>& element, const netlink::message_view& message) noexcept
{
    const auto reply = netlink::parse_error(message);
    if (!reply) {
        element = reply.error();
        return true;
    }
    if (reply.assume_value().error != 0) {
        element = boost::system::error_code(reply.assume_value().error, boost::system::generic_category());
        return true;
    }
    return false;
}

} // namespace nflog
