#ifndef NFLOG_TEST_SUPPORT_MNL_DIFFERENTIAL_HPP
#define NFLOG_TEST_SUPPORT_MNL_DIFFERENTIAL_HPP

// Walks the same bytes with libmnl and with nflog and describes every
// disagreement. Shared by the unit test and the fuzzer, so it reports in
// strings instead of asserting.
//
// Known, intended differences, checked here rather than hidden:
// - libmnl ends a message's attributes at MNL_ALIGN(nlmsg_len)
//   (mnl_nlmsg_get_payload_tail); nflog ends them at nlmsg_len. When nlmsg_len
//   is not a multiple of 4, libmnl may accept one last attribute reaching into
//   the padding, which nflog reports as a framing error.
// - libmnl stops silently on a malformed length; nflog yields one error there.
// - libmnl's message walk does not stop at NLMSG_DONE; nflog's does.
// - mnl_nlmsg_ok compares (int)nlmsg_len with the bytes left, so a length of
//   2^31 or more passes and mnl_nlmsg_next steps out of the buffer. The walk
//   here stops before calling libmnl on such a header, as a correct check
//   would, and counts it; nflog reports errc::bad_message_length.

#include <nflog/detail/bytes.hpp>
#include <nflog/netlink/attribute.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/packet.hpp>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter/nfnetlink_log.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <limits>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace nflog::test::mnl {

/// Bytes copied into 4-byte aligned storage, followed by zeros up to
/// `readable`: libmnl dereferences struct pointers and reads up to the
/// aligned end of a message.
class aligned_copy {
public:
    aligned_copy(std::span<const std::byte> bytes, std::size_t readable)
        : words_((std::max(bytes.size(), readable) + 3) / 4 + 1), size_(bytes.size())
    {
        if (!bytes.empty())
            std::memcpy(words_.data(), bytes.data(), bytes.size());
    }

    const std::byte* data() const noexcept { return reinterpret_cast<const std::byte*>(words_.data()); }
    std::span<const std::byte> bytes() const noexcept { return {data(), size_}; }
    std::span<const std::byte> first(std::size_t count) const noexcept { return {data(), count}; }
    const nlmsghdr* header() const noexcept { return reinterpret_cast<const nlmsghdr*>(words_.data()); }

private:
    std::vector<std::uint32_t> words_;
    std::size_t size_;
};

/// One attribute as a walk met it; offsets from the start of the message.
struct visited_attribute {
    std::uint16_t type = 0; ///< masked, as mnl_attr_get_type
    std::size_t offset = 0; ///< of the attribute header
    std::size_t length = 0; ///< nla_len
    friend bool operator==(const visited_attribute&, const visited_attribute&) = default;
};

inline std::string describe(const std::vector<visited_attribute>& attributes)
{
    std::string out = "[";
    for (const auto& a : attributes)
        out += " " + std::to_string(a.type) + "@" + std::to_string(a.offset) + "+" + std::to_string(a.length);
    return out + " ]";
}

inline std::string describe(std::span<const std::byte> bytes)
{
    std::string out;
    char cell[4];
    for (std::size_t i = 0; i < bytes.size(); ++i) {
        std::snprintf(cell, sizeof cell, "%02x", static_cast<unsigned>(bytes[i]));
        out += (i % 4 == 0 && i != 0) ? " " : "";
        out += cell;
    }
    return out;
}

struct libmnl_walk {
    std::vector<visited_attribute> visited;
    /// What mnl_attr_parse's callback stored per NFULA type (last one wins).
    std::array<const nlattr*, NFULA_MAX + 1> table{};
    /// libmnl gave up with bytes left before the end it walks to.
    bool stopped_early = false;
};

struct walk_state {
    const std::byte* base;
    libmnl_walk* walk;
};

inline int record_attribute(const nlattr* attribute, void* data)
{
    auto& state = *static_cast<walk_state*>(data);
    const auto type = mnl_attr_get_type(attribute);
    state.walk->visited.push_back(
        {type, static_cast<std::size_t>(reinterpret_cast<const std::byte*>(attribute) - state.base), mnl_attr_get_len(attribute)});
    if (type <= NFULA_MAX)
        state.walk->table[type] = attribute;
    return MNL_CB_OK;
}

inline bool ends_before(const std::vector<visited_attribute>& visited, std::size_t start, std::size_t end)
{
    const auto next = visited.empty() ? start : visited.back().offset + MNL_ALIGN(visited.back().length);
    return next < end;
}

