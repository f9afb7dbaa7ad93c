#ifndef NFLOG_PACKET_HPP
#define NFLOG_PACKET_HPP

#include <nflog/detail/bytes.hpp>
#include <nflog/error.hpp>
#include <nflog/netlink/attribute.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/result.hpp>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>

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
    bool has(std::uint16_t type) const noexcept { return type <= max_attribute && slots_[type].length != no_attribute; }
    /// Raw payload of attribute `type`; empty when absent.
    std::span<const std::byte> bytes(std::uint16_t type) const noexcept
    {
        if (!has(type))
            return {};
        return {base_ + slots_[type].offset, slots_[type].length};
    }
    /// The whole netlink message.
    std::span<const std::byte> message() const noexcept { return {base_, message_length_}; }

private:
    struct slot {
        std::uint32_t offset = 0;
        std::uint32_t length = no_attribute;
    };
    static constexpr std::uint32_t no_attribute = 0xffffffffu;

    std::optional<std::uint32_t> be32(std::uint16_t type) const noexcept
    {
        if (!has(type))
            return std::nullopt;
        return detail::load_be<std::uint32_t>(base_ + slots_[type].offset);
    }
    std::optional<std::uint16_t> be16(std::uint16_t type) const noexcept
    {
        if (!has(type))
            return std::nullopt;
        return detail::load_be<std::uint16_t>(base_ + slots_[type].offset);
    }

    const std::byte* base_ = nullptr;
    std::uint32_t message_length_ = 0;
    std::uint16_t group_ = 0;
    std::uint8_t family_ = 0;
    std::uint32_t vlan_proto_offset_ = no_attribute;
    std::uint32_t vlan_tci_offset_ = no_attribute;
    std::array<slot, max_attribute + 1> slots_{};
};

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
            ++messages_;
            settle();
            return *this;
        }
        iterator operator++(int) noexcept
        {
            auto copy = *this;
            ++*this;
            return copy;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept { return a.messages_ == b.messages_; }

    private:
        friend class packet_range;
        explicit iterator(netlink::message_range::iterator at) noexcept : messages_(at) { settle(); }
        void settle() noexcept;

        netlink::message_range::iterator messages_;
        value_type current_{packet_view{}};
    };

    packet_range() = default;
    explicit packet_range(std::span<const std::byte> datagram) noexcept : messages_(datagram) {}

    iterator begin() const noexcept { return iterator(messages_.begin()); }
    iterator end() const noexcept { return iterator(messages_.end()); }

private:
    netlink::message_range messages_;
};

inline void packet_range::iterator::settle() noexcept
{
    for (const netlink::message_range::iterator end; messages_ != end; ++messages_) {
        const auto& item = *messages_;
        if (!item) {
            current_ = item.error();
            return;
        }
        const auto& message = item.value();
        if (message.type() == packet_message_type) {
            current_ = packet_view::parse(message);
            return;
        }
        if (message.is_error()) {
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
}

} // namespace nflog

#endif
