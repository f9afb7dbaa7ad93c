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

namespace detail {
class packet_walk;
class packet_layout;
// What a default packet_view points at: zeros for the netlink header and
// nfgenmsg that every parsed message has, so its getters read in bounds too.
inline constexpr std::array<std::byte, netlink::message_view::header_size + 4> no_message{};
// The two newest attribute types by number, as the kernel's ABI fixes them:
// libnetfilter_log ships an older copy of <linux/netfilter/nfnetlink_log.h>
// under the same include guard, and a program that includes it first gets
// that copy, which stops at NFULA_CT_INFO.
inline constexpr std::uint16_t nfula_vlan = 20;
inline constexpr std::uint16_t nfula_l2hdr = 21;
} // namespace detail

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
    static constexpr std::uint16_t max_attribute = detail::nfula_l2hdr;

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
    std::span<const std::byte> l2hdr() const noexcept { return bytes(detail::nfula_l2hdr); }

    /// Whether attribute `type` (1..max_attribute) was present.
    bool has(std::uint16_t type) const noexcept { return type <= max_attribute && (present_ >> type & 1u) != 0; }
    /// Raw payload of attribute `type`; empty when absent.
    std::span<const std::byte> bytes(std::uint16_t type) const noexcept
    {
        if (type > max_attribute)
            return {};
        // Loaded either way (see `absent`); only a present length is used.
        const auto* header = header_of(type);
        const std::size_t length = detail::load<std::uint16_t>(header) - attribute_header;
        return present(type) ? std::span(header + attribute_header, length) : std::span<const std::byte>();
    }
    /// The whole netlink message.
    std::span<const std::byte> message() const noexcept { return {base_, message_length_}; }

private:
    friend class detail::packet_walk;
    friend class detail::packet_layout;

    // Offset 0 holds the netlink header and nfgenmsg, 20 readable bytes that
    // are never an attribute. A getter reads there when its attribute is
    // absent: its load is then always safe, and the compiler may pick the
    // value by the presence bit instead of branching on it (which attributes
    // come varies with hook and copy mode). Table entries of absent
    // attributes are stale and never used as they are.
    static constexpr std::uint32_t absent = 0;
    static constexpr std::size_t attribute_header = netlink::attribute_view::header_size;
    static constexpr std::size_t attributes_start =
        netlink::message_view::header_size + detail::align4(sizeof(nfgenmsg));
    // Presence bits of the nested VLAN members, above every attribute type.
    static constexpr unsigned vlan_proto_bit = max_attribute + 1;
    static constexpr unsigned vlan_tci_bit = max_attribute + 2;
    static_assert(vlan_tci_bit < 32);

    // Fills `view` in place and returns errc{} on success: the walk refills
    // the slot it is given instead of building and copying a view per message.
    static errc parse_into(const netlink::message_view& message, packet_view& view) noexcept;
    // Validates every NFULA_VLAN nest among the attributes before `stop`, in
    // order, and keeps the members of the last one. Out of line: the kernel
    // sends VLAN only for bridged, tagged traffic.
    static errc parse_vlans(packet_view& view, std::size_t stop) noexcept;

    bool present(unsigned bit) const noexcept { return (present_ >> bit & 1u) != 0; }
    // The attribute's header, or the message's when it is absent (see `absent`).
    const std::byte* header_of(std::uint16_t type) const noexcept
    {
        return base_ + (present(type) ? attributes_[type] : absent);
    }
    const std::byte* payload_of(std::uint16_t type) const noexcept { return header_of(type) + attribute_header; }

    // The load runs whether or not the attribute is there (see `absent`).
    std::optional<std::uint32_t> be32(std::uint16_t type) const noexcept
    {
        const auto value = detail::load_be<std::uint32_t>(payload_of(type));
        return present(type) ? std::optional<std::uint32_t>(value) : std::nullopt;
    }
    std::optional<std::uint16_t> be16(std::uint16_t type) const noexcept
    {
        const auto value = detail::load_be<std::uint16_t>(payload_of(type));
        return present(type) ? std::optional<std::uint16_t>(value) : std::nullopt;
    }

    const std::byte* base_ = detail::no_message.data();
    std::uint32_t message_length_ = 0;
    std::uint16_t group_ = 0;
    std::uint8_t family_ = 0;
    // Bit n set: attribute n was present; `vlan_proto_bit` and `vlan_tci_bit`
    // for the members of the VLAN nest.
    std::uint32_t present_ = 0;
    // Offsets of the nested VLAN members' payloads; `absent` when not sent.
    std::uint32_t vlan_proto_offset_ = absent;
    std::uint32_t vlan_tci_offset_ = absent;
    // Where each present attribute's header starts, from `base_`. Parsing
    // clears the presence word instead of the whole table. The length is
    // read back from that header, which parse checked.
    std::array<std::uint32_t, max_attribute + 1> attributes_{};
};

