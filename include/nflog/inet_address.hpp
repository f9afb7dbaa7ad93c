#ifndef NFLOG_INET_ADDRESS_HPP
#define NFLOG_INET_ADDRESS_HPP

#include <boost/asio/ip/address.hpp>

#include <algorithm>
#include <array>
#include <charconv>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace nflog::inet {
class address;
}

namespace nflog::detail {

// Writes a header's address field straight into an address that lives inside
// a bigger object (a flow, inside an event). A temporary copied there is
// written in pieces and read back whole, which the CPU cannot forward from
// its store buffer: a stall of a dozen cycles or more per address.
struct address_writer {
    static void v4(inet::address& to, const std::byte* network_order) noexcept;
    static void v6(inet::address& to, const std::byte* network_order) noexcept;
};

} // namespace nflog::detail

namespace nflog::inet {

/// An IPv4 or IPv6 address as a decoded packet carries it: the bytes in
/// network order and which version they are.
///
/// Reads like `boost::asio::ip::address` (`is_v4`, `to_v4`, `to_string`,
/// `operator<<`, comparisons) and converts to it implicitly, so it can be
/// handed to any Asio interface. Unlike Asio's address it is trivially
/// copyable, which keeps `flow` and `event` trivially copyable: channels,
/// batches and queues copy them as plain bytes. A default address is the
/// unspecified IPv4 address 0.0.0.0, like Asio's.
class address {
public:
    address() = default;
    address(const boost::asio::ip::address_v4& v4) noexcept
    {
        const auto in = v4.to_bytes();
        std::copy(in.begin(), in.end(), bytes_.begin());
    }
    address(const boost::asio::ip::address_v6& v6) noexcept : v6_(true) { bytes_ = v6.to_bytes(); }
    /// Explicit, so that comparing with an Asio address has one meaning:
    /// Asio's own, after this address converts.
    explicit address(const boost::asio::ip::address& any) noexcept
        : address(any.is_v4() ? address(any.to_v4()) : address(any.to_v6()))
    {
    }

    /// From the 4 bytes of an IPv4 header field, in network order.
    static address v4(std::span<const std::byte, 4> network_order) noexcept
    {
        address out;
        detail::address_writer::v4(out, network_order.data());
        return out;
    }
    /// From the 16 bytes of an IPv6 header field, in network order.
    static address v6(std::span<const std::byte, 16> network_order) noexcept
    {
        address out;
        detail::address_writer::v6(out, network_order.data());
        return out;
    }

    bool is_v4() const noexcept { return !v6_; }
    bool is_v6() const noexcept { return v6_; }
    /// 0.0.0.0 or ::.
    bool is_unspecified() const noexcept
    {
        return std::all_of(bytes_.begin(), bytes_.end(), [](std::uint8_t byte) { return byte == 0; });
    }

    /// The address bytes in network order: 4 for IPv4, 16 for IPv6.
    std::span<const std::uint8_t> bytes() const noexcept { return {bytes_.data(), v6_ ? 16u : 4u}; }

    /// Throws `boost::asio::ip::bad_address_cast` for the other version, as Asio does.
    boost::asio::ip::address_v4 to_v4() const
    {
        if (v6_)
            boost::asio::detail::throw_exception(boost::asio::ip::bad_address_cast());
        return boost::asio::ip::address_v4({bytes_[0], bytes_[1], bytes_[2], bytes_[3]});
    }
    boost::asio::ip::address_v6 to_v6() const
    {
        if (!v6_)
            boost::asio::detail::throw_exception(boost::asio::ip::bad_address_cast());
        return boost::asio::ip::address_v6(bytes_);
    }
    boost::asio::ip::address to_asio() const
    {
        return v6_ ? boost::asio::ip::address(to_v6()) : boost::asio::ip::address(to_v4());
    }
    operator boost::asio::ip::address() const { return to_asio(); }

    /// Room for the text of any address (INET6_ADDRSTRLEN without its NUL).
    static constexpr std::size_t max_text_size = 45;

    /// Writes the text `to_string` returns into [first, last), not
    /// NUL-terminated, without allocating: for a log line per event. As
    /// `std::to_chars` does, returns one past the text, or `last` and
    /// `std::errc::value_too_large` when it does not fit (the range then
    /// holds nothing useful). `max_text_size` characters always suffice.
    std::to_chars_result to_chars(char* first, char* last) const noexcept;

    /// Dotted decimal or RFC 5952 text, as Asio writes it.
    std::string to_string() const
    {
        char text[max_text_size];
        return {text, to_chars(text, text + max_text_size).ptr};
    }

    friend bool operator==(const address&, const address&) noexcept = default;
    /// IPv4 before IPv6, then by the bytes: Asio's order.
    friend std::strong_ordering operator<=>(const address& a, const address& b) noexcept
    {
        if (a.v6_ != b.v6_)
            return a.v6_ ? std::strong_ordering::greater : std::strong_ordering::less;
        return a.bytes_ <=> b.bytes_;
    }

    /// Honours the stream's width and fill, as Asio's operator does.
    friend std::ostream& operator<<(std::ostream& out, const address& value)
    {
        char text[max_text_size];
        const auto end = value.to_chars(text, text + max_text_size).ptr;
        return out << std::string_view(text, static_cast<std::size_t>(end - text));
    }

private:
    friend struct detail::address_writer;

    // Unused bytes stay zero, so comparing every byte compares addresses.
    std::array<std::uint8_t, 16> bytes_{};
    bool v6_ = false;
};

static_assert(std::is_trivially_copyable_v<address>);

} // namespace nflog::inet

namespace nflog::detail {

inline void address_writer::v4(inet::address& to, const std::byte* network_order) noexcept
{
    std::memcpy(to.bytes_.data(), network_order, 4);
    std::memset(to.bytes_.data() + 4, 0, to.bytes_.size() - 4);
    to.v6_ = false;
}

inline void address_writer::v6(inet::address& to, const std::byte* network_order) noexcept
{
    std::memcpy(to.bytes_.data(), network_order, to.bytes_.size());
    to.v6_ = true;
}

} // namespace nflog::detail

template <>
struct std::hash<nflog::inet::address> {
    std::size_t operator()(const nflog::inet::address& value) const noexcept
    {
        // FNV-1a over the 4 or 16 bytes: every byte moves every bit.
        std::uint64_t digest = 0xcbf29ce484222325u;
        for (const auto byte : value.bytes())
            digest = (digest ^ byte) * 0x100000001b3u;
        return static_cast<std::size_t>(digest);
    }
};

#endif
