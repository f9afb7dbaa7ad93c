#ifndef NFLOG_PACKET_HPP
#define NFLOG_PACKET_HPP

#include <nflog/detail/bytes.hpp>
#include <nflog/error.hpp>
#include <nflog/netlink/attribute.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/result.hpp>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace nflog {

/// The netlink message type of an NFLOG packet.
inline constexpr std::uint16_t packet_message_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;

/// Non-owning, fully validated view of one `NFULNL_MSG_PACKET` message.
///
/// `parse` walks the attributes once and records where each one is; every
/// attribute of fixed size is checked then, so the getters never fail and never
/// read out of bounds. Attributes the kernel only sometimes sends are
/// `std::optional` or empty spans. The view is valid as long as the buffer the
/// message lives in (for received packets: as long as their `batch`).
///
/// Attribute flags (`NLA_F_NESTED`, `NLA_F_NET_BYTEORDER`) are masked off the
/// type; unknown types and type 0 are skipped. When a type occurs twice the
/// last occurrence wins, as in a libmnl table filled by `mnl_attr_parse`; a
/// repeated `NFULA_VLAN` replaces both members of the earlier one.
class packet_view {
public:
    /// Highest NFULA_* attribute type this library knows.
    static constexpr std::uint16_t max_attribute = NFULA_L2HDR;

    packet_view() = default;

    /// Parses one netlink message. Errors: `errc::not_a_packet`,
    /// `errc::short_nfgenmsg`, `errc::short_attribute`,
    /// `errc::bad_attribute_length`, `errc::bad_attribute_size`,
    /// `errc::missing_packet_header`.
    static result<packet_view> parse(const netlink::message_view& message) noexcept;

    std::uint16_t group() const noexcept { return group_; }            ///< the NFLOG group (res_id)
    std::uint8_t family() const noexcept { return family_; }           ///< NFPROTO_* of the hook
    std::uint16_t hw_protocol() const noexcept;                        ///< ETH_P_* in host order; 0 in a default view
    std::uint8_t hook() const noexcept;                                ///< NF_INET_* hook number; 0 in a default view

    std::optional<std::uint32_t> mark() const noexcept { return be32(NFULA_MARK); }
    /// Kernel receive time; absent on the output and postrouting hooks.
    std::optional<std::chrono::system_clock::time_point> timestamp() const noexcept;
    std::optional<std::uint32_t> indev() const noexcept { return be32(NFULA_IFINDEX_INDEV); }
    std::optional<std::uint32_t> outdev() const noexcept { return be32(NFULA_IFINDEX_OUTDEV); }
    std::optional<std::uint32_t> physindev() const noexcept { return be32(NFULA_IFINDEX_PHYSINDEV); }
    std::optional<std::uint32_t> physoutdev() const noexcept { return be32(NFULA_IFINDEX_PHYSOUTDEV); }
    /// Link-layer source address, `hw_addrlen` bytes (at most 8); empty when absent.
    std::span<const std::byte> hwaddr() const noexcept;
    /// The logged packet from its L3 header on (inet families), cut to the copy range.
    std::span<const std::byte> payload() const noexcept { return bytes(NFULA_PAYLOAD); }
    /// The rule's log prefix, up to its first NUL (or the attribute's end when
    /// the NUL is missing); empty when absent or empty.
    std::string_view prefix() const noexcept;
    std::optional<std::uint32_t> uid() const noexcept { return be32(NFULA_UID); }
    std::optional<std::uint32_t> gid() const noexcept { return be32(NFULA_GID); }
    std::optional<std::uint32_t> seq() const noexcept { return be32(NFULA_SEQ); }
    std::optional<std::uint32_t> seq_global() const noexcept { return be32(NFULA_SEQ_GLOBAL); }
    std::optional<std::uint16_t> hwtype() const noexcept { return be16(NFULA_HWTYPE); }
    std::span<const std::byte> hwheader() const noexcept { return bytes(NFULA_HWHEADER); }
    std::optional<std::uint16_t> hwlen() const noexcept { return be16(NFULA_HWLEN); }
    /// Conntrack attributes as nfnetlink_conntrack sends them (nested, raw).
    std::span<const std::byte> conntrack() const noexcept { return bytes(NFULA_CT); }
    std::optional<std::uint32_t> ct_info() const noexcept { return be32(NFULA_CT_INFO); }
    std::optional<std::uint16_t> vlan_proto() const noexcept;
    std::optional<std::uint16_t> vlan_tci() const noexcept;
    std::span<const std::byte> l2hdr() const noexcept { return bytes(NFULA_L2HDR); }

    /// Whether attribute `type` (1..max_attribute) was present.
    bool has(std::uint16_t type) const noexcept { return type <= max_attribute && (present_ >> type & 1u) != 0; }
    /// Raw payload of attribute `type`; empty when absent.
    std::span<const std::byte> bytes(std::uint16_t type) const noexcept
    {
        if (!has(type))
            return {};
        const auto* header = base_ + attributes_[type];
        return {header + attribute_header, detail::load<std::uint16_t>(header) - attribute_header};
    }
    /// The whole netlink message.
    std::span<const std::byte> message() const noexcept { return {base_, message_length_}; }

private:
    friend class packet_range;

