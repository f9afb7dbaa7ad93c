#ifndef NFLOG_BENCH_LOAD_STAMP_HPP
#define NFLOG_BENCH_LOAD_STAMP_HPP

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>

namespace nflog::load {

/// CLOCK_MONOTONIC in nanoseconds: the one clock senders and readers share,
/// because they run on the same machine and it never jumps.
inline std::uint64_t monotonic_ns() noexcept
{
    timespec now{};
    ::clock_gettime(CLOCK_MONOTONIC, &now);
    return static_cast<std::uint64_t>(now.tv_sec) * 1'000'000'000u + static_cast<std::uint64_t>(now.tv_nsec);
}

/// The UDP payload every flood packet carries: who sent it, its number, and
/// when it was handed to the kernel.
struct stamp {
    std::uint32_t sender = 0;
    std::uint32_t sequence = 0;
    std::uint64_t sent_ns = 0;
};

inline constexpr std::size_t stamp_size = 16;

inline void write_stamp(std::span<std::byte, stamp_size> out, const stamp& value) noexcept
{
    std::memcpy(out.data(), &value.sender, 4);
    std::memcpy(out.data() + 4, &value.sequence, 4);
    std::memcpy(out.data() + 8, &value.sent_ns, 8);
}

/// Reads the stamp out of an NFLOG payload, which starts at the IPv4
/// header; nothing when the packet is not one of ours (too short, not UDP).
inline std::optional<stamp> read_stamp(std::span<const std::byte> ip_packet) noexcept
{
    if (ip_packet.size() < 20 || (std::to_integer<unsigned>(ip_packet[0]) >> 4) != 4)
        return std::nullopt;
    const std::size_t header = (std::to_integer<std::size_t>(ip_packet[0]) & 0x0f) * 4;
    constexpr unsigned udp = 17;
    if (std::to_integer<unsigned>(ip_packet[9]) != udp || ip_packet.size() < header + 8 + stamp_size)
        return std::nullopt;
    const auto* at = ip_packet.data() + header + 8;
    stamp value;
    std::memcpy(&value.sender, at, 4);
    std::memcpy(&value.sequence, at + 4, 4);
    std::memcpy(&value.sent_ns, at + 8, 8);
    return value;
}

} // namespace nflog::load

#endif
