#ifndef NFLOG_TEST_FUZZ_FUZZ_CHECKS_HPP
#define NFLOG_TEST_FUZZ_FUZZ_CHECKS_HPP

#include <nflog/event.hpp>
#include <nflog/inet.hpp>
#include <nflog/packet.hpp>
#include <nflog/result.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <optional>
#include <span>

namespace nflog::fuzz {

/// Aborts with the promise that broke, so the fuzzer keeps the input.
inline void require(bool condition, const char* promise)
{
    if (condition)
        return;
    std::fprintf(stderr, "broken promise: %s\n", promise);
    std::abort();
}

/// What the inet targets read from a fuzz input: hw_protocol (2 bytes,
/// big-endian), the family, then the payload. Empty below 3 bytes.
struct inet_input {
    std::uint16_t hw_protocol = 0;
    std::uint8_t family = 0;
    std::span<const std::byte> payload;
};

inline std::optional<inet_input> read_inet_input(const std::uint8_t* data, std::size_t size)
{
    if (size < 3)
        return std::nullopt;
    return inet_input{static_cast<std::uint16_t>(data[0] << 8 | data[1]), data[2],
                      std::span(reinterpret_cast<const std::byte*>(data + 3), size - 3)};
}

/// Whether `part` lies within `whole` (std::less_equal: the pointers may
/// belong to unrelated objects when a view is wrong).
inline bool inside(std::span<const std::byte> part, std::span<const std::byte> whole)
{
    const std::less_equal<const std::byte*> not_after;
    return not_after(whole.data(), part.data()) && not_after(part.data() + part.size(), whole.data() + whole.size());
}

/// Whether two flows hold the same decode, member by member.
inline bool same_flow(const inet::flow& a, const inet::flow& b)
{
    return a.l3 == b.l3 && a.src == b.src && a.dst == b.dst && a.has_src == b.has_src && a.has_dst == b.has_dst &&
           a.protocol == b.protocol && a.src_port == b.src_port &&
           a.dst_port == b.dst_port && a.icmp_type == b.icmp_type && a.icmp_code == b.icmp_code &&
           a.arp_op == b.arp_op && a.fragment == b.fragment && a.later_fragment == b.later_fragment &&
           a.truncated == b.truncated && a.family_mismatch == b.family_mismatch && a.error == b.error;
}

/// Whether two walk results are the same: the same error, or views of the
/// same message that see the same attributes at the same places.
inline bool same_element(const result<packet_view>& a, const result<packet_view>& b)
{
    if (a.has_value() != b.has_value())
        return false;
    if (!a)
        return a.error() == b.error();
    const auto& x = a.value();
    const auto& y = b.value();
    const auto same_span = [](std::span<const std::byte> p, std::span<const std::byte> q) {
        return p.data() == q.data() && p.size() == q.size();
    };
    if (!same_span(x.message(), y.message()) || x.group() != y.group() || x.family() != y.family() ||
        x.vlan_proto() != y.vlan_proto() || x.vlan_tci() != y.vlan_tci())
        return false;
    for (std::uint16_t type = 0; type <= packet_view::max_attribute + 2; ++type)
        if (x.has(type) != y.has(type) || !same_span(x.bytes(type), y.bytes(type)))
            return false;
    return true;
}

/// Whether two events hold the same values, member by member.
inline bool same_event(const event& a, const event& b)
{
    const auto same_bytes = [](std::span<const std::byte> p, std::span<const std::byte> q) {
        return std::equal(p.begin(), p.end(), q.begin(), q.end());
    };
    return a.source == b.source && a.group == b.group && a.family == b.family && a.hook == b.hook &&
           a.hw_protocol == b.hw_protocol && a.timestamp == b.timestamp && a.time_source == b.time_source &&
           a.action == b.action && same_flow(a.flow, b.flow) && a.mark == b.mark && a.indev == b.indev &&
           a.outdev == b.outdev && a.physindev == b.physindev && a.physoutdev == b.physoutdev && a.uid == b.uid &&
           a.gid == b.gid && a.seq == b.seq && a.seq_global == b.seq_global && a.vlan_proto == b.vlan_proto &&
           a.vlan_tci == b.vlan_tci && a.payload_length == b.payload_length && a.lost_before == b.lost_before &&
           a.prefix() == b.prefix() && same_bytes(a.hwaddr(), b.hwaddr());
}

} // namespace nflog::fuzz

#endif