/// mnl_attr_parse(nlh, header_size, ...) over a message in `copy`.
inline libmnl_walk libmnl_attributes(const aligned_copy& copy, unsigned header_size)
{
    libmnl_walk walk;
    walk_state state{copy.data(), &walk};
    mnl_attr_parse(copy.header(), header_size, record_attribute, &state);
    walk.stopped_early = ends_before(walk.visited, MNL_NLMSG_HDRLEN + MNL_ALIGN(header_size), MNL_ALIGN(copy.header()->nlmsg_len));
    return walk;
}

/// mnl_attr_parse_nested over one attribute; offsets from `base`.
inline libmnl_walk libmnl_nested(const nlattr* nest, const std::byte* base)
{
    libmnl_walk walk;
    walk_state state{base, &walk};
    mnl_attr_parse_nested(nest, record_attribute, &state);
    const auto start = static_cast<std::size_t>(static_cast<const std::byte*>(mnl_attr_get_payload(nest)) - base);
    walk.stopped_early = ends_before(walk.visited, start, start + mnl_attr_get_payload_len(nest));
    return walk;
}

struct nflog_walk {
    std::vector<visited_attribute> visited;
    std::optional<boost::system::error_code> error;
};

/// nflog's attribute_range over `bytes`; offsets from `base`.
inline nflog_walk nflog_attributes(std::span<const std::byte> bytes, const std::byte* base)
{
    nflog_walk walk;
    for (const auto& item : netlink::attribute_range(bytes)) {
        if (!item) {
            walk.error = item.error();
            break;
        }
        const auto& attribute = item.value();
        walk.visited.push_back({attribute.type(), static_cast<std::size_t>(attribute.bytes().data() - base), attribute.bytes().size()});
    }
    return walk;
}

/// The framing error nflog must report when an attribute walk stops with
/// `rest` bytes left.
inline errc framing_error(std::size_t rest) { return rest < sizeof(nlattr) ? errc::short_attribute : errc::bad_attribute_length; }

inline std::size_t fixed_size(std::uint16_t type)
{
    switch (type) {
    case NFULA_PACKET_HDR: return sizeof(nfulnl_msg_packet_hdr);
    case NFULA_TIMESTAMP: return sizeof(nfulnl_msg_packet_timestamp);
    case NFULA_HWADDR: return sizeof(nfulnl_msg_packet_hw);
    case NFULA_HWTYPE:
    case NFULA_HWLEN: return 2;
    case NFULA_MARK:
    case NFULA_IFINDEX_INDEV:
    case NFULA_IFINDEX_OUTDEV:
    case NFULA_IFINDEX_PHYSINDEV:
    case NFULA_IFINDEX_PHYSOUTDEV:
    case NFULA_UID:
    case NFULA_SEQ:
    case NFULA_SEQ_GLOBAL:
    case NFULA_GID:
    case NFULA_CT_INFO: return 4;
    default: return 0;
    }
}

/// What packet_view::parse must answer, derived from libmnl's walk and
/// mnl_attr_validate2 over the message in `copy` (`copy.bytes()` is exactly
/// nlmsg_len long). Empty when the packet must parse.
inline std::optional<errc> libmnl_verdict(const aligned_copy& copy)
{
    const auto* header = copy.header();
    if (header->nlmsg_type != packet_message_type)
        return errc::not_a_packet;
    if (header->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(nfgenmsg))
        return errc::short_nfgenmsg;
    const auto length = std::size_t{header->nlmsg_len};
    const auto walk = libmnl_attributes(copy, sizeof(nfgenmsg));
    for (const auto& visited : walk.visited) {
        if (visited.offset + visited.length > length)
            return framing_error(length - visited.offset); // libmnl read into the padding
        if (visited.type == 0 || visited.type > NFULA_MAX)
            continue;
        // Not walk.table: it holds only the last occurrence of each type.
        const auto* attribute = reinterpret_cast<const nlattr*>(copy.data() + visited.offset);
        if (const auto size = fixed_size(visited.type); size != 0 && mnl_attr_validate2(attribute, MNL_TYPE_UNSPEC, size) < 0)
            return errc::bad_attribute_size;
        if (visited.type != NFULA_VLAN)
            continue;
        const auto members = libmnl_nested(attribute, copy.data());
        for (const auto& member : members.visited) {
            const auto* inner = reinterpret_cast<const nlattr*>(copy.data() + member.offset);
            if ((member.type == NFULA_VLAN_PROTO || member.type == NFULA_VLAN_TCI) && mnl_attr_validate2(inner, MNL_TYPE_U16, 2) < 0)
                return errc::bad_attribute_size;
        }
        if (members.stopped_early) {
            const auto nest_end = visited.offset + visited.length;
            const auto next = members.visited.empty() ? visited.offset + MNL_ATTR_HDRLEN
                                                      : members.visited.back().offset + MNL_ALIGN(members.visited.back().length);
            return framing_error(nest_end - next);
        }
    }
    if (walk.stopped_early) {
        const auto next = walk.visited.empty() ? MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg))
                                               : walk.visited.back().offset + MNL_ALIGN(walk.visited.back().length);
        return framing_error(length - next);
    }
    if (walk.table[NFULA_PACKET_HDR] == nullptr)
        return errc::missing_packet_header;
    return std::nullopt;
}

