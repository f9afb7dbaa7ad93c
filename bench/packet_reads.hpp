#ifndef NFLOG_BENCH_PACKET_READS_HPP
#define NFLOG_BENCH_PACKET_READS_HPP

#include <nflog/packet.hpp>

#include <chrono>
#include <cstdint>
#include <span>

namespace nflog::bench {

/// What the three full decoders all read, summed: mark, devices, uid, gid,
/// seq, timestamp, packet header and hardware address length.
inline std::uint64_t read_details(const packet_view& packet) noexcept
{
    std::uint64_t details = packet.hw_protocol() + packet.hook() + packet.mark().value_or(0) +
                            packet.indev().value_or(0) + packet.outdev().value_or(0) + packet.uid().value_or(0) +
                            packet.gid().value_or(0) + packet.seq().value_or(0) + packet.hwaddr().size();
    if (const auto time = packet.timestamp()) {
        const auto since_epoch = time.value().time_since_epoch();
        details += static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
    }
    return details;
}

/// Every other getter of packet_view, summed: what this library offers beyond
/// what the baselines read.
inline std::uint64_t read_the_rest(const packet_view& packet) noexcept
{
    const auto size = [](std::span<const std::byte> bytes) -> std::uint64_t { return bytes.size(); };
    return packet.group() + packet.family() + packet.physindev().value_or(0) + packet.physoutdev().value_or(0) +
           packet.seq_global().value_or(0) + packet.hwtype().value_or(0) + packet.hwlen().value_or(0) +
           size(packet.hwheader()) + size(packet.conntrack()) + packet.ct_info().value_or(0) +
           packet.vlan_proto().value_or(0) + packet.vlan_tci().value_or(0) + size(packet.l2hdr()) +
           size(packet.message());
}

} // namespace nflog::bench

#endif
