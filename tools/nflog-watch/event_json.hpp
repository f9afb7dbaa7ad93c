#ifndef NFLOG_WATCH_EVENT_JSON_HPP
#define NFLOG_WATCH_EVENT_JSON_HPP

// One NFLOG packet as one line of JSON: an object, compact (no spaces), keys
// in this order, each written only when the message carries it:
//
//   ts           string   ISO-8601 UTC, microseconds, "2024-05-01T12:34:56.000789+00:00":
//                         the kernel's timestamp when the message has one, else
//                         the context's fallback time
//   ts_source    string   "kernel", "capture" (the capture record's time) or
//                         "local" (the reader's clock)
//   source       string   always "nflog"
//   action       string   nflog::action_from_prefix(prefix), "nflog" without a prefix
//   container    string   always; the context's label, "" by default
//   netns        string   the context's network namespace name, when it has one
//   group        number   NFLOG group
//   family       string   "ipv4", "ipv6", "bridge", "arp", "netdev";
//                number   any other NFPROTO_* value
//   hook         number   NF_INET_* (or the family's) hook number
//   hw_protocol  number   ETH_P_* value, as the kernel sends it (0 on some output paths)
//   prefix       string   the rule's log prefix (escaped as json_writer.hpp says)
//   detail       string   the same prefix again, under the name earlier consumers read
//   l3           string   "ipv4", "ipv6", "arp"
//   src, dest    string   addresses (ARP: sender and target protocol addresses);
//                         absent when not read; an unspecified address (0.0.0.0, ::)
//                         is written only when the decode was complete, since a
//                         truncated or malformed packet cannot tell it from "not read"
//   proto        string   "tcp", "udp", "icmp", "icmpv6", "sctp", "udplite";
//                number   any other IP protocol number (the final one, after IPv6
//                         extension headers)
//   sport, dport number   transport ports (TCP, UDP, UDP-Lite, SCTP)
//   port         number   dport again, under the name earlier consumers read
//   icmp_type    number
//   icmp_code    number
//   arp_op       number
//   fragment     true     only for a fragment (first or later); absent otherwise
//   truncated    true     only when the copy ended before the headers did, or
//                         when the capture's snap length cut the message
//                         (payload_len then counts the bytes left)
//   decode_error string   why the payload could not be decoded completely
//   mark         number
//   indev, outdev, physindev, physoutdev   number   interface indices
//   uid, gid     number
//   seq          number   per-instance sequence number (NFULNL_CFG_F_SEQ)
//   seq_global   number   per-namespace sequence number (NFULNL_CFG_F_SEQ_GLOBAL)
//   hwaddr       string   "aa:bb:cc:dd:ee:ff", lowercase
//   vlan_proto   number
//   vlan_tci     number
//   payload_len  number   bytes of packet the message carries (NFULA_PAYLOAD)
//
// Numbers are JSON integers; booleans are written only as true; strings are
// valid UTF-8 whatever the message held.

#include "error_reason.hpp"
#include "json_writer.hpp"

#include <nflog/inet.hpp>
#include <nflog/packet.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace nflog::watch {

/// Where an event's `ts` comes from.
enum class time_source : std::uint8_t {
    kernel,  ///< NFULA_TIMESTAMP
    capture, ///< the capture record's time
    local,   ///< the reader's clock when the message arrived
};

/// "kernel", "capture", "local".
std::string_view to_string(time_source source) noexcept;

/// What an event needs beyond the message itself.
struct event_context {
    /// Used when the message carries no kernel timestamp (the kernel sends none
    /// on the output and postrouting hooks).
    std::chrono::system_clock::time_point fallback_time{};
    /// What `fallback_time` is: `capture` or `local`.
    time_source fallback_source = time_source::local;
    /// Written as `container`; the views must outlive the call only.
    std::string_view container;
    /// Written as `netns` when set.
    std::optional<std::string_view> netns;
    /// The capture's snap length cut the message: `truncated` is written.
    bool cut_by_snap_length = false;
};

/// Replaces `line` with the JSON object for `packet` (no newline). `flow` is
/// `inet::decode` of the packet's payload. Allocates only while `line` lacks
/// capacity: with a reused string the steady state allocates nothing.
void write_event(std::string& line, const packet_view& packet, const inet::flow& flow, const event_context& context);

/// Replaces `line` with the start of an error object: `error` (the reason),
/// then `ts`, `ts_source`, `source`, `container` and `netns` from `context`.
/// The caller adds what locates the problem (a record number, ...) and closes
/// the object.
json_object_writer begin_error(std::string& line, std::string_view reason, const event_context& context);

/// Replaces `line` with the error object for a message that could not be
/// used (`packet_range`'s error element): `begin_error` with
/// `message_error_reason`, then `record` (the capture record's number, when
/// the message came from a capture) and, for an error answer of the
/// kernel, `errno`. The reader of a capture and the live watcher share it,
/// so that a malformed message reads the same wherever it came from.
void write_message_error(std::string& line, const boost::system::error_code& error, const event_context& context,
                         std::optional<std::uint64_t> record, reason_buffer& buffer);

} // namespace nflog::watch

#endif
