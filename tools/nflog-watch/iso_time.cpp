#include "iso_time.hpp"

#include <cstddef>
#include <cstdint>

namespace nflog::watch {
namespace {

// Writes `value` as exactly `width` decimal digits, most significant first.
char* put_digits(char* at, std::uint32_t value, int width) noexcept
{
    for (int i = width - 1; i >= 0; --i) {
        at[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
    return at + width;
}

} // namespace

std::string_view format_iso_time(std::chrono::system_clock::time_point time, iso_time_buffer& buffer) noexcept
{
    using namespace std::chrono;
    // Clamping in days keeps every later step inside the calendar's range,
    // whatever the clock's representation.
    constexpr auto first_day = sys_days{year{0} / January / 1};
    constexpr auto last_day = sys_days{year{9999} / December / 31};
    auto micros = floor<microseconds>(time);
    if (floor<days>(micros) < first_day)
        micros = first_day;
    else if (floor<days>(micros) > last_day)
        micros = last_day + days{1} - microseconds{1};

    const auto day = floor<days>(micros);
    const year_month_day date{day};
    const hh_mm_ss clock{micros - day};

    char* at = buffer.data();
    at = put_digits(at, static_cast<std::uint32_t>(static_cast<int>(date.year())), 4);
    *at++ = '-';
    at = put_digits(at, static_cast<unsigned>(date.month()), 2);
    *at++ = '-';
    at = put_digits(at, static_cast<unsigned>(date.day()), 2);
    *at++ = 'T';
    at = put_digits(at, static_cast<std::uint32_t>(clock.hours().count()), 2);
    *at++ = ':';
    at = put_digits(at, static_cast<std::uint32_t>(clock.minutes().count()), 2);
    *at++ = ':';
    at = put_digits(at, static_cast<std::uint32_t>(clock.seconds().count()), 2);
    *at++ = '.';
    at = put_digits(at, static_cast<std::uint32_t>(clock.subseconds().count()), 6);
    for (const char c : std::string_view{"+00:00"})
        *at++ = c;
    return {buffer.data(), static_cast<std::size_t>(at - buffer.data())};
}

} // namespace nflog::watch
