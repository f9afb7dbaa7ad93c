#ifndef NFLOG_NETLINK_ATTRIBUTE_HPP
#define NFLOG_NETLINK_ATTRIBUTE_HPP

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
#include <string_view>
#include <type_traits>

namespace nflog::netlink {

/// `NLA_TYPE_MASK` as the unsigned 16-bit field it masks (the macro is a
/// negative int, which users' -Wsign-conversion would flag in our headers).
inline constexpr std::uint16_t type_mask = static_cast<std::uint16_t>(NLA_TYPE_MASK);

class attribute_range;

/// Non-owning view of one netlink attribute (TLV). Valid as long as the
/// buffer it points into.
class attribute_view {
public:
    static constexpr std::size_t header_size = sizeof(nlattr);

    /// An all-zero header: type 0, no payload; every getter reads in bounds.
    attribute_view() = default;
    /// `bytes` holds the header and exactly `nla_len - header_size` payload bytes.
    explicit attribute_view(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

    /// Attribute type with the nested and byte-order flags masked off.
    std::uint16_t type() const noexcept { return static_cast<std::uint16_t>(raw_type() & type_mask); }
    std::uint16_t raw_type() const noexcept { return detail::load<std::uint16_t>(bytes_.data() + 2); }
    bool is_nested() const noexcept { return (raw_type() & NLA_F_NESTED) != 0; }
    bool is_net_byte_order() const noexcept { return (raw_type() & NLA_F_NET_BYTEORDER) != 0; }

    std::span<const std::byte> payload() const noexcept { return bytes_.subspan(header_size); }
    /// The attribute header and payload, without trailing padding.
    std::span<const std::byte> bytes() const noexcept { return bytes_; }

    /// The payload as an integer in host byte order; `errc::bad_attribute_size`
    /// unless the payload is exactly `sizeof(T)` bytes.
    template <class T>
        requires std::is_integral_v<T>
    result<T> as_host() const noexcept
    {
        if (payload().size() != sizeof(T))
            return make_error_code(errc::bad_attribute_size);
        return detail::load<T>(payload().data());
    }

    /// The payload as a big-endian integer, converted to host order.
    template <class T>
        requires std::is_integral_v<T>
    result<T> as_big_endian() const noexcept
    {
        if (payload().size() != sizeof(T))
            return make_error_code(errc::bad_attribute_size);
        return detail::load_be<T>(payload().data());
    }

    /// The payload as a C string: up to the first NUL, never past the attribute.
    std::string_view as_string() const noexcept { return detail::c_string(payload()); }

    /// The payload read as a sequence of attributes.
    attribute_range nested() const noexcept;

private:
    static constexpr std::array<std::byte, header_size> zero_header{};
    std::span<const std::byte> bytes_ = zero_header;
};

/// Forward range over consecutive attributes. Elements are
/// `result<attribute_view>`; a length that cannot be trusted yields one error
/// (`errc::short_attribute` or `errc::bad_attribute_length`) and ends the walk.
/// An unpadded last attribute is accepted.
class attribute_range {
    struct framing {
        using view_type = attribute_view;
        static constexpr std::size_t header_size = attribute_view::header_size;
        static constexpr errc short_record = errc::short_attribute;
        static constexpr errc bad_length = errc::bad_attribute_length;
        static std::size_t length(const std::byte* at) noexcept { return detail::load<std::uint16_t>(at); }
        static bool ends_walk(const std::byte*) noexcept { return false; }
    };

public:
    using iterator = detail::record_iterator<framing>;

    attribute_range() = default;
    explicit attribute_range(std::span<const std::byte> bytes) noexcept : bytes_(bytes) {}

    iterator begin() const noexcept { return iterator(bytes_); }
    iterator end() const noexcept { return {}; }

private:
    std::span<const std::byte> bytes_;
};

inline attribute_range attribute_view::nested() const noexcept { return attribute_range(payload()); }

} // namespace nflog::netlink

#endif