namespace detail {

// What the walk needs per attribute type, indexed by type: the lengths an
// attribute may have, its header included, from `minimum` to `minimum +
// spread`, and its presence bit. Fixed-size attributes have no spread; the
// others, type 0 and the unknown types (all of which share entry 0) take
// anything from an empty payload on. Flat arrays of words, so that each use is
// one instruction that reads its operand from memory.
struct attribute_rules {
    std::array<std::uint32_t, packet_view::max_attribute + 1> minimum{};
    std::array<std::uint32_t, packet_view::max_attribute + 1> spread{};
    std::array<std::uint32_t, packet_view::max_attribute + 1> bit{};
};

inline constexpr attribute_rules attribute_table = [] {
    constexpr std::uint32_t header = netlink::attribute_view::header_size;
    attribute_rules out;
    out.minimum.fill(header);
    out.spread.fill(0xffff - header);
    for (std::size_t type = 0; type < out.bit.size(); ++type)
        out.bit[type] = 1u << type;
    const auto fixed = [&](int type, std::size_t payload) {
        out.minimum[static_cast<std::size_t>(type)] = header + static_cast<std::uint32_t>(payload);
        out.spread[static_cast<std::size_t>(type)] = 0;
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

} // namespace detail

// The parse is inline: it runs for every logged packet, and inlined into the
// caller's loop it shares registers with the framing walk and the getters.
inline result<packet_view> packet_view::parse(const netlink::message_view& message) noexcept
{
    packet_view view;
    if (const auto failure = parse_into(message, view); failure != errc{})
        return make_error_code(failure);
    return view;
}

// One flat loop over the attribute headers. Each header's place depends on
// the length in the one before; that chain of loads would set the pace, so
// the common lengths step by a predicted branch instead (see the end of the
// loop). The work per attribute stays off the chain, and the kernel's
// messages never take its error branches.
inline errc packet_view::parse_into(const netlink::message_view& message, packet_view& view) noexcept
{
    if (message.type() != packet_message_type)
        return errc::not_a_packet;
    const auto bytes = message.bytes();
    if (bytes.size() < attributes_start)
        return errc::short_nfgenmsg;

    const std::byte* base = bytes.data();
    const std::size_t end = bytes.size();
    constexpr std::size_t netlink_header = netlink::message_view::header_size;
    view.base_ = base;
    // nlmsg_len is 32 bits, so the message length and every offset in it fit.
    view.message_length_ = static_cast<std::uint32_t>(end);
    view.family_ = detail::load<std::uint8_t>(base + netlink_header);
    view.group_ = detail::load_be<std::uint16_t>(base + netlink_header + 2);
    view.vlan_proto_offset_ = view.vlan_tci_offset_ = absent;
    std::uint32_t present = 0;

    // Every rule's minimum is at least the attribute header, so the rule
    // check also catches a length below it, and only the last attribute can
    // run past the end: its successor's header would then start past it too,
    // ending the loop. Both bounds are thus paid for once per message, not
    // once per attribute; the failure path tells the two errors apart.
    // Offsets stay far from overflow: `at` ends at most 3 bytes past `end`
    // after an unpadded last attribute, which is accepted, and at most 64 KiB
    // past it after one that runs past the end.
    std::size_t at = attributes_start;
    // 32 bits, like the rules it is checked against: the check then takes
    // its operands straight from the table.
    std::uint32_t length = 0;
    errc failure{};
    // The message holds at least nfgenmsg, so this does not wrap.
    const std::size_t last_header = end - attribute_header;
    while (at <= last_header) {
        length = detail::load<std::uint16_t>(base + at);
        // Newer kernels may add attributes: what we do not know goes to entry
        // 0 with type 0, whose presence bit is dropped below.
        const unsigned raw = unsigned{detail::load<std::uint16_t>(base + at + 2)} & netlink::type_mask;
        const unsigned type = raw <= max_attribute ? raw : 0u;
        // One range test for fixed and free sizes alike: a branch on "is this
        // type fixed" would change direction from one attribute to the next.
        if (length - detail::attribute_table.minimum[type] > detail::attribute_table.spread[type]) [[unlikely]] {
            failure = length < attribute_header || length > end - at ? errc::bad_attribute_length
                                                                     : errc::bad_attribute_size;
            break;
        }
        view.attributes_[type] = static_cast<std::uint32_t>(at);
        present |= detail::attribute_table.bit[type];
        // Most attributes are 4-byte values. For them the next header's place
        // follows from a predicted branch instead of the length just loaded,
        // so the CPU can load that header before this length arrives and the
        // chain of loads is cut. `at` is a multiple of 4, so the general step
        // is `at + align4(length)`.
        if (length - (attribute_header + 1) < 4) [[likely]]
            at += attribute_header + 4;
        else
            at = (at + length + 3) & ~std::size_t{3};
    }
    if (failure == errc{} && length > end - (at - detail::align4(length))) [[unlikely]] {
        failure = errc::bad_attribute_length;
        at -= detail::align4(length);
    }
    present &= ~1u;
    view.present_ = present;
    // A VLAN nest is checked where it stood among the other errors: before
    // the attribute that failed, before a short tail.
    if ((present & 1u << detail::nfula_vlan) != 0) [[unlikely]] {
        if (const auto nested = parse_vlans(view, failure != errc{} ? at : end); nested != errc{})
            return nested;
    }
    if (failure != errc{})
        return failure;
    if (at < end)
        return errc::short_attribute;
    if ((present & 1u << NFULA_PACKET_HDR) == 0)
        return errc::missing_packet_header;
    return errc{};
}

// The getters are inline: a consumer reads many per packet, and a call each
// would cost more than the load it wraps.

// Every parsed view has its packet header. A default view points at zeros
// (`detail::no_message`), so the same load gives 0 there.
inline std::uint16_t packet_view::hw_protocol() const noexcept
{
    return detail::load_be<std::uint16_t>(payload_of(NFULA_PACKET_HDR));
}

inline std::uint8_t packet_view::hook() const noexcept
{
    return detail::load<std::uint8_t>(payload_of(NFULA_PACKET_HDR) + 2);
}

inline std::optional<std::chrono::system_clock::time_point> packet_view::timestamp() const noexcept
{
    // A branch, not a select as in the other getters: built from a selected
    // value and flag, the optional went through the stack in two stores and
    // came back in one wider load, which the CPU cannot forward.
    if (!present(NFULA_TIMESTAMP))
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
    const auto* at = payload_of(NFULA_HWADDR);
    const std::size_t length = std::min<std::size_t>(detail::load_be<std::uint16_t>(at), 8);
    return present(NFULA_HWADDR) ? std::span(at + 4, length) : std::span<const std::byte>();
}

inline std::string_view packet_view::prefix() const noexcept
{
    return detail::c_string(bytes(NFULA_PREFIX));
}

inline std::optional<std::uint16_t> packet_view::vlan_proto() const noexcept
{
    const auto value = detail::load_be<std::uint16_t>(base_ + vlan_proto_offset_);
    return present(vlan_proto_bit) ? std::optional(value) : std::nullopt;
}

inline std::optional<std::uint16_t> packet_view::vlan_tci() const noexcept
{
    const auto value = detail::load_be<std::uint16_t>(base_ + vlan_tci_offset_);
    return present(vlan_tci_bit) ? std::optional(value) : std::nullopt;
}

namespace detail {

/// The framing walk over one datagram's packet messages, writing each
/// element into a slot its caller owns: `packet_range` keeps one slot and
/// refills it, a `batch` parses straight into the vector it keeps, so no
/// parsed view is ever copied.
class packet_walk {
public:
    packet_walk() = default;
    explicit packet_walk(std::span<const std::byte> datagram) noexcept : rest_(datagram) {}

    /// Writes the next element into `element`, or returns false at the end.
    /// A slot that holds a view is refilled in place; a slot's old contents
    /// never show through.
    bool next(result<packet_view>& element) noexcept
    {
        parse_each_message in_full;
        return next(element, in_full);
    }
    /// The same, with `layout` offered each packet message first (see
    /// `packet_layout`): `layout.reuse(message, view)` fills the view when it
    /// can, else the message is parsed and a view that parsed is given to
    /// `layout.remember(view)`.
    template <class Layout>
    bool next(result<packet_view>& element, Layout& layout) noexcept;

    /// The bytes after the last element written.
    std::span<const std::byte> rest() const noexcept { return rest_; }

private:
    // The layout of a walk that parses every message in full.
    struct parse_each_message {
        static bool reuse(const netlink::message_view&, packet_view&) noexcept { return false; }
        static void remember(const packet_view&) noexcept {}
    };

    // The rare outcomes, out of line so that the inlined walk stays small:
    // a framing error ends the walk after one error element; an
    // NLMSG_ERROR becomes an element unless it is an acknowledgement.
    void stop(result<packet_view>& element, errc failure) noexcept;
    static bool yield_error(result<packet_view>& element, const netlink::message_view& message) noexcept;

    // The walk reads the netlink framing itself (with message_range's
    // rules), because a nested message iterator and its result cost more
    // per packet than the parse.
    std::span<const std::byte> rest_;
};

} // namespace detail

/// Forward range over the NFLOG packets of one netlink datagram.
///
/// Elements are `result<packet_view>`: a packet message that fails to parse is
/// an error element and the walk goes on with the next message; a framing
/// error ends the walk after one error element. `NLMSG_NOOP` and other
/// message types are skipped; an `NLMSG_ERROR` is yielded as its errno (an
/// acknowledgement, errno 0, yields nothing; a malformed one yields
/// `errc::bad_error_message`).
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
            return a.at_end_ == b.at_end_ && a.walk_.rest().data() == b.walk_.rest().data() &&
                   a.walk_.rest().size() == b.walk_.rest().size();
        }