    // Offset 0 holds the netlink header, never a VLAN member: it marks absence.
    static constexpr std::uint32_t absent = 0;
    static constexpr std::size_t attribute_header = netlink::attribute_view::header_size;

    // Fills `view` in place and returns errc{} on success: a range refills
    // the one view it holds instead of building and copying one per message.
    static errc parse_into(const netlink::message_view& message, packet_view& view) noexcept;

    const std::byte* payload_of(std::uint16_t type) const noexcept { return base_ + attributes_[type] + attribute_header; }

    std::optional<std::uint32_t> be32(std::uint16_t type) const noexcept
    {
        if (!has(type))
            return std::nullopt;
        return detail::load_be<std::uint32_t>(payload_of(type));
    }
    std::optional<std::uint16_t> be16(std::uint16_t type) const noexcept
    {
        if (!has(type))
            return std::nullopt;
        return detail::load_be<std::uint16_t>(payload_of(type));
    }

    const std::byte* base_ = nullptr;
    std::uint32_t message_length_ = 0;
    std::uint16_t group_ = 0;
    std::uint8_t family_ = 0;
    // Offsets of the nested VLAN members' payloads; `absent` when not sent.
    std::uint32_t vlan_proto_offset_ = absent;
    std::uint32_t vlan_tci_offset_ = absent;
    // Bit n set: attribute n was present. Parsing clears one word instead of
    // the whole table, whose stale entries are never read.
    std::uint32_t present_ = 0;
    static_assert(max_attribute < 32);
    // Where each present attribute's header starts, from `base_`. The length
    // is read back from that header, which parse checked.
    std::array<std::uint32_t, max_attribute + 1> attributes_{};
};

// The getters are inline: a consumer reads many per packet, and a call each
// would cost more than the load it wraps.

// A parsed view always has its header; only a default-constructed one lacks it,
// and it must not read through a null base.
inline std::uint16_t packet_view::hw_protocol() const noexcept
{
    if (!has(NFULA_PACKET_HDR))
        return 0;
    return detail::load_be<std::uint16_t>(payload_of(NFULA_PACKET_HDR));
}

inline std::uint8_t packet_view::hook() const noexcept
{
    if (!has(NFULA_PACKET_HDR))
        return 0;
    return detail::load<std::uint8_t>(payload_of(NFULA_PACKET_HDR) + 2);
}

inline std::optional<std::chrono::system_clock::time_point> packet_view::timestamp() const noexcept
{
    if (!has(NFULA_TIMESTAMP))
        return std::nullopt;
    const auto* at = payload_of(NFULA_TIMESTAMP);
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

inline std::span<const std::byte> packet_view::hwaddr() const noexcept
{
    if (!has(NFULA_HWADDR))
        return {};
    const auto* at = payload_of(NFULA_HWADDR);
    const std::size_t length = std::min<std::size_t>(detail::load_be<std::uint16_t>(at), 8);
    return {at + 4, length};
}

inline std::string_view packet_view::prefix() const noexcept
{
    return detail::c_string(bytes(NFULA_PREFIX));
}

inline std::optional<std::uint16_t> packet_view::vlan_proto() const noexcept
{
    if (!has(NFULA_VLAN) || vlan_proto_offset_ == absent)
        return std::nullopt;
    return detail::load_be<std::uint16_t>(base_ + vlan_proto_offset_);
}

inline std::optional<std::uint16_t> packet_view::vlan_tci() const noexcept
{
    if (!has(NFULA_VLAN) || vlan_tci_offset_ == absent)
        return std::nullopt;
    return detail::load_be<std::uint16_t>(base_ + vlan_tci_offset_);
}

/// Forward range over the NFLOG packets of one netlink datagram.
///
/// Elements are `result<packet_view>`: a packet message that fails to parse is
/// an error element and the walk goes on with the next message; a framing
/// error ends the walk after one error element. `NLMSG_NOOP` and other
/// message types are skipped; an `NLMSG_ERROR` is yielded as its errno.
class packet_range {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = result<packet_view>;
        using difference_type = std::ptrdiff_t;
        using pointer = const value_type*;
        using reference = const value_type&;

        iterator() = default;
        reference operator*() const noexcept { return current_; }
        pointer operator->() const noexcept { return &current_; }
        iterator& operator++() noexcept
        {
            settle();
            return *this;
        }
        iterator operator++(int) noexcept
        {
            auto copy = *this;
            ++*this;
            return copy;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept
        {
            return a.at_end_ == b.at_end_ && a.rest_.data() == b.rest_.data() && a.rest_.size() == b.rest_.size();
        }

    private:
        friend class packet_range;
        explicit iterator(std::span<const std::byte> datagram) noexcept : rest_(datagram), at_end_(false) { settle(); }
        void settle() noexcept;

        // The bytes after the current element: the iterator walks the netlink
        // framing itself (with message_range's rules), because a nested
        // message iterator and its result cost more per packet than the parse.
        std::span<const std::byte> rest_;
        bool at_end_ = true;
        value_type current_{packet_view{}};
    };

    packet_range() = default;
    explicit packet_range(std::span<const std::byte> datagram) noexcept : datagram_(datagram) {}

    iterator begin() const noexcept { return iterator(datagram_); }
    iterator end() const noexcept { return {}; }

private:
    std::span<const std::byte> datagram_;
};

} // namespace nflog

#endif
