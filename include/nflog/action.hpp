#ifndef NFLOG_ACTION_HPP
#define NFLOG_ACTION_HPP

#include <string_view>

namespace nflog {

/// What a firewall rule's log prefix says happened to the packet, as a stable
/// event name. The prefix is searched, case-sensitively, for these markers;
/// the first one in this list that occurs anywhere in it wins, so a prefix
/// such as "ALLOWED-PRIVATE" is `private_range`:
///
/// | marker    | action                 |
/// |-----------|------------------------|
/// | `DENIED`  | `"blocked_connection"` |
/// | `PRIVATE` | `"private_range"`      |
/// | `ALLOWED` | `"allowed_connection"` |
/// | `BYPASS`  | `"bypass_connection"`  |
/// | `QUEUED`  | `"queued_connection"`  |
/// | (none)    | `"nflog"`              |
///
/// The returned view refers to static storage.
std::string_view action_from_prefix(std::string_view prefix) noexcept;

} // namespace nflog

#endif