    private:
        friend class packet_range;
        explicit iterator(std::span<const std::byte> datagram) noexcept : walk_(datagram), at_end_(false) { settle(); }
        void settle() noexcept { at_end_ = !walk_.next(current_); }

        detail::packet_walk walk_;
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

// In the header with the parse, so that the parse inlines into the walk and
// the compiler may inline both into the caller's loop.
// Declared inline although a template: GCC then weighs inlining it with the
// larger budget of functions declared inline.
template <class Layout>
inline bool detail::packet_walk::next(result<packet_view>& element, Layout& layout) noexcept
{
    constexpr std::size_t header_size = netlink::message_view::header_size;
    while (!rest_.empty()) {
        if (rest_.size() < header_size) [[unlikely]] {
            stop(element, errc::short_message);
            return true;
        }
        const auto length = detail::load<std::uint32_t>(rest_.data());
        if (length < header_size || length > rest_.size()) [[unlikely]] {
            stop(element, errc::bad_message_length);
            return true;
        }
        const netlink::message_view message(rest_.first(length));
        const auto type = message.type();
        if (type == NLMSG_DONE)
            break;
        // An unpadded last message is accepted.
        rest_ = rest_.subspan(std::min<std::size_t>(detail::align4(length), rest_.size()));
        if (type == packet_message_type) [[likely]] {
            if (!element.has_value()) [[unlikely]]
                element = packet_view{};
            auto& view = element.assume_value();
            if (layout.reuse(message, view))
                return true;
            if (const auto failure = packet_view::parse_into(message, view); failure != errc{}) [[unlikely]]
                element = make_error_code(failure);
            else
                layout.remember(view);
            return true;
        }
        if (type == NLMSG_ERROR && yield_error(element, message))
            return true;
    }
    rest_ = {};
    return false;
}

} // namespace nflog

#endif