/// How often each outcome was seen: proves a run reached the cases it claims to.
struct tally {
    std::map<std::string, std::size_t> outcomes;
    std::size_t padding_differences = 0;   ///< libmnl accepted an attribute reaching past nlmsg_len
    std::size_t silent_stops = 0;          ///< libmnl stopped early where nflog reported an error
    std::size_t nested_walks_compared = 0;
    std::size_t libmnl_negative_lengths = 0; ///< nlmsg_len >= 2^31, which mnl_nlmsg_ok would accept
    void count(const std::string& outcome) { ++outcomes[outcome]; }
};

/// Compares every attribute walk of one message (exactly nlmsg_len bytes).
/// Returns an empty string when nflog and libmnl agree.
inline std::string compare_message(std::span<const std::byte> message_bytes, tally& counts)
{
    const aligned_copy copy(message_bytes, detail::align4(message_bytes.size()));
    const auto length = message_bytes.size();
    const auto where = [&] { return " in message " + describe(message_bytes); };

    const auto verdict = libmnl_verdict(copy);
    const auto parsed = packet_view::parse(netlink::message_view(copy.bytes()));
    if (parsed.has_error() != verdict.has_value() || (verdict && parsed.error() != *verdict))
        return "packet verdict: nflog says " + (parsed ? std::string("parsed") : parsed.error().message()) + ", libmnl model says " +
               (verdict ? make_error_code(*verdict).message() : std::string("parsed")) + where();
    counts.count(parsed ? "parsed" : parsed.error().message());

    constexpr std::size_t attributes_start = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg));
    if (length < attributes_start)
        return {};

    const auto reference = libmnl_attributes(copy, sizeof(nfgenmsg));
    const auto aligned_end = detail::align4(length);
    // Same bytes, same end: the walks must match element for element.
    const auto padded = nflog_attributes(copy.first(aligned_end).subspan(attributes_start), copy.data());
    if (padded.visited != reference.visited)
        return "walk to the aligned end: nflog " + describe(padded.visited) + " libmnl " + describe(reference.visited) + where();
    if (padded.error.has_value() != reference.stopped_early)
        return "walk to the aligned end: nflog error " + std::to_string(padded.error.has_value()) + " libmnl stopped early " +
               std::to_string(reference.stopped_early) + where();

    // nflog's own walk, ending at nlmsg_len.
    const auto exact = nflog_attributes(copy.bytes().subspan(attributes_start), copy.data());
    if (exact.visited.size() > reference.visited.size() ||
        !std::equal(exact.visited.begin(), exact.visited.end(), reference.visited.begin()))
        return "walk to nlmsg_len is not a prefix of libmnl's: nflog " + describe(exact.visited) + " libmnl " + describe(reference.visited) + where();
    const auto extra = reference.visited.size() - exact.visited.size();
    if (extra > 1 || (extra == 1 && length % 4 == 0))
        return "libmnl visited " + std::to_string(extra) + " more attributes" + where();
    if (extra == 1) {
        const auto& last = reference.visited.back();
        if (last.offset + last.length <= length || !exact.error)
            return "libmnl's extra attribute does not reach into the padding" + where();
        ++counts.padding_differences;
    } else if (exact.error.has_value() != reference.stopped_early) {
        return "nflog error " + std::to_string(exact.error.has_value()) + " but libmnl stopped early " + std::to_string(reference.stopped_early) +
               where();
    } else if (exact.error) {
        ++counts.silent_stops;
    }

    // Every attribute's payload read as a nest, both ways.
    for (const auto& visited : exact.visited) {
        const auto* attribute = reinterpret_cast<const nlattr*>(copy.data() + visited.offset);
        const auto inner_reference = libmnl_nested(attribute, copy.data());
        const netlink::attribute_view view(copy.bytes().subspan(visited.offset, visited.length));
        const auto inner = nflog_attributes(view.payload(), copy.data());
        if (inner.visited != inner_reference.visited || inner.error.has_value() != inner_reference.stopped_early)
            return "nested walk of " + std::to_string(visited.type) + "@" + std::to_string(visited.offset) + ": nflog " + describe(inner.visited) +
                   " libmnl " + describe(inner_reference.visited) + where();
        ++counts.nested_walks_compared;
    }

    if (!parsed)
        return {};
    const auto& packet = parsed.value();
    for (std::uint16_t type = 0; type <= NFULA_MAX; ++type) {
        const auto* entry = type == 0 ? nullptr : reference.table[type];
        if (packet.has(type) != (entry != nullptr))
            return "has(" + std::to_string(type) + ") disagrees with libmnl's table" + where();
        if (entry == nullptr)
            continue;
        const auto payload = packet.bytes(type);
        if (payload.data() != static_cast<const std::byte*>(mnl_attr_get_payload(entry)) || payload.size() != mnl_attr_get_payload_len(entry))
            return "bytes(" + std::to_string(type) + ") disagrees with libmnl's table" + where();
    }
    if (const auto* vlan = reference.table[NFULA_VLAN]) {
        const auto members = libmnl_nested(vlan, copy.data());
        std::array<const nlattr*, NFULA_VLAN_MAX> member_table{};
        for (const auto& member : members.visited)
            if (member.type < member_table.size())
                member_table[member.type] = reinterpret_cast<const nlattr*>(copy.data() + member.offset);
        const auto expect_member = [&](std::uint16_t type, std::optional<std::uint16_t> value) {
            const auto* member = member_table[type];
            return member == nullptr ? !value.has_value() : value == ntohs(mnl_attr_get_u16(member));
        };
        if (!expect_member(NFULA_VLAN_PROTO, packet.vlan_proto()) || !expect_member(NFULA_VLAN_TCI, packet.vlan_tci()))
            return "vlan members disagree with libmnl" + where();
    }
    return {};
}

