#ifndef NFLOG_DETAIL_PACKET_LAYOUT_HPP
#define NFLOG_DETAIL_PACKET_LAYOUT_HPP

#include <nflog/detail/bytes.hpp>
#include <nflog/packet.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

namespace nflog::detail {

// The attribute layout of the last packet message parsed in full, for the
// messages after it: a socket keeps one across its datagrams.
//
// The kernel builds every message of one rule alike: under a flood a
// datagram holds hundreds of messages whose attribute headers are equal but
// for the length of the last attribute (the payload, whose copy length
// follows the packet). When every header of a message but the last equals
// the one remembered at the same place, the full walk would visit the same
// places, see the same lengths and types and pass the same checks: the
// remembered table of offsets is the message's table. Only the last
// attribute needs its own checks, those of the walk's last step.
//
// The headers are compared 16 bytes at a time with the values between them
// masked out: loads that do not depend on each other, where the full walk
// must find each header from the length in the one before and check it
// against the rules of its type. Messages that do not match are
// parsed in full, so the views are the same either way; when most messages
// do not match (rules of different shapes firing in turn), the layout stops
// trying for the rest of the datagram and costs one test per message.
// Not thread-safe, like the socket that keeps it.
class packet_layout {
public:
    // Layouts whose headers span more are not remembered: the kernel's
    // attributes before the payload take about 150 bytes at most.
    static constexpr std::size_t max_region = 256;

    // Gives every datagram a fresh chance: the rules that fire change.
    void start_datagram() noexcept { reused_ = missed_ = 0; }

    // Fills `view` from the remembered layout when `message` (a packet
    // message by its type) has it, with the same result as a full parse.
    bool reuse(const netlink::message_view& message, packet_view& view) noexcept
    {
        if (!worth_trying())
            return false;
        if (fill(message.bytes(), view)) [[likely]] {
            ++reused_;
            return true;
        }
        ++missed_;
        return false;
    }

    // Learns the layout of `view`, which a full parse accepted, unless the
    // remembered one keeps failing.
    void remember(const packet_view& view) noexcept
    {
        if (worth_trying())
            learn(view);
    }

private:
    // Sixteen bytes that the compiler keeps in one vector register where it can.
    using chunk = std::uint8_t __attribute__((vector_size(16)));
    static constexpr std::size_t max_chunks = max_region / sizeof(chunk);
    static constexpr std::size_t attribute_header = netlink::attribute_view::header_size;
    // Beyond every message's end: no layout is known yet, or the last one
    // could not be kept.
    static constexpr std::uint32_t nothing_known = std::numeric_limits<std::uint32_t>::max() - attribute_header;

    // Misses up to twice the reuses (and a first few) keep the layout in use:
    // a run of one rule's messages pays back a mismatch within a few messages.
    bool worth_trying() const noexcept { return missed_ <= 2 * reused_ + 2; }

    bool fill(std::span<const std::byte> bytes, packet_view& view) const noexcept
    {
        const std::byte* base = bytes.data();
        const std::size_t end = bytes.size();
        // The compared bytes end with the last header and start inside the
        // netlink header, so this one test keeps every load below in bounds.
        if (end < std::size_t{last_offset_} + attribute_header)
            return false;
        // The headers, masked out of the bytes before the last header's end,
        // 16 at a time.
        chunk differ{};
        const std::byte* region = base + region_start_;
        for (std::size_t i = 0; i < chunks_; ++i) {
            chunk bytes_here;
            std::memcpy(&bytes_here, region + i * sizeof(chunk), sizeof(chunk));
            differ |= (bytes_here ^ pattern_[i]) & mask_[i];
        }
        std::uint64_t halves[2];
        std::memcpy(halves, &differ, sizeof halves);
        if ((halves[0] | halves[1]) != 0)
            return false;
        const std::uint32_t last_length = load<std::uint16_t>(base + last_offset_);
        // The last step of the full walk: the rule of the type, in bounds,
        // and nothing after it but padding.
        const std::size_t room = end - last_offset_;
        if (last_length - last_minimum_ > last_spread_ || last_length > room || align4(last_length) < room)
            return false;
        constexpr std::size_t netlink_header = netlink::message_view::header_size;
        view.base_ = base;
        view.message_length_ = static_cast<std::uint32_t>(end);
        view.family_ = load<std::uint8_t>(base + netlink_header);
        view.group_ = load_be<std::uint16_t>(base + netlink_header + 2);
        view.present_ = present_;
        view.vlan_proto_offset_ = view.vlan_tci_offset_ = packet_view::absent;
        view.attributes_ = attributes_;
        return true;
    }

