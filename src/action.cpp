#include "nflog/action.hpp"
#include "nflog/detail/prefix_action.hpp"

#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

namespace nflog {
namespace {

// Order is precedence: a denial must never be reported as anything milder,
// whatever else the rule author put in the prefix.
constexpr std::array<std::pair<std::string_view, std::string_view>, 5> markers{{
    {"DENIED", "blocked_connection"},
    {"PRIVATE", "private_range"},
    {"ALLOWED", "allowed_connection"},
    {"BYPASS", "bypass_connection"},
    {"QUEUED", "queued_connection"},
}};

} // namespace

std::uint8_t detail::prefix_action(std::string_view prefix) noexcept
{
    // One pass over the prefix, runs for every event: a position is compared
    // only with the marker its character can start (the markers' first
    // letters differ), and a denial ends the search.
    std::size_t strongest = markers.size();
    for (std::size_t at = 0; at < prefix.size(); ++at) {
        std::size_t candidate = markers.size();
        switch (prefix[at]) {
        case 'D': candidate = 0; break;
        case 'P': candidate = 1; break;
        case 'A': candidate = 2; break;
        case 'B': candidate = 3; break;
        case 'Q': candidate = 4; break;
        default: continue;
        }
        if (candidate < strongest && prefix.substr(at).starts_with(markers[candidate].first)) {
            strongest = candidate;
            if (strongest == 0)
                break;
        }
    }
    return static_cast<std::uint8_t>(strongest);
}

std::string_view detail::action_name(std::uint8_t number) noexcept
{
    return number < markers.size() ? markers[number].second : "nflog";
}

std::string_view action_from_prefix(std::string_view prefix) noexcept
{
    return detail::action_name(detail::prefix_action(prefix));
}

} // namespace nflog
