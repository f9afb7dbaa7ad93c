#ifndef NFLOG_WATCH_OPTION_VALUES_HPP
#define NFLOG_WATCH_OPTION_VALUES_HPP

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace nflog::watch {

/// `text` as a decimal whole number from `low` to `high`; nothing else (no
/// sign, no spaces, no suffix) is accepted.
std::optional<std::uint64_t> parse_whole_number(std::string_view text, std::uint64_t low, std::uint64_t high) noexcept;

/// Longest duration `parse_seconds` accepts: far beyond any use, and far
/// from overflowing a clock.
inline constexpr std::chrono::seconds longest_duration{10'000'000};

/// `text` as a positive decimal number of seconds ("2", "0.5"), at most
/// `longest_duration`, rounded up to whole milliseconds.
std::optional<std::chrono::milliseconds> parse_seconds(std::string_view text) noexcept;

} // namespace nflog::watch

#endif