    void learn(const packet_view& view) noexcept
    {
        last_offset_ = nothing_known;
        // The members of a VLAN nest are not in the table, and nests of the
        // same length may hold them at other places.
        if ((view.present_ & 1u << nfula_vlan) != 0)
            return;
        // Only a parsed view has attributes to remember; a default one has none.
        if (!view.has(NFULA_PACKET_HDR))
            return;
        const std::byte* base = view.base_;
        const std::size_t end = view.message_length_;
        // The parse accepted the message: every header is in bounds and its
        // length at least a header.
        std::size_t last = packet_view::attributes_start;
        for (std::size_t at = last; at + attribute_header <= end; at += align4(load<std::uint16_t>(base + at)))
            last = at;
        const std::size_t region_end = last + attribute_header;
        const std::size_t chunks = (region_end - packet_view::attributes_start + sizeof(chunk) - 1) / sizeof(chunk);
        if (chunks > max_chunks)
            return;
        // Ends at the last header's end; starts at most 15 bytes before the
        // attributes, inside the netlink header, which the mask leaves out.
        const std::size_t start = region_end - chunks * sizeof(chunk);
        // Written byte by byte, through the vectors' object representation.
        auto* pattern = reinterpret_cast<std::byte*>(pattern_.data());
        auto* mask = reinterpret_cast<std::byte*>(mask_.data());
        std::memset(pattern, 0, chunks * sizeof(chunk));
        std::memset(mask, 0, chunks * sizeof(chunk));
        for (std::size_t at = packet_view::attributes_start; at < last; at += align4(load<std::uint16_t>(base + at))) {
            std::memcpy(pattern + (at - start), base + at, attribute_header);
            std::memset(mask + (at - start), 0xff, attribute_header);
        }
        // Of the last header only the type: the length may change.
        std::memcpy(pattern + (last + 2 - start), base + last + 2, 2);
        std::memset(mask + (last + 2 - start), 0xff, 2);
        chunks_ = chunks;
        region_start_ = static_cast<std::uint32_t>(start);
        last_type_ = load<std::uint16_t>(base + last + 2);
        const unsigned type = unsigned{last_type_} & netlink::type_mask;
        const unsigned rule = type <= packet_view::max_attribute ? type : 0u;
        last_minimum_ = attribute_table.minimum[rule];
        last_spread_ = attribute_table.spread[rule];
        present_ = view.present_;
        attributes_ = view.attributes_;
        last_offset_ = static_cast<std::uint32_t>(last);
    }

    std::uint32_t last_offset_ = nothing_known;
    std::uint32_t region_start_ = 0;
    std::uint32_t last_type_ = 0;
    std::uint32_t last_minimum_ = 0;
    std::uint32_t last_spread_ = 0;
    std::uint32_t present_ = 0;
    std::size_t chunks_ = 0;
    std::size_t reused_ = 0;
    std::size_t missed_ = 0;
    // The header bytes of the remembered message and a mask of where they
    // are, from `region_start_` to the end of the last header.
    std::array<chunk, max_chunks> pattern_{};
    std::array<chunk, max_chunks> mask_{};
    std::array<std::uint32_t, packet_view::max_attribute + 1> attributes_{};
};

} // namespace nflog::detail

#endif
