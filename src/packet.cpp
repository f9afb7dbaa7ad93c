#include "nflog/packet.hpp"

#include <linux/netfilter/nfnetlink.h>

namespace nflog {
namespace {

// Payload size each attribute must have; 0 means "any size".
constexpr std::array<std::uint32_t, packet_view::max_attribute + 1> fixed_sizes = [] {
    std::array<std::uint32_t, packet_view::max_attribute + 1> sizes{};
    sizes[NFULA_PACKET_HDR] = sizeof(nfulnl_msg_packet_hdr);
    sizes[NFULA_MARK] = 4;
    sizes[NFULA_TIMESTAMP] = sizeof(nfulnl_msg_packet_timestamp);
    sizes[NFULA_IFINDEX_INDEV] = 4;
    sizes[NFULA_IFINDEX_OUTDEV] = 4;
    sizes[NFULA_IFINDEX_PHYSINDEV] = 4;
    sizes[NFULA_IFINDEX_PHYSOUTDEV] = 4;
    sizes[NFULA_HWADDR] = sizeof(nfulnl_msg_packet_hw);
    sizes[NFULA_UID] = 4;
    sizes[NFULA_SEQ] = 4;
    sizes[NFULA_SEQ_GLOBAL] = 4;
    sizes[NFULA_GID] = 4;
    sizes[NFULA_HWTYPE] = 2;
    sizes[NFULA_HWLEN] = 2;
    sizes[NFULA_CT_INFO] = 4;
    return sizes;
}();

} // namespace

result<packet_view> packet_view::parse(const netlink::message_view& message) noexcept
{
    if (message.type() != packet_message_type)
        return make_error_code(errc::not_a_packet);
    const auto payload = message.payload();
    if (payload.size() < sizeof(nfgenmsg))
        return make_error_code(errc::short_nfgenmsg);

    packet_view view;
    view.base_ = message.bytes().data();
    view.message_length_ = static_cast<std::uint32_t>(message.bytes().size());
    view.family_ = detail::load<std::uint8_t>(payload.data());
    view.group_ = detail::load_be<std::uint16_t>(payload.data() + 2);

    const auto attributes = payload.subspan(detail::align4(sizeof(nfgenmsg)) <= payload.size()
                                                ? detail::align4(sizeof(nfgenmsg))
                                                : payload.size());
    for (const auto& item : netlink::attribute_range(attributes)) {
        if (!item)
            return item.error();
        const auto& attribute = item.value();
        const auto type = attribute.type();
        if (type == 0 || type > max_attribute)
            continue; // newer kernels may add attributes: ignore what we do not know
        const auto data = attribute.payload();
        if (fixed_sizes[type] != 0 && data.size() != fixed_sizes[type])
            return make_error_code(errc::bad_attribute_size);
        if (type == NFULA_VLAN) {
            view.vlan_proto_offset_ = view.vlan_tci_offset_ = no_attribute;
            for (const auto& inner : attribute.nested()) {
                if (!inner)
                    return inner.error();
                const auto inner_type = inner.assume_value().type();
                if (inner_type != NFULA_VLAN_PROTO && inner_type != NFULA_VLAN_TCI)
                    continue;
                if (inner.assume_value().payload().size() != 2)
                    return make_error_code(errc::bad_attribute_size);
                const auto offset = static_cast<std::uint32_t>(inner.assume_value().payload().data() - view.base_);
                (inner_type == NFULA_VLAN_PROTO ? view.vlan_proto_offset_ : view.vlan_tci_offset_) = offset;
            }
        }
        view.slots_[type] = {static_cast<std::uint32_t>(data.data() - view.base_), static_cast<std::uint32_t>(data.size())};
    }
    if (!view.has(NFULA_PACKET_HDR))
        return make_error_code(errc::missing_packet_header);
    return view;
}

// A parsed view always has its header; only a default-constructed one lacks it,
// and it must not read through a null base.
std::uint16_t packet_view::hw_protocol() const noexcept
{
    if (!has(NFULA_PACKET_HDR))
        return 0;
    return detail::load_be<std::uint16_t>(base_ + slots_[NFULA_PACKET_HDR].offset);
}

std::uint8_t packet_view::hook() const noexcept
{
    if (!has(NFULA_PACKET_HDR))
        return 0;
    return detail::load<std::uint8_t>(base_ + slots_[NFULA_PACKET_HDR].offset + 2);
}

std::optional<std::chrono::system_clock::time_point> packet_view::timestamp() const noexcept
{
    if (!has(NFULA_TIMESTAMP))
        return std::nullopt;
    const auto* at = base_ + slots_[NFULA_TIMESTAMP].offset;
    // A hostile timestamp must not overflow the clock's representation:
    // saturate at what system_clock can hold (year 2262 for nanoseconds).
    constexpr std::uint64_t max_seconds = 9'000'000'000ull;
    const auto seconds = std::min(detail::load_be<std::uint64_t>(at), max_seconds);
    const auto micros = std::min(detail::load_be<std::uint64_t>(at + 8), std::uint64_t{999'999});
    using std::chrono::duration_cast;
    return std::chrono::system_clock::time_point(
        duration_cast<std::chrono::system_clock::duration>(std::chrono::seconds(static_cast<std::int64_t>(seconds)) +
                                                           std::chrono::microseconds(static_cast<std::int64_t>(micros))));
}

std::span<const std::byte> packet_view::hwaddr() const noexcept
{
    if (!has(NFULA_HWADDR))
        return {};
    const auto* at = base_ + slots_[NFULA_HWADDR].offset;
    const std::size_t length = std::min<std::size_t>(detail::load_be<std::uint16_t>(at), 8);
    return {at + 4, length};
}

std::string_view packet_view::prefix() const noexcept
{
    return detail::c_string(bytes(NFULA_PREFIX));
}

std::optional<std::uint16_t> packet_view::vlan_proto() const noexcept
{
    if (!has(NFULA_VLAN) || vlan_proto_offset_ == no_attribute)
        return std::nullopt;
    return detail::load_be<std::uint16_t>(base_ + vlan_proto_offset_);
}

std::optional<std::uint16_t> packet_view::vlan_tci() const noexcept
{
    if (!has(NFULA_VLAN) || vlan_tci_offset_ == no_attribute)
        return std::nullopt;
    return detail::load_be<std::uint16_t>(base_ + vlan_tci_offset_);
}

} // namespace nflog
