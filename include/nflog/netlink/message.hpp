#ifndef NFLOG_NETLINK_MESSAGE_HPP
#define NFLOG_NETLINK_MESSAGE_HPP

#include <nflog/detail/bytes.hpp>
#include <nflog/detail/record_iterator.hpp>
#include <nflog/error.hpp>
#include <nflog/result.hpp>

#include <linux/netlink.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

namespace nflog::netlink {

/// Non-owning view of one netlink message (header and payload) inside a
/// receive buffer. Valid as long as the buffer it points into.
class message_view {
public:
    static constexpr std::size_t header_size = sizeof(nlmsghdr);

    /// An all-zero header: type 0, length 0, no payload; every getter reads
    /// in bounds.
    message_view() = default;

    /// `bytes` must hold at least `header_size` bytes; its size is the
    /// message length (as already checked against `nlmsg_len` by the walk).
    explicit message_view(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

    std::uint32_t length() const noexcept { return detail::load<std::uint32_t>(bytes_.data()); }
    std::uint16_t type() const noexcept { return detail::load<std::uint16_t>(bytes_.data() + 4); }
    std::uint16_t flags() const noexcept { return detail::load<std::uint16_t>(bytes_.data() + 6); }
    std::uint32_t sequence() const noexcept { return detail::load<std::uint32_t>(bytes_.data() + 8); }
    std::uint32_t port_id() const noexcept { return detail::load<std::uint32_t>(bytes_.data() + 12); }

    /// The whole message, header included.
    std::span<const std::byte> bytes() const noexcept { return bytes_; }
    /// Everything after the netlink header.
    std::span<const std::byte> payload() const noexcept { return bytes_.subspan(header_size); }

    bool is_error() const noexcept { return type() == NLMSG_ERROR; }

private:
    static constexpr std::array<std::byte, header_size> zero_header{};
    std::span<const std::byte> bytes_ = zero_header;
};

/// The content of an NLMSG_ERROR message: errno 0 is an acknowledgement.
struct error_message {
    int error = 0;                  ///< positive errno, 0 for an ACK
    std::uint32_t request_sequence = 0;
    std::uint16_t request_type = 0;
    std::span<const std::byte> extended_ack; ///< NLMSGERR_ATTR_* attributes, possibly empty
};

/// Decodes an NLMSG_ERROR message; `errc::bad_error_message` when it is too
/// short or its error field is neither 0 nor a negated errno,
/// `errc::unexpected_reply` when it is another type.
inline result<error_message> parse_error(const message_view& message) noexcept
{
    if (!message.is_error())
        return make_error_code(errc::unexpected_reply);
    const auto payload = message.payload();
    // errno, then at least the header of the request it answers.
    constexpr std::size_t minimum = sizeof(std::int32_t) + sizeof(nlmsghdr);
    if (payload.size() < minimum)
        return make_error_code(errc::bad_error_message);
    // The kernel never sends an errno above MAX_ERRNO (4095); rejecting the
    // rest also keeps INT_MIN from overflowing on negation.
    constexpr std::int32_t max_errno = 4095;
    const auto negated_errno = detail::load<std::int32_t>(payload.data());
    if (negated_errno > 0 || negated_errno < -max_errno)
        return make_error_code(errc::bad_error_message);
    error_message out;
    out.error = -negated_errno;
    out.request_type = detail::load<std::uint16_t>(payload.data() + 4 + 4);
    out.request_sequence = detail::load<std::uint32_t>(payload.data() + 4 + 8);
    if ((message.flags() & NLM_F_ACK_TLVS) == 0)
        return out;
    // Without NLM_F_CAPPED the kernel echoes the whole request before the TLVs.
    std::size_t skip = sizeof(std::int32_t) + sizeof(nlmsghdr);
    if ((message.flags() & NLM_F_CAPPED) == 0) {
        const auto request_length = detail::load<std::uint32_t>(payload.data() + 4);
        // Bounded before it is rounded up, which could wrap a 32-bit size_t.
        if (request_length < sizeof(nlmsghdr) || request_length > payload.size() - sizeof(std::int32_t))
            return make_error_code(errc::bad_error_message);
        skip = sizeof(std::int32_t) + detail::align4(request_length);
    }
    if (skip > payload.size())
        return make_error_code(errc::bad_error_message);
    out.extended_ack = payload.subspan(skip);
    return out;
}

/// Forward range over the messages of one netlink datagram.
///
/// Each element is a `result<message_view>`. The walk stops after `NLMSG_DONE`
/// (not yielded), at the end of the buffer, or after yielding a framing error
/// (`errc::short_message`, `errc::bad_message_length`): once a length cannot be
/// trusted, no later byte can be, so the walk never re-synchronises on guesses.
/// An unpadded last message is accepted.
class message_range {
    struct framing {
        using view_type = message_view;
        static constexpr std::size_t header_size = message_view::header_size;
        static constexpr errc short_record = errc::short_message;
        static constexpr errc bad_length = errc::bad_message_length;
        static std::size_t length(const std::byte* at) noexcept { return detail::load<std::uint32_t>(at); }
        static bool ends_walk(const std::byte* at) noexcept { return detail::load<std::uint16_t>(at + 4) == NLMSG_DONE; }
    };

public:
    using iterator = detail::record_iterator<framing>;

    message_range() = default;
    explicit message_range(std::span<const std::byte> datagram) noexcept : datagram_(datagram) {}

    iterator begin() const noexcept { return iterator(datagram_); }
    iterator end() const noexcept { return {}; }

private:
    std::span<const std::byte> datagram_;
};

/// Whether `datagram` carries an `NLMSG_DONE` within trustworthy framing:
/// the end of a dump, which `message_range` stops at without yielding.
inline bool contains_done(std::span<const std::byte> datagram) noexcept
{
    while (datagram.size() >= message_view::header_size) {
        const auto length = detail::load<std::uint32_t>(datagram.data());
        if (length < message_view::header_size || length > datagram.size())
            return false;
        if (detail::load<std::uint16_t>(datagram.data() + 4) == NLMSG_DONE)
            return true;
        datagram = datagram.subspan(std::min<std::size_t>(detail::align4(length), datagram.size()));
    }
    return false;
}

} // namespace nflog::netlink

#endif
