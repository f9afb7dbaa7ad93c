#ifndef NFLOG_DETAIL_BYTES_HPP
#define NFLOG_DETAIL_BYTES_HPP

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <type_traits>

namespace nflog::detail {

// Received bytes carry no alignment promise (a capture record, a fuzzer input),
// so every multi-byte read goes through memcpy; compilers turn it into one load.
template <class T>
    requires std::is_trivially_copyable_v<T>
inline T load(const std::byte* at) noexcept
{
    T value;
    std::memcpy(&value, at, sizeof value);
    return value;
}

// std::byteswap is C++23; the builtins are what it compiles to anyway.
template <class T>
constexpr T byteswap(T value) noexcept
{
    if constexpr (sizeof(T) == 2)
        return static_cast<T>(__builtin_bswap16(static_cast<std::uint16_t>(value)));
    else if constexpr (sizeof(T) == 4)
        return static_cast<T>(__builtin_bswap32(static_cast<std::uint32_t>(value)));
    else if constexpr (sizeof(T) == 8)
        return static_cast<T>(__builtin_bswap64(static_cast<std::uint64_t>(value)));
    else
        return value;
}

template <class T>
    requires std::is_integral_v<T>
inline T load_be(const std::byte* at) noexcept
{
    T value = load<T>(at);
    if constexpr (std::endian::native == std::endian::little)
        value = byteswap(value);
    return value;
}

// Where the first NUL of `size` bytes is, or `size`. Log prefixes are a few
// bytes long, so a call into the C library's memchr (its setup and page
// checks) cost more than the search; words of 8 (or 4) bytes, all loaded
// within the field, do it in a couple of steps. A word's lowest flagged byte
// is exact: a borrow only flags bytes above a true zero.
inline std::size_t first_nul(const std::byte* at, std::size_t size) noexcept
{
    if constexpr (std::endian::native != std::endian::little) {
        const void* nul = size == 0 ? nullptr : std::memchr(at, 0, size);
        return nul ? static_cast<std::size_t>(static_cast<const std::byte*>(nul) - at) : size;
    } else {
        // Whether the word at `word_at` holds a NUL, and where the first is.
        const auto nul_in = [at]<class Word>(Word, std::size_t word_at, std::size_t& found) {
            constexpr Word ones = static_cast<Word>(~Word{0}) / 0xff;
            const auto word = load<Word>(at + word_at);
            const auto zeros = static_cast<Word>((word - ones) & ~word & (ones << 7));
            found = word_at + static_cast<std::size_t>(std::countr_zero(zeros)) / 8;
            return zeros != 0;
        };
        std::size_t found = 0;
        if (size >= 8) {
            // Whole words until at most 16 bytes are left, then the last two
            // words. These may overlap: the second is read only when the
            // first holds no NUL, so a NUL found in it is the first one.
            std::size_t word_at = 0;
            for (; size - word_at > 16; word_at += 8)
                if (nul_in(std::uint64_t{}, word_at, found))
                    return found;
            const bool nul = nul_in(std::uint64_t{}, word_at, found) || nul_in(std::uint64_t{}, size - 8, found);
            return nul ? found : size;
        }
        if (size >= 4) {
            const bool nul = nul_in(std::uint32_t{}, 0, found) || nul_in(std::uint32_t{}, size - 4, found);
            return nul ? found : size;
        }
        std::size_t length = 0;
        while (length < size && at[length] != std::byte{0})
            ++length;
        return length;
    }
}

// Whether `size` bytes at `a` and at `b` are equal. For what `memcmp` is
// mostly asked here, a log prefix of a few bytes, its call and setup cost
// more than the comparison: words of 8 (or 4) bytes, loaded within both
// ranges, the last two possibly overlapping, as in `first_nul`.
inline bool same_bytes(const void* a, const void* b, std::size_t size) noexcept
{
    const auto* left = static_cast<const std::byte*>(a);
    const auto* right = static_cast<const std::byte*>(b);
    const auto differ = [left, right]<class Word>(Word, std::size_t at) {
        return load<Word>(left + at) != load<Word>(right + at);
    };
    if (size >= 8) {
        std::size_t at = 0;
        for (; size - at > 16; at += 8)
            if (differ(std::uint64_t{}, at))
                return false;
        return !differ(std::uint64_t{}, at) && !differ(std::uint64_t{}, size - 8);
    }
    if (size >= 4)
        return !differ(std::uint32_t{}, 0) && !differ(std::uint32_t{}, size - 4);
    for (std::size_t at = 0; at < size; ++at)
        if (left[at] != right[at])
            return false;
    return true;
}

// C-string semantics inside a bounded field: up to the first NUL, never past the end.
inline std::string_view c_string(std::span<const std::byte> field) noexcept
{
    return {reinterpret_cast<const char*>(field.data()), first_nul(field.data(), field.size())};
}

constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3u) & ~std::size_t{3}; }

} // namespace nflog::detail

#endif
