#ifndef NFLOG_WATCH_OPEN_ERROR_HPP
#define NFLOG_WATCH_OPEN_ERROR_HPP

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace nflog::watch {

/// What the user is told when a socket cannot be opened.
struct open_failure {
    int status = 0;      ///< an exit_status
    std::string message; ///< one line, without the program name and newline
};

/// Describes `error` from nflog::socket::open for the namespace `netns`
/// (empty: this one) and `groups`. `busy_group` names the group another
/// socket owns, when it is known; `diagnostic` is what open() wrote there
/// (the kernel's extended-ACK text, or the field at fault for an invalid
/// option), possibly empty.
open_failure describe_open_error(const boost::system::error_code& error, std::string_view netns,
                                 std::span<const std::uint16_t> groups, std::optional<std::uint16_t> busy_group,
                                 std::string_view diagnostic);

} // namespace nflog::watch

#endif
