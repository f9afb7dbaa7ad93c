#ifndef NFLOG_INET_HPP
#define NFLOG_INET_HPP

#include <nflog/inet_address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>

namespace nflog::inet {

/// The network-layer protocol a payload was decoded as.
enum class l3_protocol : std::uint8_t { none, ipv4, ipv6, arp };

/// Why a payload could not be decoded completely. Everything read before the
/// problem is still reported in the flow; nothing after it is invented.
///
/// These name bytes that contradict themselves. A copy that simply ends too
/// early (the NFLOG copy range) is not an error: it sets `flow::truncated`.
enum class decode_error : std::uint8_t {
    none,
    /// The payload is not empty, hw_protocol names no known L3 and the version
    /// nibble is neither 4 nor 6.
    unknown_l3,
    /// The version nibble contradicts hw_protocol. When the nibble is 4 or 6 the
    /// packet is still decoded as what it says it is; otherwise nothing is.
    bad_ip_version,
    /// IHL below 5, or a header (with its options) longer than the IPv4 total length.
    bad_ipv4_header_length,
    /// A total length below 20, too short for any IPv4 datagram.
    bad_ipv4_total_length,
    /// An extension header that runs past the end the IPv6 payload length gives.
    bad_ipv6_extension,
    /// More IPv6 extension headers than `max_ipv6_extension_headers`.
    extension_chain_too_long,
    /// ARP whose protocol addresses are not IPv4 (protocol type 0x0800 with
    /// length 4), or an Ethernet hardware type whose address length is not 6.
    bad_arp_header,
    /// A transport header with impossible fields (TCP data offset below 5, a
    /// UDP length below 8, a UDP-Lite checksum coverage of 1 to 7), or one
    /// that runs, or whose UDP length or UDP-Lite coverage reaches, past the
    /// end the L3 length field gives. A UDP length of 0 is a jumbogram's
    /// (RFC 2675), and an error unless that length field is 0 too, as
    /// conntrack sees it (Linux's IPv6 receive path takes 0 anywhere); a
    /// first fragment's UDP length counts the whole datagram, so only its
    /// lower bound is checked.
    ///
    /// That includes, on purpose, a first fragment whose transport header
    /// continues in the next fragment. No sender needs to split it, and the
    /// tiny-fragment attack (RFC 1858) does, to put the TCP flags where a
    /// filter looking at the first fragment does not see them; IPv6 forbids it
    /// outright (RFC 7112). The ports are still reported when their 4 bytes
    /// are in the fragment.
    bad_transport_header,
};

/// A short, stable reason for `error`, suitable for logs and JSON ("" for none).
std::string_view to_string(decode_error error) noexcept;

/// "ipv4", "ipv6", "arp" ("" for none).
std::string_view to_string(l3_protocol protocol) noexcept;

/// The IPv6 walk gives up after this many extension headers, so a forged chain
/// costs a bounded amount of work.
inline constexpr std::size_t max_ipv6_extension_headers = 8;

/// What the L3/L4 headers of a logged packet say. A value type, no heap.
///
/// A field is set only when every byte it comes from was copied and lies inside
/// the datagram's own length, and then it is set even when the copy ends
/// before the header it belongs to: a copy cut inside the fixed IPv4 or IPv6
/// header still gives its protocol, fragment flags and source address when
/// their bytes are there. Addresses that could not be read stay
/// default-constructed (the unspecified address 0.0.0.0) and `has_src` or
/// `has_dst` says so.
struct flow {
    l3_protocol l3 = l3_protocol::none;
    address src;      ///< ARP: sender protocol address
    address dst;      ///< ARP: target protocol address
    /// Whether `src` and `dst` were read from the packet. An unspecified
    /// address is a real one in some packets (a DHCP discover from 0.0.0.0,
    /// duplicate address detection from ::, an ARP probe), so only these tell
    /// it from an address the copy or a malformed header left unread. Bits,
    /// to live in a byte the flow would otherwise pad with.
    bool has_src : 1 = false;
    bool has_dst : 1 = false;
    /// The upper-layer protocol number: IPv4's protocol field as sent; for IPv6
    /// the first header that is not hop-by-hop, routing, fragment, destination
    /// options or AH, which is what the kernel's own walk (and so `meta l4proto`)
    /// stops at. That makes ESP (50), no-next-header (59) and mobility (135)
    /// final. For a later IPv6 fragment, the fragment header's next header.
    std::optional<std::uint8_t> protocol;
    /// TCP, UDP, UDP-Lite and SCTP; set as soon as their first 4 bytes are there.
    std::optional<std::uint16_t> src_port;
    std::optional<std::uint16_t> dst_port;
    std::optional<std::uint8_t> icmp_type;  ///< ICMP or ICMPv6
    std::optional<std::uint8_t> icmp_code;
    std::optional<std::uint16_t> arp_op;
    /// Any fragment (more-fragments flag or a non-zero offset). An IPv6 atomic
    /// fragment (offset 0, M clear) is a whole datagram and is not one. A first
    /// fragment too short for its transport header is also
    /// `bad_transport_header`.
    bool fragment = false;
    bool later_fragment = false;   ///< a non-zero offset: no transport header, so no ports or ICMP fields
    bool truncated = false;        ///< the copy ended before the headers did
    bool family_mismatch = false;  ///< the decoded L3 disagrees with the message's family
    decode_error error = decode_error::none; ///< the first problem met, in header order
};

static_assert(std::is_trivially_copyable_v<flow>);

/// Decodes the payload of an NFLOG packet, which starts at the L3 header.
///
/// Choosing the decoder:
/// - `hw_protocol` ETH_P_ARP: ARP.
/// - `hw_protocol` ETH_P_IP or ETH_P_IPV6: the version nibble decides, because
///   the bytes are what was filtered. A nibble of 4 or 6 that contradicts
///   hw_protocol is decoded as the nibble says and flagged `bad_ip_version`;
///   any other nibble is `bad_ip_version` and leaves `l3` none.
/// - any other `hw_protocol` (0 on some output paths): a nibble of 4 or 6 picks
///   IPv4 or IPv6, anything else is `unknown_l3`.
/// - an empty payload (copy mode meta, copy range 0) is only `truncated`, with
///   `l3` as hw_protocol names it.
///
/// Lengths: the IPv4 total length and IPv6 payload length bound the walk
/// together with the copy. A length of 0 (IPv4 BIG TCP, IPv6 jumbograms and
/// GSO) means "as long as the copy".
///
/// `family` (NFPROTO_*) is only compared: ipv4, ipv6 and arp set
/// `family_mismatch` when `l3` is something else; other families never do.
/// Never reads outside `payload`, never allocates.
flow decode(std::span<const std::byte> payload, std::uint16_t hw_protocol, std::uint8_t family) noexcept;

/// The same, written into `out`, every member of which it replaces: for a
/// flow that lives inside a bigger object, such as an event. Assigning the
/// returned flow there would go through a temporary that the CPU writes in
/// pieces and then reads back whole, which stalls it.
void decode(std::span<const std::byte> payload, std::uint16_t hw_protocol, std::uint8_t family, flow& out) noexcept;

} // namespace nflog::inet

#endif
