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

// C-string semantics inside a bounded field: up to the first NUL, never past the end.
inline std::string_view c_string(std::span<const std::byte> field) noexcept
{
    const auto* chars = reinterpret_cast<const char*>(field.data());
    const void* nul = field.empty() ? nullptr : std::memchr(chars, '\0', field.size());
    return {chars, nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - chars) : field.size()};
}

constexpr std::size_t align4(std::size_t n) noexcept { return (n + 3u) & ~std::size_t{3}; }

} // namespace nflog::detail

#endif
