#include "nflog/inet.hpp"

#include "nflog/detail/bytes.hpp"
#include "nflog/detail/inet_general_path.hpp"

#include <net/if_arp.h>
#include <netinet/in.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>

#include <cstring>
#include <limits>

namespace nflog::inet {
namespace {

constexpr std::size_t ipv4_fixed_header = 20;
constexpr std::size_t ipv6_fixed_header = 40;
constexpr std::size_t arp_fixed_header = 8;
constexpr std::size_t ipv6_fragment_header = 8;
constexpr std::size_t tcp_fixed_header = 20;
constexpr std::size_t udp_header = 8;
constexpr std::size_t sctp_common_header = 12;
// struct icmphdr and icmp6hdr: every defined message has at least these 8 bytes.
constexpr std::size_t icmp_header = 8;
constexpr std::size_t ports_size = 4;

// Where a requested byte range ends up: a datagram has two ends, the copy the
// kernel made and the length its own header claims, and which one a header
// crosses decides between "truncated" and "malformed".
enum class reach { inside, past_copy, past_datagram };

class datagram {
public:
    // A length field of 0 (jumbograms, BIG TCP) says nothing, so only the copy bounds.
    static constexpr std::size_t unknown_length = std::numeric_limits<std::size_t>::max();

    datagram(std::span<const std::byte> copy, std::size_t claimed_length) noexcept
        : copy_(copy), claimed_length_(claimed_length)
    {
    }

    reach check(std::size_t offset, std::size_t count) const noexcept
    {
        if (offset > claimed_length_ || count > claimed_length_ - offset)
            return reach::past_datagram;
        if (offset > copy_.size() || count > copy_.size() - offset)
            return reach::past_copy;
        return reach::inside;
    }

    std::uint8_t u8(std::size_t offset) const noexcept { return std::to_integer<std::uint8_t>(copy_[offset]); }
    std::uint16_t u16(std::size_t offset) const noexcept { return detail::load_be<std::uint16_t>(copy_.data() + offset); }

    // The bytes the datagram's own length gives from `offset` on, which
    // lies inside it; `unknown_length` when that length is 0.
    std::size_t room(std::size_t offset) const noexcept
    {
        return claimed_length_ == unknown_length ? unknown_length : claimed_length_ - offset;
    }

