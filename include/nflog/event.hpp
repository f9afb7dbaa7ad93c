#ifndef NFLOG_EVENT_HPP
#define NFLOG_EVENT_HPP

#include <nflog/inet.hpp>
#include <nflog/packet.hpp>
#include <nflog/source_id.hpp>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace nflog {

/// Where `event::timestamp` comes from.
enum class timestamp_source : std::uint8_t {
    /// The kernel's receive time (`NFULA_TIMESTAMP`), sent on the hooks up to forward.
    kernel,
    /// The reader's `system_clock` when the datagram arrived: the kernel sends
    /// no timestamp on the output and postrouting hooks.
    local,
};

/// "kernel" or "local".
std::string_view to_string(timestamp_source source) noexcept;

/// One logged packet, owned: a fixed-size value type that never touches the
/// heap, so it can be copied into channels and queues and kept after its
/// `batch` is gone.
///
/// Made from a `packet_view` (which lives only as long as its batch) by
/// `make_event`. Attributes the kernel sends only sometimes stay
/// `std::optional`; what the payload's headers say is in `flow`, including
/// whether the copy was too short (`flow.truncated`) and the first
/// inconsistency met (`flow.error`).
class event {
public:
    /// The kernel sends at most 127 prefix characters (plus a NUL).
    static constexpr std::size_t max_prefix_length = 127;
    /// `nfulnl_msg_packet_hw` has room for 8 address bytes.
    static constexpr std::size_t max_hwaddr_length = 8;

    source_id source = 0;
    std::uint16_t group = 0;       ///< NFLOG group (the `group` of the log rule)
    std::uint8_t family = 0;       ///< NFPROTO_* of the hook
    std::uint8_t hook = 0;         ///< NF_INET_* (or the family's) hook number
    std::uint16_t hw_protocol = 0; ///< ETH_P_*, host order (0 on some output paths)

    std::chrono::system_clock::time_point timestamp{};
    timestamp_source time_source = timestamp_source::local;

    /// `action_from_prefix` of the prefix as the kernel sent it; refers to
    /// static storage.
    std::string_view action = "nflog";

    inet::flow flow;

    std::optional<std::uint32_t> mark;
    std::optional<std::uint32_t> indev;
    std::optional<std::uint32_t> outdev;
    std::optional<std::uint32_t> physindev;
    std::optional<std::uint32_t> physoutdev;
    std::optional<std::uint32_t> uid;
    std::optional<std::uint32_t> gid;
    std::optional<std::uint32_t> seq;        ///< per-group sequence number
    std::optional<std::uint32_t> seq_global; ///< per-namespace sequence number
    std::optional<std::uint16_t> vlan_proto;
    std::optional<std::uint16_t> vlan_tci;

    /// Bytes of packet the message carried (at most the copy range).
    std::uint32_t payload_length = 0;
    /// The `batch::lost_before` of this event's datagram on its first
    /// event, 0 on the others: the events the kernel logged but never
    /// delivered right before this one.
    std::uint64_t lost_before = 0;

    /// The rule's log prefix, without its NUL; at most `max_prefix_length`.
    std::string_view prefix() const noexcept { return {prefix_.data(), prefix_length_}; }
    /// Keeps the first `max_prefix_length` characters of `text`; returns
    /// false when it had to cut (only a forged message is that long).
    bool set_prefix(std::string_view text) noexcept;

    /// Link-layer source address; empty when the kernel sent none.
    std::span<const std::byte> hwaddr() const noexcept { return {hwaddr_.data(), hwaddr_length_}; }
    /// Keeps the first `max_hwaddr_length` bytes; false when it had to cut.
    bool set_hwaddr(std::span<const std::byte> address) noexcept;

    /// Replaces every member with what `packet` says, as `make_event` would
    /// build it, in place: filling a reused event (an array, a batch) this
    /// way costs no copy of the whole object. `lost_before` becomes 0.
    void assign(const packet_view& packet, const inet::flow& flow, std::chrono::system_clock::time_point received_at,
                source_id source = 0) noexcept;
    /// The same, decoding the payload itself.
    void assign(const packet_view& packet, std::chrono::system_clock::time_point received_at,
                source_id source = 0) noexcept;

private:
    // Everything `assign` sets but the flow.
    void assign_packet(const packet_view& packet, std::chrono::system_clock::time_point received_at,
                       source_id from) noexcept;

    // `detail::prefix_action` of the stored prefix when it is the whole text
    // that was classified, else `unknown_action`. A reused event (a slot of a
    // channel's batch, a reader's buffer) mostly gets the same rule's prefix
    // again, and then a comparison replaces the search for markers.
    static constexpr std::uint8_t unknown_action = 0xff;

    std::array<char, max_prefix_length + 1> prefix_{};
    std::uint8_t prefix_length_ = 0;
    std::uint8_t prefix_action_ = unknown_action;
    std::array<std::byte, max_hwaddr_length> hwaddr_{};
    std::uint8_t hwaddr_length_ = 0;
};

// Channels, batches and queues move events as plain bytes.
static_assert(std::is_trivially_copyable_v<event>);

/// Copies everything `packet` says into an event. `flow` is
/// `inet::decode(packet.payload(), packet.hw_protocol(), packet.family())`,
/// passed in so that a caller that decoded it already does not pay twice.
/// `received_at` becomes the timestamp when the kernel sent none (see
/// `timestamp_source`). `lost_before` starts at 0: the watcher sets it from
/// its batch. Never allocates.
event make_event(const packet_view& packet, const inet::flow& flow, std::chrono::system_clock::time_point received_at,
                 source_id source = 0) noexcept;

/// The same, decoding the payload itself.
event make_event(const packet_view& packet, std::chrono::system_clock::time_point received_at,
                 source_id source = 0) noexcept;

} // namespace nflog

#endif
