#ifndef NFLOG_TEST_SUPPORT_CAPTURE_WRITER_HPP
#define NFLOG_TEST_SUPPORT_CAPTURE_WRITER_HPP

// pcap and pcapng files written byte by byte, in either byte order, so that a
// test controls every record a capture reader will see (libpcap writes only
// pcap, only in this host's order).

#include "support/message_builder.hpp"

#include <nflog/detail/bytes.hpp>

#include <bit>
#include <cstdint>
#include <vector>

namespace nflog::test::capture {

struct record {
    std::uint32_t seconds = 0;
    std::uint32_t microseconds = 0;
    bytes data;
    std::uint32_t original_length = 0; ///< 0: the record's own length
};

template <class T>
void put(bytes& out, T value, std::endian order)
{
    if (order != std::endian::native)
        value = detail::byteswap(value);
    append(out, &value, sizeof value);
}

/// Classic pcap, microsecond time stamps.
inline bytes pcap_file(std::uint32_t link_type, const std::vector<record>& records,
                       std::endian order = std::endian::native, std::uint32_t snap_length = 262144)
{
    bytes out;
    put<std::uint32_t>(out, 0xa1b2c3d4, order);
    put<std::uint16_t>(out, 2, order);
    put<std::uint16_t>(out, 4, order);
    put<std::int32_t>(out, 0, order);
    put<std::uint32_t>(out, 0, order);
    put<std::uint32_t>(out, snap_length, order);
    put<std::uint32_t>(out, link_type, order);
    for (const auto& r : records) {
        put<std::uint32_t>(out, r.seconds, order);
        put<std::uint32_t>(out, r.microseconds, order);
        put<std::uint32_t>(out, static_cast<std::uint32_t>(r.data.size()), order);
        put<std::uint32_t>(out, r.original_length ? r.original_length : static_cast<std::uint32_t>(r.data.size()), order);
        out.insert(out.end(), r.data.begin(), r.data.end());
    }
    return out;
}

/// pcapng: one section, one interface (default microsecond resolution), one
/// enhanced packet block per record. A `time_offset` (seconds, the
/// interface's if_tsoffset) is added to every record's time by readers.
inline bytes pcapng_file(std::uint16_t link_type, const std::vector<record>& records,
                         std::endian order = std::endian::native, std::uint32_t snap_length = 262144,
                         std::int64_t time_offset = 0)
{
    const auto block = [&](bytes& out, std::uint32_t type, const bytes& body) {
        const auto total = static_cast<std::uint32_t>(12 + detail::align4(body.size()));
        put<std::uint32_t>(out, type, order);
        put<std::uint32_t>(out, total, order);
        out.insert(out.end(), body.begin(), body.end());
        pad4(out);
        put<std::uint32_t>(out, total, order);
    };
    bytes out;
    bytes section;
    put<std::uint32_t>(section, 0x1a2b3c4d, order);
    put<std::uint16_t>(section, 1, order);
    put<std::uint16_t>(section, 0, order);
    put<std::int64_t>(section, -1, order); // section length not given
    block(out, 0x0a0d0d0a, section);

    bytes interface;
    put<std::uint16_t>(interface, link_type, order);
    put<std::uint16_t>(interface, 0, order);
    put<std::uint32_t>(interface, snap_length, order);
    if (time_offset != 0) {
        constexpr std::uint16_t if_tsoffset = 14;
        put<std::uint16_t>(interface, if_tsoffset, order);
        put<std::uint16_t>(interface, 8, order);
        put<std::int64_t>(interface, time_offset, order);
        put<std::uint32_t>(interface, 0, order); // opt_endofopt
    }
    block(out, 1, interface);

    for (const auto& r : records) {
        const std::uint64_t stamp = std::uint64_t{r.seconds} * 1'000'000 + r.microseconds;
        bytes packet;
        put<std::uint32_t>(packet, 0, order);
        put<std::uint32_t>(packet, static_cast<std::uint32_t>(stamp >> 32), order);
        put<std::uint32_t>(packet, static_cast<std::uint32_t>(stamp), order);
        put<std::uint32_t>(packet, static_cast<std::uint32_t>(r.data.size()), order);
        put<std::uint32_t>(packet, r.original_length ? r.original_length : static_cast<std::uint32_t>(r.data.size()), order);
        packet.insert(packet.end(), r.data.begin(), r.data.end());
        block(out, 6, packet);
    }
    return out;
}

/// A LINKTYPE_NETLINK record: the 16-byte header libpcap writes for nlmon,
/// then the datagram.
inline bytes netlink_record(std::uint16_t netlink_family, const bytes& datagram, std::uint16_t hardware_type = 824)
{
    bytes out;
    append_be<std::uint16_t>(out, 4); // PACKET_OUTGOING
    append_be<std::uint16_t>(out, hardware_type);
    out.resize(14);
    append_be<std::uint16_t>(out, netlink_family);
    out.insert(out.end(), datagram.begin(), datagram.end());
    return out;
}

/// A LINKTYPE_NFLOG record made from an NFLOG packet message: its netlink
/// header dropped, each TLV header in `order` (the file's), values unchanged.
inline bytes nflog_record(const bytes& packet_message, std::endian order = std::endian::native)
{
    bytes out(packet_message.begin() + 16, packet_message.end());
    std::size_t at = 4;
    while (out.size() - at >= 4) {
        const auto length = detail::load<std::uint16_t>(out.data() + at);
        const auto type = detail::load<std::uint16_t>(out.data() + at + 2);
        bytes header;
        put<std::uint16_t>(header, length, order);
        put<std::uint16_t>(header, type, order);
        std::copy(header.begin(), header.end(), out.begin() + static_cast<std::ptrdiff_t>(at));
        if (length < 4)
            break;
        at += detail::align4(length);
        if (at > out.size())
            break;
    }
    return out;
}

} // namespace nflog::test::capture

#endif
