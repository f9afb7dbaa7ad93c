// Input: hw_protocol (2 bytes, big-endian), family (1 byte), then the payload.
// Beyond "no crash, no out-of-bounds read", checks the promises inet.hpp makes,
// and that decoding into a used flow gives what decoding into a new one does.

#include <nflog/inet.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

#include "fuzz_checks.hpp"

namespace {

using nflog::inet::decode_error;
using nflog::inet::flow;
using nflog::inet::l3_protocol;
using nflog::fuzz::same_flow;

constexpr std::uint8_t tcp = 6;
constexpr std::uint8_t udp = 17;
constexpr std::uint8_t sctp = 132;
constexpr std::uint8_t udplite = 136;
constexpr std::uint8_t icmp = 1;
constexpr std::uint8_t icmpv6 = 58;

void require(bool condition)
{
    if (!condition)
        __builtin_trap();
}

bool has_ports(std::uint8_t protocol) { return protocol == tcp || protocol == udp || protocol == sctp || protocol == udplite; }

template <class T>
bool agrees(const T& in_prefix, const T& in_whole)
{
    return !in_prefix.has_value() || in_prefix == in_whole;
}

void check_alone(const flow& f, std::span<const std::byte> payload)
{
    require(f.src_port.has_value() == f.dst_port.has_value());
    require(f.icmp_type.has_value() == f.icmp_code.has_value());
    if (f.later_fragment)
        require(f.fragment && !f.src_port && !f.icmp_type);
    if (f.src_port)
        require((f.l3 == l3_protocol::ipv4 || f.l3 == l3_protocol::ipv6) && f.protocol && has_ports(f.protocol.value()));
    if (f.icmp_type)
        require((f.l3 == l3_protocol::ipv4 && f.protocol == icmp) || (f.l3 == l3_protocol::ipv6 && f.protocol == icmpv6));
    if (f.arp_op || f.l3 == l3_protocol::arp)
        require(f.l3 == l3_protocol::arp && !f.protocol && !f.src_port && !f.icmp_type && !f.fragment);
    if (f.l3 == l3_protocol::none)
        require(!f.has_src && !f.has_dst && !f.protocol && !f.arp_op && !f.fragment && !f.family_mismatch &&
                (f.truncated || f.error != decode_error::none));
    // An address not read is the default one; the destination follows the source in every header.
    require(f.has_src || f.src == nflog::inet::address());
    require(f.has_dst || f.dst == nflog::inet::address());
    require(f.has_src || !f.has_dst);
    if (f.l3 == l3_protocol::ipv6)
        require(f.src.is_v6() == f.has_src && f.dst.is_v6() == f.has_dst);
    if (f.l3 == l3_protocol::ipv4 || f.l3 == l3_protocol::arp)
        require(f.src.is_v4() && f.dst.is_v4());
    if (f.l3 != l3_protocol::none && !f.truncated && f.error == decode_error::none)
        require(f.has_src && f.has_dst);
    if (payload.empty())
        require(f.truncated && f.error == decode_error::none);
    // A decode that met no obstacle reached the transport header, so it must have read it.
    const bool complete = !f.truncated && f.error == decode_error::none && !f.later_fragment;
    if (complete && (f.l3 == l3_protocol::ipv4 || f.l3 == l3_protocol::ipv6) && f.protocol) {
        if (has_ports(f.protocol.value()))
            require(f.src_port.has_value());
        if ((f.l3 == l3_protocol::ipv4 && f.protocol == icmp) || (f.l3 == l3_protocol::ipv6 && f.protocol == icmpv6))
            require(f.icmp_type.has_value());
    }
}

// A shorter copy of the same packet may know less, never something else.
void check_prefix(const flow& whole, std::span<const std::byte> payload, std::size_t size, std::uint16_t hw_protocol,
                  std::uint8_t family)
{
    const auto part = nflog::inet::decode(payload.first(size), hw_protocol, family);
    check_alone(part, payload.first(size));
    // Decoding into a flow that holds another result replaces all of it.
    auto reused = part;
    nflog::inet::decode(payload, hw_protocol, family, reused);
    require(same_flow(reused, whole));
    if (!part.truncated) {
        require(same_flow(part, whole));
        return;
    }
    if (size > 0)
        require(part.l3 == whole.l3);
    if (part.error != decode_error::none)
        require(part.error == whole.error);
    require(agrees(part.protocol, whole.protocol) && agrees(part.src_port, whole.src_port) &&
            agrees(part.dst_port, whole.dst_port) && agrees(part.icmp_type, whole.icmp_type) &&
            agrees(part.icmp_code, whole.icmp_code) && agrees(part.arp_op, whole.arp_op));
    require(!part.has_src || (whole.has_src && part.src == whole.src));
    require(!part.has_dst || (whole.has_dst && part.dst == whole.dst));
    require(!part.later_fragment || whole.later_fragment);
    require(!part.fragment || whole.fragment);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto input = nflog::fuzz::read_inet_input(data, size);
    if (!input)
        return 0;
    const auto [hw_protocol, family, payload] = *input;

    const auto whole = nflog::inet::decode(payload, hw_protocol, family);
    check_alone(whole, payload);
    require(same_flow(whole, nflog::inet::decode(payload, hw_protocol, family)));

    // Headers sit at the front; every short cut is checked, a few long ones too.
    constexpr std::size_t every_cut_up_to = 128;
    for (std::size_t cut = 0; cut < payload.size() && cut <= every_cut_up_to; ++cut)
        check_prefix(whole, payload, cut, hw_protocol, family);
    for (std::size_t cut = every_cut_up_to + 1; cut < payload.size(); cut += 1 + cut / 8)
        check_prefix(whole, payload, cut, hw_protocol, family);
    return 0;
}
