#ifndef NFLOG_BENCH_TALLY_HPP
#define NFLOG_BENCH_TALLY_HPP

#include <nflog/inet.hpp>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

namespace nflog::bench {

/// What one decoder extracted from the whole corpus, folded into sums. Every
/// decoder must agree on the fields all four read, and the three full decoders
/// also on `details`; the sums also keep the compiler from dropping any read.
struct tally {
    std::uint64_t packets = 0;
    std::uint64_t ports = 0;          ///< packets with a destination port
    std::uint64_t port_sum = 0;
    std::uint64_t prefix_bytes = 0;
    std::uint64_t protocol_sum = 0;   ///< over packets whose L4 protocol was read
    std::uint64_t address_digest = 0; ///< destination addresses
    std::uint64_t details = 0;        ///< mark, devices, uid, gid, seq, timestamp, header, hwaddr length
    std::uint64_t sink = 0;           ///< whatever else a decoder read; never compared
    std::uint64_t failures = 0;       ///< messages a decoder rejected
};

/// Tells IPv4 from IPv6 and addresses apart at the cost of a few loads, so
/// the bookkeeping stays small next to the parsing it checks.
inline std::uint64_t address_digest(const unsigned char* bytes, std::size_t size) noexcept
{
    if (size == 4) {
        std::uint32_t word;
        std::memcpy(&word, bytes, sizeof word);
        return word;
    }
    std::uint64_t high;
    std::uint64_t low;
    std::memcpy(&high, bytes, sizeof high);
    std::memcpy(&low, bytes + 8, sizeof low);
    return (high ^ (low * 31)) + 1;
}

inline void add_prefix(tally& out, std::string_view prefix) noexcept { out.prefix_bytes += prefix.size(); }

/// The destination fields of a decoded flow, as the hand-written loop reads them.
inline void add_destination(tally& out, const inet::flow& flow) noexcept
{
    if (flow.protocol)
        out.protocol_sum += flow.protocol.value();
    if (flow.dst_port) {
        ++out.ports;
        out.port_sum += flow.dst_port.value();
    }
    const auto destination = flow.dst.bytes();
    out.address_digest += address_digest(destination.data(), destination.size());
}

/// The rest of the flow, read so that the full decoders pay for all of it.
inline void add_flow_rest(tally& out, const inet::flow& flow) noexcept
{
    out.sink += static_cast<std::uint64_t>(flow.l3) + flow.src_port.value_or(0) + flow.icmp_type.value_or(0) +
                flow.icmp_code.value_or(0) + flow.arp_op.value_or(0) + flow.fragment + flow.later_fragment +
                flow.truncated + flow.family_mismatch + static_cast<std::uint64_t>(flow.error) +
                flow.src.bytes().back();
}

} // namespace nflog::bench

#endif
