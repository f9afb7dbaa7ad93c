#include "option_values.hpp"

#include <charconv>
#include <cmath>

namespace nflog::watch {

std::optional<std::uint64_t> parse_whole_number(std::string_view text, std::uint64_t low, std::uint64_t high) noexcept
{
    std::uint64_t value = 0;
    const auto* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, value);
    if (text.empty() || error != std::errc() || stop != end || value < low || value > high)
        return std::nullopt;
    return value;
}

std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) noexcept
{
    // from_chars takes "inf", "nan" and a leading '-' even in fixed format:
    // the range check below refuses them.
    double seconds = 0;
    const auto* end = text.data() + text.size();
    const auto [stop, error] = std::from_chars(text.data(), end, seconds, std::chars_format::fixed);
    if (text.empty() || error != std::errc() || stop != end || !std::isfinite(seconds) || seconds <= 0 ||
        seconds > static_cast<double>(longest_duration.count()))
        return std::nullopt;
    return std::chrono::milliseconds(static_cast<std::int64_t>(std::ceil(seconds * 1000)));
}

} // namespace nflog::watch
