#ifndef NFLOG_WATCH_CAPTURE_RECORD_HPP
#define NFLOG_WATCH_CAPTURE_RECORD_HPP

#include <nflog/packet.hpp>

#include <cstddef>
#include <span>
#include <string_view>
#include <vector>

namespace nflog::watch {

/// libpcap link types (LINKTYPE_* = DLT_* for these two) the reader understands.
inline constexpr int link_type_nflog = 239;
inline constexpr int link_type_netlink = 253;

/// One capture record with its link-layer wrapping removed.
struct unwrapped_record {
    enum class status {
        datagram,      ///< `datagram` holds netlink messages
        not_netfilter, ///< another netlink family: nothing NFLOG can be in it
        malformed,     ///< the wrapping itself is broken; `problem` says how
    };
    status state = status::datagram;
    std::span<const std::byte> datagram;
    std::string_view problem;
};

/// LINKTYPE_NETLINK (what libpcap records on an `nlmon` interface): a 16-byte
/// header, ARPHRD_NETLINK at bytes 2-3 and the netlink family at bytes 14-15,
/// both big-endian, then one netlink datagram as the socket received it.
unwrapped_record unwrap_netlink_record(std::span<const std::byte> record) noexcept;

/// LINKTYPE_NFLOG (what libpcap records on `nflog:N`): the nfgenmsg of one
/// NFULNL_MSG_PACKET (family, version, group big-endian) and its attributes,
/// without the netlink header. libpcap has already put each TLV's length and
/// type into this host's order, and the values are as the kernel sent them, so
/// putting an nlmsghdr in front gives back the message the kernel sent; it is
/// built in `buffer`, which keeps its capacity from record to record.
unwrapped_record unwrap_nflog_record(std::span<const std::byte> record, std::vector<std::byte>& buffer);

/// What a record cut by the capture's snap length (its captured length below
/// its original one) still gives. The kernel writes NFULA_PAYLOAD last, so a
/// cut nearly always falls inside the last attribute of the last message:
/// that attribute and its message are then shortened to the captured bytes,
/// and the rest decodes as it was sent. A cut anywhere else leaves nothing
/// that can be trusted.
struct repaired_cut {
    bool readable = false;
    /// When readable: the netlink messages, with lengths that end where the
    /// capture ends.
    std::span<const std::byte> datagram;
    /// When readable: where the message that lost bytes of its last attribute
    /// starts in `datagram`; null when the cut took padding only.
    const std::byte* shortened_message = nullptr;
};

/// A cut LINKTYPE_NETLINK record, `datagram` as unwrap_netlink_record gave
/// it and `original_length` the record's length before the cut, repaired in
/// `buffer`, which keeps its capacity from record to record.
repaired_cut repair_cut_netlink_datagram(std::span<const std::byte> datagram, std::size_t original_length,
                                         std::vector<std::byte>& buffer);

/// A cut LINKTYPE_NFLOG record, repaired in place in the message that
/// unwrap_nflog_record built in `message`; `original_length` is the
/// record's length before the cut.
repaired_cut repair_cut_nflog_message(std::vector<std::byte>& message, std::size_t original_length) noexcept;

/// The LINKTYPE_NFLOG record of a received packet, the other way round: what
/// follows the netlink header (the nfgenmsg, then the TLVs with their length
/// and type in this host's order, as the kernel sent them), which is exactly
/// what libpcap records on `nflog:N`. A view into the packet's message.
std::span<const std::byte> nflog_record_of(const packet_view& packet) noexcept;

} // namespace nflog::watch

#endif
