#include <nflog/detail/bytes.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string_view>

namespace {

using nflog::detail::c_string;
using nflog::detail::first_nul;
using nflog::detail::same_bytes;

// A heap block of exactly `size` bytes, so that the sanitizer build catches
// a read one byte past the field.
struct exact_field {
    explicit exact_field(std::size_t size) : size(size), bytes(new std::byte[size == 0 ? 1 : size]) {}
    std::span<const std::byte> view() const { return {bytes.get(), size}; }
    std::size_t size;
    std::unique_ptr<std::byte[]> bytes;
};

std::size_t naive_first_nul(std::span<const std::byte> field)
{
    std::size_t at = 0;
    while (at < field.size() && field[at] != std::byte{0})
        ++at;
    return at;
}

TEST(first_nul, finds_the_first_nul_at_every_place_of_every_size_up_to_40)
{
    // The bytes around the NUL are those that trouble word-wise searches:
    // 0x01 and 0x80 sit at the borrow's edges, 0xff borrows from everything.
    for (const std::byte filler : {std::byte{'a'}, std::byte{0x01}, std::byte{0x80}, std::byte{0xff}}) {
        for (std::size_t size = 0; size <= 40; ++size) {
            for (std::size_t nul_at = 0; nul_at <= size; ++nul_at) {
                exact_field field(size);
                for (std::size_t i = 0; i < size; ++i)
                    field.bytes[i] = i == nul_at ? std::byte{0} : filler;
                EXPECT_EQ(first_nul(field.bytes.get(), size), nul_at)
                    << "size " << size << ", NUL at " << nul_at << ", filler " << static_cast<int>(filler);
            }
        }
    }
}

TEST(first_nul, a_later_nul_never_hides_an_earlier_one)
{
    for (std::size_t size = 1; size <= 24; ++size) {
        for (std::size_t first = 0; first < size; ++first) {
            for (std::size_t second = first; second < size; ++second) {
                exact_field field(size);
                for (std::size_t i = 0; i < size; ++i)
                    field.bytes[i] = std::byte{0x01};
                field.bytes[first] = field.bytes[second] = std::byte{0};
                EXPECT_EQ(first_nul(field.bytes.get(), size), first) << "size " << size << ", NULs at " << first
                                                                     << " and " << second;
            }
        }
    }
}

TEST(first_nul, agrees_with_a_byte_loop_over_pseudo_random_fields)
{
    std::uint32_t state = 0x9e3779b9u;
    const auto next = [&] {
        state ^= state << 13;
        state ^= state >> 17;
        state ^= state << 5;
        return state;
    };
    for (int round = 0; round < 20000; ++round) {
        exact_field field(next() % 80);
        // Few NULs, so that many fields have none or one late in the field.
        for (std::size_t i = 0; i < field.size; ++i)
            field.bytes[i] = next() % 16 == 0 ? std::byte{0} : static_cast<std::byte>(next() | 1u);
        ASSERT_EQ(first_nul(field.bytes.get(), field.size), naive_first_nul(field.view())) << "round " << round;
    }
}

TEST(same_bytes, equal_ranges_of_every_size_up_to_40_are_equal)
{
    for (std::size_t size = 0; size <= 40; ++size) {
        exact_field left(size);
        exact_field right(size);
        for (std::size_t i = 0; i < size; ++i)
            left.bytes[i] = right.bytes[i] = static_cast<std::byte>(0x80 | i);
        EXPECT_TRUE(same_bytes(left.bytes.get(), right.bytes.get(), size)) << "size " << size;
    }
}

TEST(same_bytes, one_differing_byte_at_any_place_makes_them_differ)
{
    for (std::size_t size = 1; size <= 40; ++size) {
        for (std::size_t differs_at = 0; differs_at < size; ++differs_at) {
            for (const unsigned flip : {0x01u, 0x80u, 0xffu}) {
                exact_field left(size);
                exact_field right(size);
                for (std::size_t i = 0; i < size; ++i)
                    left.bytes[i] = right.bytes[i] = static_cast<std::byte>('a' + i % 26);
                right.bytes[differs_at] ^= static_cast<std::byte>(flip);
                EXPECT_FALSE(same_bytes(left.bytes.get(), right.bytes.get(), size))
                    << "size " << size << ", differs at " << differs_at << ", flip " << flip;
                EXPECT_FALSE(same_bytes(right.bytes.get(), left.bytes.get(), size))
                    << "size " << size << ", differs at " << differs_at << ", flip " << flip;
            }
        }
    }
}

TEST(same_bytes, compares_only_the_bytes_it_is_given)
{
    const std::string_view left = "flood-1";
    const std::string_view right = "flood-2";
    EXPECT_TRUE(same_bytes(left.data(), right.data(), 6));
    EXPECT_FALSE(same_bytes(left.data(), right.data(), 7));
    EXPECT_TRUE(same_bytes(left.data(), right.data(), 0));
}

TEST(c_string, stops_at_the_first_nul_and_never_past_the_field)
{
    const std::string_view kernel_prefix("DENIED: \0", 9);
    const auto as_bytes = [](std::string_view text) { return std::as_bytes(std::span(text.data(), text.size())); };
    EXPECT_EQ(c_string(as_bytes(kernel_prefix)), "DENIED: ");
    EXPECT_EQ(c_string(as_bytes(kernel_prefix)).data(), kernel_prefix.data());
    EXPECT_EQ(c_string(as_bytes(std::string_view("no terminator"))), "no terminator");
    EXPECT_EQ(c_string(as_bytes(std::string_view("in\0side\0", 8))), "in");
    EXPECT_EQ(c_string(as_bytes(std::string_view("\0", 1))), "");
    EXPECT_EQ(c_string({}), "");
}

} // namespace
