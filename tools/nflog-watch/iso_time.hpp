#ifndef NFLOG_WATCH_ISO_TIME_HPP
#define NFLOG_WATCH_ISO_TIME_HPP

#include <array>
#include <chrono>
#include <string_view>

namespace nflog::watch {

/// Room for "YYYY-MM-DDTHH:MM:SS.ffffff+00:00".
using iso_time_buffer = std::array<char, 32>;

/// `time` as ISO-8601 UTC with microseconds, e.g. "2024-05-01T12:34:56.000789+00:00",
/// written into `buffer` (no allocation). The offset is spelled "+00:00" rather
/// than "Z" because that is what Python's `datetime.isoformat()` writes and
/// what `datetime.fromisoformat()` before Python 3.11 accepts. Sub-microsecond
/// digits are cut, not rounded, so a time never moves into the next second.
/// Years outside 0000-9999 are clamped to those bounds.
std::string_view format_iso_time(std::chrono::system_clock::time_point time, iso_time_buffer& buffer) noexcept;

} // namespace nflog::watch

#endif