struct visited_message {
    std::size_t offset = 0;
    std::uint32_t length = 0;
    std::uint16_t type = 0;
    friend bool operator==(const visited_message&, const visited_message&) = default;
};

/// Compares the message walk of a datagram with mnl_nlmsg_ok/mnl_nlmsg_next,
/// then every message with compare_message. Empty when all agree.
inline std::string compare_datagram(std::span<const std::byte> datagram, tally& counts)
{
    const aligned_copy copy(datagram, datagram.size());
    std::vector<visited_message> reference;
    int rest = static_cast<int>(datagram.size());
    bool reached_done = false;
    for (const nlmsghdr* header = copy.header();; header = mnl_nlmsg_next(header, &rest)) {
        if (rest >= static_cast<int>(sizeof(nlmsghdr)) && header->nlmsg_len > static_cast<std::uint32_t>(std::numeric_limits<int>::max())) {
            ++counts.libmnl_negative_lengths;
            break;
        }
        if (!mnl_nlmsg_ok(header, rest))
            break;
        if (header->nlmsg_type == NLMSG_DONE) {
            reached_done = true;
            break;
        }
        reference.push_back({static_cast<std::size_t>(reinterpret_cast<const std::byte*>(header) - copy.data()), header->nlmsg_len, header->nlmsg_type});
    }
    const bool stopped_early = !reached_done && rest > 0;

    std::vector<visited_message> walked;
    std::optional<boost::system::error_code> error;
    for (const auto& item : netlink::message_range(copy.bytes())) {
        if (!item) {
            error = item.error();
            break;
        }
        const auto& message = item.value();
        walked.push_back({static_cast<std::size_t>(message.bytes().data() - copy.data()), message.length(), message.type()});
        if (message.bytes().size() != message.length())
            return "message view size differs from nlmsg_len in " + describe(datagram);
    }
    if (walked != reference)
        return "message walk differs from libmnl's (" + std::to_string(walked.size()) + " vs " + std::to_string(reference.size()) + " messages) in " +
               describe(datagram);
    if (error.has_value() != stopped_early)
        return "message walk: nflog error " + std::to_string(error.has_value()) + ", libmnl stopped early " + std::to_string(stopped_early) + " in " +
               describe(datagram);
    if (error) {
        const auto expected = rest < static_cast<int>(sizeof(nlmsghdr)) ? errc::short_message : errc::bad_message_length;
        if (*error != expected)
            return "message walk error " + error->message() + " in " + describe(datagram);
    }
    for (const auto& message : walked) {
        if (auto difference = compare_message(copy.bytes().subspan(message.offset, message.length), counts); !difference.empty())
            return difference;
    }
    return {};
}

} // namespace nflog::test::mnl

#endif