    // Only after a bounds check of the caller's.
    void v4(address& to, std::size_t offset) const noexcept { detail::address_writer::v4(to, copy_.data() + offset); }
    void v6(address& to, std::size_t offset) const noexcept { detail::address_writer::v6(to, copy_.data() + offset); }

private:
    std::span<const std::byte> copy_;
    std::size_t claimed_length_;
};

void record(flow& out, decode_error error) noexcept
{
    if (out.error == decode_error::none)
        out.error = error;
}

// Whether `count` bytes at `offset` can be read; if not, records why: a header
// cut by the copy is truncation, one cut by the datagram's own length is `malformed`.
bool readable(flow& out, const datagram& bytes, std::size_t offset, std::size_t count, decode_error malformed) noexcept
{
    switch (bytes.check(offset, count)) {
    case reach::inside:
        return true;
    case reach::past_copy:
        out.truncated = true;
        return false;
    case reach::past_datagram:
        record(out, malformed);
        return false;
    }
    return false;
}

// Ports come first in every header that has them, so they are reported as soon
// as their 4 bytes are there; the rest of the header only decides whether the
// copy or the datagram ended early. Returns whether the whole header was there.
bool decode_ports(flow& out, const datagram& bytes, std::size_t offset, std::size_t header_size) noexcept
{
    if (!readable(out, bytes, offset, ports_size, decode_error::bad_transport_header))
        return false;
    out.src_port = bytes.u16(offset);
    out.dst_port = bytes.u16(offset + 2);
    return readable(out, bytes, offset, header_size, decode_error::bad_transport_header);
}

// The UDP length field counts the header and what follows; a datagram may
// carry bytes after it (Linux trims them), never fewer. 0 is what a
// jumbogram carries (RFC 2675), which only a datagram whose L3 length is
// unknown can be. UDP-Lite holds its checksum coverage there (RFC 3828): 0
// for the whole datagram, else at least the header. A first fragment's
// field counts the reassembled datagram, which the fragment does not bound.
// `room`: what the L3 length leaves from the UDP header on.
bool udp_length_valid(std::uint8_t protocol, std::size_t field, std::size_t room, bool fragment) noexcept
{
    if (field == 0)
        return protocol == IPPROTO_UDPLITE || room == datagram::unknown_length;
    return field >= udp_header && (fragment || field <= room);
}

void decode_udp(flow& out, const datagram& bytes, std::size_t offset, std::uint8_t protocol) noexcept
{
    if (decode_ports(out, bytes, offset, udp_header) &&
        !udp_length_valid(protocol, bytes.u16(offset + 4), bytes.room(offset), out.fragment))
        record(out, decode_error::bad_transport_header);
}

void decode_tcp(flow& out, const datagram& bytes, std::size_t offset) noexcept
{
    if (!decode_ports(out, bytes, offset, tcp_fixed_header))
        return;
    const std::size_t header_size = (bytes.u8(offset + 12) >> 4) * 4u;
    if (header_size < tcp_fixed_header) {
        record(out, decode_error::bad_transport_header);
        return;
    }
    readable(out, bytes, offset, header_size, decode_error::bad_transport_header);
}

void decode_icmp(flow& out, const datagram& bytes, std::size_t offset) noexcept
{
    if (!readable(out, bytes, offset, 2, decode_error::bad_transport_header))
        return;
    out.icmp_type = bytes.u8(offset);
    out.icmp_code = bytes.u8(offset + 1);
    readable(out, bytes, offset, icmp_header, decode_error::bad_transport_header);
}

void decode_transport(flow& out, const datagram& bytes, std::size_t offset, std::uint8_t protocol) noexcept
{
    switch (protocol) {
    case IPPROTO_TCP:
        decode_tcp(out, bytes, offset);
        break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
        decode_udp(out, bytes, offset, protocol);
        break;
    case IPPROTO_SCTP:
        decode_ports(out, bytes, offset, sctp_common_header);
        break;
    case IPPROTO_ICMP:
        if (out.l3 == l3_protocol::ipv4)
            decode_icmp(out, bytes, offset);
        break;
    case IPPROTO_ICMPV6:
        if (out.l3 == l3_protocol::ipv6)
            decode_icmp(out, bytes, offset);
        break;
    default:
        break;
    }
}

// Whether the copy holds the first `end` bytes. The fixed IPv4 and IPv6
// headers lie inside the datagram whatever its length fields say (a shorter
// total length is an error of its own), so only the copy can cut them.
bool copied(flow& out, std::span<const std::byte> payload, std::size_t end) noexcept
{
    if (payload.size() >= end)
        return true;
    out.truncated = true;
    return false;
}

// The fields after the total length, each as soon as the copy holds it.
void decode_ipv4_fixed_fields(flow& out, const datagram& bytes, std::span<const std::byte> payload) noexcept
{
    if (copied(out, payload, 8)) {
        const auto fragment_field = bytes.u16(6);
        const bool more_fragments = (fragment_field & 0x2000) != 0;
        const bool non_zero_offset = (fragment_field & 0x1fff) != 0;
        out.fragment = more_fragments || non_zero_offset;
        out.later_fragment = non_zero_offset;
    }
    if (copied(out, payload, 10))
        out.protocol = bytes.u8(9);
    if (copied(out, payload, 16)) {
        bytes.v4(out.src, 12);
        out.has_src = true;
    }
    if (copied(out, payload, ipv4_fixed_header)) {
        bytes.v4(out.dst, 16);
        out.has_dst = true;
    }
}

// A copy cut inside the fixed header still gives every field it holds whole.
void decode_ipv4(flow& out, std::span<const std::byte> payload) noexcept
{
    out.l3 = l3_protocol::ipv4;
    const std::size_t header_size = (std::to_integer<std::uint8_t>(payload[0]) & 0x0f) * 4u;
    // Below 5 nothing after the first byte has a known place.
    if (header_size < ipv4_fixed_header) {
        record(out, decode_error::bad_ipv4_header_length);
        return;
    }
    // Every field read after this one lies past it.
    if (!copied(out, payload, 4))
        return;
    const auto total_length = detail::load_be<std::uint16_t>(payload.data() + 2);
    if (total_length != 0 && total_length < ipv4_fixed_header) {
        record(out, decode_error::bad_ipv4_total_length);
        return;
    }
    const datagram bytes(payload, total_length == 0 ? datagram::unknown_length : total_length);
    decode_ipv4_fixed_fields(out, bytes, payload);
    if (!readable(out, bytes, 0, header_size, decode_error::bad_ipv4_header_length))
        return;
    if (out.later_fragment)
        return;
    decode_transport(out, bytes, header_size, out.protocol.value());
}

bool is_ipv6_extension(std::uint8_t next_header) noexcept
{
    switch (next_header) {
    case IPPROTO_HOPOPTS:
    case IPPROTO_ROUTING:
    case IPPROTO_FRAGMENT:
    case IPPROTO_DSTOPTS:
    case IPPROTO_AH:
        return true;
    default:
        return false;
    }
}

void walk_ipv6_headers(flow& out, const datagram& bytes, std::uint8_t next_header, std::size_t offset) noexcept
{
    for (std::size_t walked = 0; is_ipv6_extension(next_header); ++walked) {
        if (walked == max_ipv6_extension_headers) {
            record(out, decode_error::extension_chain_too_long);
            return;
        }
        std::size_t header_size = ipv6_fragment_header;
        if (next_header == IPPROTO_FRAGMENT) {
            if (!readable(out, bytes, offset, ipv6_fragment_header, decode_error::bad_ipv6_extension))
                return;
            const auto offset_and_flags = bytes.u16(offset + 2);
            const bool non_zero_offset = (offset_and_flags >> 3) != 0;
            out.fragment = out.fragment || non_zero_offset || (offset_and_flags & 1) != 0;
            if (non_zero_offset) {
                out.later_fragment = true;
                out.protocol = bytes.u8(offset);
                return;
            }
        } else {
            if (!readable(out, bytes, offset, 2, decode_error::bad_ipv6_extension))
                return;
            // AH counts 4-octet units minus 2 (RFC 4302); the others 8-octet units minus 1 (RFC 8200).
            const std::size_t length_field = bytes.u8(offset + 1);
            header_size = next_header == IPPROTO_AH ? (length_field + 2) * 4 : (length_field + 1) * 8;
            if (!readable(out, bytes, offset, header_size, decode_error::bad_ipv6_extension))
                return;
        }
        next_header = bytes.u8(offset);
        offset += header_size;
    }
    out.protocol = next_header;
    decode_transport(out, bytes, offset, next_header);
}

// A copy cut inside the fixed header still gives every field it holds whole.
void decode_ipv6(flow& out, std::span<const std::byte> payload) noexcept
{
    out.l3 = l3_protocol::ipv6;
    std::size_t claimed_length = datagram::unknown_length;
    if (copied(out, payload, 6)) {
        const auto payload_length = detail::load_be<std::uint16_t>(payload.data() + 4);
        if (payload_length != 0)
            claimed_length = ipv6_fixed_header + payload_length;
    }
    const datagram bytes(payload, claimed_length);
    if (copied(out, payload, 24)) {
        bytes.v6(out.src, 8);
        out.has_src = true;
    }
    if (copied(out, payload, ipv6_fixed_header)) {
        bytes.v6(out.dst, 24);
        out.has_dst = true;
        walk_ipv6_headers(out, bytes, bytes.u8(6), ipv6_fixed_header);
        return;
    }
    // A next header that is no extension header is final wherever the copy
    // ends; an extension header's own next header was not copied.
    if (copied(out, payload, 7) && !is_ipv6_extension(bytes.u8(6)))
        out.protocol = bytes.u8(6);
}

bool describes_ipv4_addresses(std::uint16_t hardware_type, std::uint8_t hardware_length, std::uint16_t protocol_type,
                              std::uint8_t protocol_length) noexcept
{
    if (protocol_type != ETH_P_IP || protocol_length != 4)
        return false;
    const bool ethernet = hardware_type == ARPHRD_ETHER || hardware_type == ARPHRD_IEEE802;
    return !ethernet || hardware_length == ETH_ALEN;
}

// IEEE 1394 ARP carries no target hardware address (RFC 2734, section 5.2):
// the target protocol address follows the sender's.
std::size_t target_hardware_length(std::uint16_t hardware_type, std::uint8_t hardware_length) noexcept
{
    return hardware_type == ARPHRD_IEEE1394 ? 0 : hardware_length;
}

void decode_arp(flow& out, std::span<const std::byte> payload) noexcept
{
    out.l3 = l3_protocol::arp;
    // ARP carries no length of its own: only the copy can end it early.
    const datagram bytes(payload, datagram::unknown_length);
    if (!readable(out, bytes, 0, arp_fixed_header, decode_error::bad_arp_header))
        return;
    out.arp_op = bytes.u16(6);
    const std::uint8_t hardware_length = bytes.u8(4);
    if (!describes_ipv4_addresses(bytes.u16(0), hardware_length, bytes.u16(2), bytes.u8(5))) {
        record(out, decode_error::bad_arp_header);
        return;
    }
    const std::size_t sender = arp_fixed_header + hardware_length;
    const std::size_t target = sender + 4 + target_hardware_length(bytes.u16(0), hardware_length);
    if (!readable(out, bytes, sender, 4, decode_error::bad_arp_header))
        return;
    bytes.v4(out.src, sender);
    out.has_src = true;
    if (!readable(out, bytes, target, 4, decode_error::bad_arp_header))
        return;
    bytes.v4(out.dst, target);
    out.has_dst = true;
}

l3_protocol named_by(std::uint16_t hw_protocol) noexcept
{
    switch (hw_protocol) {
    case ETH_P_IP:
        return l3_protocol::ipv4;
    case ETH_P_IPV6:
        return l3_protocol::ipv6;
    case ETH_P_ARP:
        return l3_protocol::arp;
    default:
        return l3_protocol::none;
    }
}

void decode_ip(flow& out, std::span<const std::byte> payload, l3_protocol claimed) noexcept
{
    const auto version = std::to_integer<std::uint8_t>(payload[0]) >> 4;
    const auto found = version == 4 ? l3_protocol::ipv4 : version == 6 ? l3_protocol::ipv6 : l3_protocol::none;
    if (found == l3_protocol::none) {
        record(out, claimed == l3_protocol::none ? decode_error::unknown_l3 : decode_error::bad_ip_version);
        return;
    }
    if (claimed != l3_protocol::none && claimed != found)
        record(out, decode_error::bad_ip_version);
    if (found == l3_protocol::ipv4)
        decode_ipv4(out, payload);
    else
        decode_ipv6(out, payload);
}

bool contradicts(std::uint8_t family, l3_protocol decoded) noexcept
{
    if (decoded == l3_protocol::none)
        return false;
    switch (family) {
    case NFPROTO_IPV4:
        return decoded != l3_protocol::ipv4;
    case NFPROTO_IPV6:
        return decoded != l3_protocol::ipv6;
    case NFPROTO_ARP:
        return decoded != l3_protocol::arp;
    default:
        return false;
    }
}

// Every payload the fast path in `decode` leaves: ARP, IPv4 with options,
// IPv6 extension headers, cut copies, every error. Out of line, so that the
// fast path needs no stack frame of its own.
[[gnu::noinline]] void decode_any(flow& out, std::span<const std::byte> payload, std::uint16_t hw_protocol) noexcept
{
    const auto claimed = named_by(hw_protocol);
    if (claimed == l3_protocol::arp) {
        decode_arp(out, payload);
    } else if (payload.empty()) {
        out.l3 = claimed;
        out.truncated = true;
    } else {
        decode_ip(out, payload, claimed);
    }
}

// Reads a transport header that lies whole within `available` bytes (both
// ends of the datagram); a protocol nothing is read from needs no bytes.
// `udp_bound`: the largest UDP length `udp_length_valid` takes here.
// False, with `out` untouched, for a header cut by either end or one that
// contradicts itself, and for the rare valid UDP length of 0: the general
// walk tells those apart. Inlined by force: out of line (which g++ chose
// once the UDP length was checked) every decode paid a call, about 30
// instructions more per packet.
[[gnu::always_inline]] inline bool read_whole_transport(flow& out, const std::byte* header, std::size_t available,
                                                        std::size_t udp_bound, std::uint8_t protocol,
                                                        std::uint8_t icmp) noexcept
{
    std::size_t needed = 0;
    switch (protocol) {
    case IPPROTO_TCP:
        if (available < tcp_fixed_header)
            return false;
        needed = (std::to_integer<std::uint8_t>(header[12]) >> 4) * 4u;
        if (needed < tcp_fixed_header)
            return false;
        break;
    case IPPROTO_UDP:
    case IPPROTO_UDPLITE:
        // Both bounds in one unsigned comparison: a length below 8 wraps
        // around. `udp_bound` is at least `available` (the copy can only cut
        // the L3 length shorter), so testing `available` first keeps
        // `udp_bound - udp_header` from wrapping too.
        if (available < udp_header ||
            std::size_t{detail::load_be<std::uint16_t>(header + 4)} - udp_header > udp_bound - udp_header)
            return false;
        needed = udp_header;
        break;
    case IPPROTO_SCTP:
        needed = sctp_common_header;
        break;
    default:
        if (protocol != icmp)
            return true;
        if (available < icmp_header)
            return false;
        out.icmp_type = std::to_integer<std::uint8_t>(header[0]);
        out.icmp_code = std::to_integer<std::uint8_t>(header[1]);
        return true;
    }
    if (available < needed)
        return false;
    out.src_port = detail::load_be<std::uint16_t>(header);
    out.dst_port = detail::load_be<std::uint16_t>(header + 2);
    return true;
}

// Nearly every logged packet is IPv4 without options or IPv6 without
// extension headers, followed by a transport header that was copied whole:
// one length test per header decides it. Anything else returns false with
// `out` untouched; the general walk gives the same flow for these packets
// too, with a bounds check per field.
bool decode_common(flow& out, std::span<const std::byte> payload, std::uint16_t hw_protocol) noexcept
{
    const std::byte* bytes = payload.data();
    const std::size_t copied = payload.size();
    if (copied < ipv4_fixed_header || hw_protocol == ETH_P_ARP)
        return false;
    const auto first = std::to_integer<std::uint8_t>(bytes[0]);
    if (first == 0x45 && hw_protocol != ETH_P_IPV6) {
        const std::size_t total_length = detail::load_be<std::uint16_t>(bytes + 2);
        // Below the fixed header is an error the general walk records.
        if (total_length != 0 && total_length < ipv4_fixed_header)
            return false;
        const std::size_t end = total_length != 0 && total_length < copied ? total_length : copied;
        const auto fragment_field = detail::load_be<std::uint16_t>(bytes + 6);
        const auto protocol = std::to_integer<std::uint8_t>(bytes[9]);
        const bool later_fragment = (fragment_field & 0x1fff) != 0;
        const bool fragment = (fragment_field & 0x3fff) != 0;
        const std::size_t udp_bound =
            total_length != 0 && !fragment ? total_length - ipv4_fixed_header : datagram::unknown_length;
        if (!later_fragment && !read_whole_transport(out, bytes + ipv4_fixed_header, end - ipv4_fixed_header,
                                                     udp_bound, protocol, IPPROTO_ICMP))
            return false;
        out.l3 = l3_protocol::ipv4;
        out.protocol = protocol;
        detail::address_writer::v4(out.src, bytes + 12);
        detail::address_writer::v4(out.dst, bytes + 16);
        out.has_src = true;
        out.has_dst = true;
        out.fragment = fragment;
        out.later_fragment = later_fragment;
        return true;
    }
    if ((first >> 4) == 6 && hw_protocol != ETH_P_IP && copied >= ipv6_fixed_header) {
        const std::size_t claimed = ipv6_fixed_header + detail::load_be<std::uint16_t>(bytes + 4);
        const std::size_t end = claimed != ipv6_fixed_header && claimed < copied ? claimed : copied;
        const auto next_header = std::to_integer<std::uint8_t>(bytes[6]);
        const std::size_t udp_bound =
            claimed != ipv6_fixed_header ? claimed - ipv6_fixed_header : datagram::unknown_length;
        if (is_ipv6_extension(next_header) ||
            !read_whole_transport(out, bytes + ipv6_fixed_header, end - ipv6_fixed_header, udp_bound, next_header,
                                  IPPROTO_ICMPV6))
            return false;
        out.l3 = l3_protocol::ipv6;
        out.protocol = next_header;
        const datagram whole(payload, copied);
        whole.v6(out.src, 8);
        whole.v6(out.dst, 24);
        out.has_src = true;
        out.has_dst = true;
        return true;
    }
    return false;
}

// `out` is a default flow. Inlined by force into both overloads of
// `decode`, each of them called per packet.
[[gnu::always_inline]] inline void decode_fresh(std::span<const std::byte> payload, std::uint16_t hw_protocol,
                                                std::uint8_t family, flow& out) noexcept
{
    if (!decode_common(out, payload, hw_protocol))
        decode_any(out, payload, hw_protocol);
    out.family_mismatch = contradicts(family, out.l3);
}

} // namespace

flow decode(std::span<const std::byte> payload, std::uint16_t hw_protocol, std::uint8_t family) noexcept
{
    flow out;
    decode_fresh(payload, hw_protocol, family, out);
    return out;
}

void decode(std::span<const std::byte> payload, std::uint16_t hw_protocol, std::uint8_t family, flow& out) noexcept
{
    out = flow{};
    decode_fresh(payload, hw_protocol, family, out);
}

} // namespace nflog::inet

