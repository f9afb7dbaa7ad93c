#ifndef NFLOG_NETLINK_MESSAGE_HPP
#define NFLOG_NETLINK_MESSAGE_HPP

#include <nflog/detail/bytes.hpp>
#include <nflog/error.hpp>
#include <nflog/result.hpp>

#include <linux/netlink.h>

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
    std::span<const std::byte> bytes_;
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
        if (request_length < sizeof(nlmsghdr))
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
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = result<message_view>;
        using difference_type = std::ptrdiff_t;
        using pointer = const value_type*;
        using reference = const value_type&;

        iterator() = default;

        reference operator*() const noexcept { return current_; }
        pointer operator->() const noexcept { return &current_; }

        iterator& operator++() noexcept
        {
            rest_ = rest_.subspan(consumed_);
            if (stop_after_current_)
                rest_ = {};
            step();
            return *this;
        }
        iterator operator++(int) noexcept
        {
            auto copy = *this;
            ++*this;
            return copy;
        }

        friend bool operator==(const iterator& a, const iterator& b) noexcept
        {
            return a.rest_.data() == b.rest_.data() && a.rest_.size() == b.rest_.size() && a.at_end_ == b.at_end_;
        }

    private:
        friend class message_range;
        explicit iterator(std::span<const std::byte> bytes) noexcept : rest_(bytes) { step(); }

        void step() noexcept
        {
            consumed_ = 0;
            stop_after_current_ = false;
            if (rest_.empty()) {
                at_end_ = true;
                rest_ = {};
                return;
            }
            at_end_ = false;
            if (rest_.size() < message_view::header_size) {
                current_ = make_error_code(errc::short_message);
                stop_after_current_ = true;
                return;
            }
            const auto length = detail::load<std::uint32_t>(rest_.data());
            if (length < message_view::header_size || length > rest_.size()) {
                current_ = make_error_code(errc::bad_message_length);
                stop_after_current_ = true;
                return;
            }
            if (detail::load<std::uint16_t>(rest_.data() + 4) == NLMSG_DONE) {
                at_end_ = true;
                rest_ = {};
                return;
            }
            current_ = message_view(rest_.first(length));
            consumed_ = std::min<std::size_t>(detail::align4(length), rest_.size());
        }

        std::span<const std::byte> rest_;
        // A value, not an error: every loop builds an end iterator, and
        // making an error_code costs a call into the category.
        value_type current_{message_view{}};
        std::size_t consumed_ = 0;
        bool stop_after_current_ = false;
        bool at_end_ = true;
    };

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
