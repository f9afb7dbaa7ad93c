#ifndef NFLOG_TEST_SUPPORT_MESSAGE_BUILDER_HPP
#define NFLOG_TEST_SUPPORT_MESSAGE_BUILDER_HPP

#include <nflog/detail/bytes.hpp>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace nflog::test {

using bytes = std::vector<std::byte>;

inline bytes to_bytes(std::initializer_list<int> values)
{
    bytes out;
    for (int v : values)
        out.push_back(static_cast<std::byte>(v));
    return out;
}

inline bytes to_bytes(std::string_view text)
{
    bytes out(text.size());
    if (!text.empty()) // memcpy with null pointers is undefined, even for 0 bytes
        std::memcpy(out.data(), text.data(), text.size());
    return out;
}

inline void append(bytes& out, const void* data, std::size_t size)
{
    // resize + memcpy rather than insert: g++ 12 at -O2 misreads a small
    // insert into an empty vector as an overflow (-Wstringop-overflow).
    if (size == 0)
        return;
    const auto at = out.size();
    out.resize(at + size);
    std::memcpy(out.data() + at, data, size);
}

template <class T>
void append_host(bytes& out, T value)
{
    append(out, &value, sizeof value);
}

template <class T>
void append_be(bytes& out, T value)
{
    value = detail::byteswap(value);
    append(out, &value, sizeof value);
}

inline void pad4(bytes& out) { out.resize(detail::align4(out.size())); }

template <class T>
bytes be(T value)
{
    bytes out;
    append_be(out, value);
    return out;
}

/// One attribute: header, payload, padding. `length_override` forges nla_len.
inline bytes attribute(std::uint16_t type, std::span<const std::byte> payload, int length_override = -1)
{
    bytes out;
    append_host<std::uint16_t>(out, length_override >= 0 ? static_cast<std::uint16_t>(length_override)
                                                         : static_cast<std::uint16_t>(4 + payload.size()));
    append_host<std::uint16_t>(out, type);
    append(out, payload.data(), payload.size());
    pad4(out);
    return out;
}

inline bytes attribute(std::uint16_t type, const bytes& payload) { return attribute(type, std::span<const std::byte>(payload)); }

inline bytes concat(std::initializer_list<bytes> parts)
{
    bytes out;
    for (const auto& part : parts)
        out.insert(out.end(), part.begin(), part.end());
    return out;
}

/// A netlink message around `body`, padded to 4 bytes as the kernel sends it;
/// `length_override` forges nlmsg_len.
inline bytes message(std::uint16_t type, const bytes& body, std::uint16_t flags = 0, long length_override = -1)
{
    bytes out;
    append_host<std::uint32_t>(out, length_override >= 0 ? static_cast<std::uint32_t>(length_override)
                                                         : static_cast<std::uint32_t>(16 + body.size()));
    append_host<std::uint16_t>(out, type);
    append_host<std::uint16_t>(out, flags);
    append_host<std::uint32_t>(out, 0);
    append_host<std::uint32_t>(out, 0);
    out.insert(out.end(), body.begin(), body.end());
    pad4(out);
    return out;
}

/// nfgenmsg for an NFLOG packet: family, version 0, group big-endian.
inline bytes nfgen(std::uint8_t family, std::uint16_t group)
{
    bytes out;
    append_host<std::uint8_t>(out, family);
    append_host<std::uint8_t>(out, NFNETLINK_V0);
    append_be<std::uint16_t>(out, group);
    return out;
}

inline bytes packet_header(std::uint16_t hw_protocol, std::uint8_t hook)
{
    bytes out;
    append_be<std::uint16_t>(out, hw_protocol);
    append_host<std::uint8_t>(out, hook);
    append_host<std::uint8_t>(out, 0);
    return out;
}

/// A whole NFULNL_MSG_PACKET with the given attributes (already encoded).
inline bytes packet_message(std::uint8_t family, std::uint16_t group, const bytes& attributes)
{
    return message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET, concat({nfgen(family, group), attributes}));
}

inline bytes done_message() { return message(NLMSG_DONE, be<std::uint32_t>(0)); }

inline bytes noop_message() { return message(NLMSG_NOOP, {}); }

/// An NLMSG_ERROR answering a request of `request_type`: `error` is a positive
/// errno, 0 for an ACK. The request is echoed capped (its header only).
inline bytes error_message(int error, std::uint16_t request_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG)
{
    bytes body;
    append_host<std::int32_t>(body, -error);
    const auto request = message(request_type, {}, NLM_F_REQUEST | NLM_F_ACK);
    body.insert(body.end(), request.begin(), request.end());
    return message(NLMSG_ERROR, body);
}

/// An attribute flagged NLA_F_NESTED, as nla_nest_start() emits it.
inline bytes nested_attribute(std::uint16_t type, const bytes& inner)
{
    return attribute(static_cast<std::uint16_t>(type | NLA_F_NESTED), inner);
}

/// `text` followed by one NUL, as the kernel puts NFULA_PREFIX.
inline bytes nul_terminated(std::string_view text)
{
    auto out = to_bytes(text);
    out.push_back(std::byte{0});
    return out;
}

inline bytes timestamp_payload(std::uint64_t seconds, std::uint64_t microseconds)
{
    bytes out;
    append_be(out, seconds);
    append_be(out, microseconds);
    return out;
}

/// nfulnl_msg_packet_hw: the declared address length, then the address
/// zero-filled to its 8-byte field.
inline bytes hwaddr_payload(std::uint16_t address_length, std::initializer_list<int> address)
{
    bytes out;
    append_be<std::uint16_t>(out, address_length);
    append_host<std::uint16_t>(out, 0);
    const auto field = to_bytes(address);
    out.insert(out.end(), field.begin(), field.end());
    out.resize(4 + 8);
    return out;
}

} // namespace nflog::test

#endif
