#ifndef NFLOG_DETAIL_PREFIX_ACTION_HPP
#define NFLOG_DETAIL_PREFIX_ACTION_HPP

#include <cstdint>
#include <string_view>

namespace nflog::detail {

/// `action_from_prefix` as a small number, so that an event can remember
/// which action its stored prefix names in one byte: 0 to 4 for the markers
/// in order of precedence, 5 for "nflog".
std::uint8_t prefix_action(std::string_view prefix) noexcept;

/// The action that `prefix_action` numbered.
std::string_view action_name(std::uint8_t number) noexcept;

} // namespace nflog::detail

#endif