namespace nflog::detail {

inet::flow decode_inet_general_path(std::span<const std::byte> payload, std::uint16_t hw_protocol,
                                    std::uint8_t family) noexcept
{
    inet::flow out;
    inet::decode_any(out, payload, hw_protocol);
    out.family_mismatch = inet::contradicts(family, out.l3);
    return out;
}

} // namespace nflog::detail

namespace nflog::inet {

std::string_view to_string(decode_error error) noexcept
{
    switch (error) {
    case decode_error::none:
        return "";
    case decode_error::unknown_l3:
        return "unknown network protocol";
    case decode_error::bad_ip_version:
        return "bad ip version";
    case decode_error::bad_ipv4_header_length:
        return "bad ipv4 header length";
    case decode_error::bad_ipv4_total_length:
        return "bad ipv4 total length";
    case decode_error::bad_ipv6_extension:
        return "bad ipv6 extension header";
    case decode_error::extension_chain_too_long:
        return "ipv6 extension chain too long";
    case decode_error::bad_arp_header:
        return "bad arp header";
    case decode_error::bad_transport_header:
        return "bad transport header";
    }
    return "unknown decode error";
}

std::string_view to_string(l3_protocol protocol) noexcept
{
    switch (protocol) {
    case l3_protocol::none:
        return "";
    case l3_protocol::ipv4:
        return "ipv4";
    case l3_protocol::ipv6:
        return "ipv6";
    case l3_protocol::arp:
        return "arp";
    }
    return "unknown";
}

} // namespace nflog::inet
