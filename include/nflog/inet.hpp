#ifndef NFLOG_INET_HPP
#define NFLOG_INET_HPP

#include <boost/asio/ip/address.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace nflog::inet {

/// The network-layer protocol a payload was decoded as.
enum class l3_protocol : std::uint8_t { none, ipv4, ipv6, arp };

/// Why a payload could not be decoded completely. Everything read before the
/// problem is still reported in the flow; nothing after it is invented.
enum class decode_error : std::uint8_t {
    none,
    unknown_l3,            ///< neither hw_protocol nor the version nibble names IPv4, IPv6 or ARP
    bad_ip_version,        ///< the version nibble contradicts hw_protocol
    bad_ipv4_header_length,///< IHL below 5, or beyond the IPv4 total length
    bad_ipv4_total_length, ///< total length smaller than the header
    bad_ipv6_extension,    ///< an extension header whose length runs past the payload length
    extension_chain_too_long, ///< more IPv6 extension headers than the bounded walk allows
    bad_arp_header,        ///< ARP lengths that do not describe IPv4 over a known hardware type
    bad_transport_header,  ///< a transport header with impossible fields (e.g. TCP data offset < 5)
};

/// A short, stable reason for `error`, suitable for logs and JSON ("" for none).
std::string_view to_string(decode_error error) noexcept;

/// What the L3/L4 headers of a logged packet say. A value type, no heap.
struct flow {
    l3_protocol l3 = l3_protocol::none;
    boost::asio::ip::address src;      ///< ARP: sender protocol address
    boost::asio::ip::address dst;      ///< ARP: target protocol address
    std::optional<std::uint8_t> protocol; ///< final upper-layer protocol (after IPv6 extension headers)
    std::optional<std::uint16_t> src_port;
    std::optional<std::uint16_t> dst_port;
    std::optional<std::uint8_t> icmp_type;  ///< ICMP or ICMPv6
    std::optional<std::uint8_t> icmp_code;
    std::optional<std::uint16_t> arp_op;
    bool fragment = false;         ///< any fragment (first or not)
    bool later_fragment = false;   ///< a non-first fragment: it carries no transport header
    bool truncated = false;        ///< the copy ended before the headers did
    bool family_mismatch = false;  ///< the decoded L3 disagrees with the message's family
    decode_error error = decode_error::none;
};

/// Decodes the payload of an NFLOG packet. `hw_protocol` (ETH_P_*, host order)
/// and then the IP version nibble choose the decoder; `family` (NFPROTO_*) is
/// only compared, to set `family_mismatch`. Never reads outside `payload`,
/// never allocates.
flow decode(std::span<const std::byte> payload, std::uint16_t hw_protocol, std::uint8_t family) noexcept;

} // namespace nflog::inet

#endif
