#include "support/counting_allocator.hpp"

#include <nflog/inet_address.hpp>

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>

#include <array>
#include <cstddef>
#include <iomanip>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

namespace {

namespace ip = boost::asio::ip;
using nflog::inet::address;

const auto v4_text = "192.0.2.33";
const auto v6_text = "2001:db8::ff00:42:8329";

std::vector<std::uint8_t> as_vector(std::span<const std::uint8_t> bytes) { return {bytes.begin(), bytes.end()}; }

TEST(inet_address, default_is_the_unspecified_ipv4_address_like_asio)
{
    const address none;
    EXPECT_TRUE(none.is_v4());
    EXPECT_FALSE(none.is_v6());
    EXPECT_TRUE(none.is_unspecified());
    EXPECT_EQ(none.to_string(), "0.0.0.0");
    EXPECT_EQ(none.to_asio(), ip::address());
    EXPECT_EQ(none.bytes().size(), 4u);
}

TEST(inet_address, reads_ipv4_bytes_in_network_order)
{
    const std::array<std::byte, 4> field{std::byte{192}, std::byte{0}, std::byte{2}, std::byte{33}};
    const auto parsed = address::v4(field);
    EXPECT_TRUE(parsed.is_v4());
    EXPECT_FALSE(parsed.is_unspecified());
    EXPECT_EQ(parsed.to_string(), v4_text);
    EXPECT_EQ(parsed.to_v4(), ip::make_address_v4(v4_text));
    EXPECT_EQ(as_vector(parsed.bytes()), (std::vector<std::uint8_t>{192, 0, 2, 33}));
}

TEST(inet_address, reads_ipv6_bytes_in_network_order)
{
    const auto expected = ip::make_address_v6(v6_text);
    std::array<std::byte, 16> field{};
    for (std::size_t i = 0; i < field.size(); ++i)
        field[i] = std::byte{expected.to_bytes()[i]};
    const auto parsed = address::v6(field);
    EXPECT_TRUE(parsed.is_v6());
    EXPECT_EQ(parsed.to_string(), v6_text);
    EXPECT_EQ(parsed.to_v6(), expected);
    EXPECT_EQ(parsed.bytes().size(), 16u);
    EXPECT_EQ(as_vector(parsed.bytes()), as_vector(expected.to_bytes()));
}

TEST(inet_address, converts_to_and_from_asio_addresses_unchanged)
{
    for (const auto* text : {v4_text, v6_text, "::", "0.0.0.0", "255.255.255.255", "::ffff:192.0.2.1"}) {
        const auto asio_address = ip::make_address(text);
        const address ours(asio_address);
        EXPECT_EQ(ours.is_v6(), asio_address.is_v6()) << text;
        EXPECT_EQ(ours.is_unspecified(), asio_address.is_unspecified()) << text;
        EXPECT_EQ(ours.to_string(), asio_address.to_string()) << text;
        const ip::address back = ours;
        EXPECT_EQ(back, asio_address) << text;
        // Compared with an Asio address directly: Asio's operator, after the conversion.
        EXPECT_TRUE(ours == asio_address) << text;
    }
    EXPECT_EQ(address(ip::make_address_v4(v4_text)), address(ip::make_address(v4_text)));
    EXPECT_EQ(address(ip::make_address_v6(v6_text)), address(ip::make_address(v6_text)));
}

TEST(inet_address, the_other_version_is_a_bad_address_cast_as_in_asio)
{
    const address v4 = ip::make_address_v4(v4_text);
    const address v6 = ip::make_address_v6(v6_text);
    EXPECT_THROW((void)v4.to_v6(), ip::bad_address_cast);
    EXPECT_THROW((void)v6.to_v4(), ip::bad_address_cast);
}

TEST(inet_address, equal_only_with_the_same_version_and_bytes)
{
    const address v4_zero = ip::make_address_v4("0.0.0.0");
    const address v6_zero = ip::make_address_v6("::");
    // The same sixteen stored bytes, but not the same address.
    EXPECT_NE(v4_zero, v6_zero);
    EXPECT_TRUE(v6_zero.is_unspecified());
    const address one = ip::make_address_v4("0.0.0.1");
    const address v6_one = ip::make_address_v6("::1");
    EXPECT_NE(one, v6_one);
    EXPECT_EQ(one, address(ip::make_address_v4("0.0.0.1")));
}

TEST(inet_address, orders_ipv4_before_ipv6_then_by_bytes_as_asio_does)
{
    const std::vector<std::string> texts{"10.0.0.1", "10.0.0.2", "192.0.2.1", "::", "::1", "2001:db8::1"};
    for (std::size_t i = 0; i < texts.size(); ++i) {
        for (std::size_t j = 0; j < texts.size(); ++j) {
            const auto a = ip::make_address(texts[i]);
            const auto b = ip::make_address(texts[j]);
            EXPECT_EQ(address(a) < address(b), a < b) << texts[i] << " " << texts[j];
            EXPECT_EQ(address(a) == address(b), a == b) << texts[i] << " " << texts[j];
        }
    }
}

TEST(inet_address, prints_as_asio_does)
{
    std::ostringstream ours;
    std::ostringstream asio;
    ours << address(ip::make_address(v6_text)) << ' ' << address(ip::make_address(v4_text));
    asio << ip::make_address(v6_text) << ' ' << ip::make_address(v4_text);
    EXPECT_EQ(ours.str(), asio.str());
}

// Addresses whose text takes every form inet_ntop knows: dotted decimal,
// compressed and full hexadecimal, an IPv4 tail.
const std::vector<std::string> text_forms{
    "0.0.0.0", "255.255.255.255", v4_text, "::", "::1", v6_text, "::ffff:192.0.2.1", "::ffff:255.255.255.255",
    "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe80::1:2:3:4", "2001:db8:0:1:1:1:1:1", "1::"};

TEST(inet_address, to_chars_writes_asios_text_without_allocating)
{
    for (const auto& text : text_forms) {
        const auto asio_address = ip::make_address(text);
        const address ours(asio_address);
        std::array<char, address::max_text_size> buffer{};
        const nflog::test::allocation_scope allocations;
        const auto written = ours.to_chars(buffer.data(), buffer.data() + buffer.size());
        EXPECT_EQ(allocations.count(), 0u) << text;
        EXPECT_EQ(written.ec, std::errc{}) << text;
        EXPECT_EQ(std::string(buffer.data(), written.ptr), asio_address.to_string()) << text;
        EXPECT_EQ(ours.to_string(), asio_address.to_string()) << text;
    }
}

TEST(inet_address, to_chars_reports_a_range_too_small_as_std_to_chars_does)
{
    for (const auto& text : text_forms) {
        const address ours(ip::make_address(text));
        std::string buffer(text.size(), '#');
        const auto exact = ours.to_chars(buffer.data(), buffer.data() + buffer.size());
        EXPECT_EQ(exact.ec, std::errc{}) << text;
        EXPECT_EQ(exact.ptr, buffer.data() + buffer.size()) << text;
        EXPECT_EQ(buffer, text);
        const auto short_by_one = ours.to_chars(buffer.data(), buffer.data() + buffer.size() - 1);
        EXPECT_EQ(short_by_one.ec, std::errc::value_too_large) << text;
        EXPECT_EQ(short_by_one.ptr, buffer.data() + buffer.size() - 1) << text;
    }
    char nothing = '#';
    const auto empty = address().to_chars(&nothing, &nothing);
    EXPECT_EQ(empty.ec, std::errc::value_too_large);
    EXPECT_EQ(empty.ptr, &nothing);
    EXPECT_EQ(nothing, '#');
}

TEST(inet_address, prints_with_the_streams_width_and_fill_as_asio_does)
{
    std::ostringstream ours;
    std::ostringstream asio;
    ours << std::setfill('.') << std::setw(16) << address(ip::make_address(v4_text)) << '|' << std::left
         << std::setw(24) << address(ip::make_address(v6_text)) << '|';
    asio << std::setfill('.') << std::setw(16) << ip::make_address(v4_text) << '|' << std::left << std::setw(24)
         << ip::make_address(v6_text) << '|';
    EXPECT_EQ(ours.str(), asio.str());
    EXPECT_EQ(ours.str(), "......192.0.2.33|2001:db8::ff00:42:8329..|");
}

TEST(inet_address, hashes_equal_addresses_alike_and_keeps_versions_apart)
{
    const std::hash<address> hash;
    EXPECT_EQ(hash(address(ip::make_address(v6_text))), hash(address(ip::make_address_v6(v6_text))));
    std::unordered_set<address> seen;
    for (const auto* text : {"0.0.0.1", "::1", "0.0.0.0", "::", "192.0.2.1", "192.0.2.1"})
        seen.insert(address(ip::make_address(text)));
    EXPECT_EQ(seen.size(), 5u);
}

} // namespace
