#include "nflog/action.hpp"

#include <array>
#include <utility>

namespace nflog {

std::string_view action_from_prefix(std::string_view prefix) noexcept
{
    // Order is precedence: a denial must never be reported as anything milder,
    // whatever else the rule author put in the prefix.
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 5> markers{{
        {"DENIED", "blocked_connection"},
        {"PRIVATE", "private_range"},
        {"ALLOWED", "allowed_connection"},
        {"BYPASS", "bypass_connection"},
        {"QUEUED", "queued_connection"},
    }};
    for (const auto& [marker, action] : markers) {
        if (prefix.find(marker) != std::string_view::npos)
            return action;
    }
    return "nflog";
}

} // namespace nflog
