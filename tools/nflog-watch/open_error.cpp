#include "open_error.hpp"

#include "exit_status.hpp"

#include <nflog/error.hpp>

namespace nflog::watch {
namespace {

std::string group_list(std::span<const std::uint16_t> groups)
{
    std::string out;
    for (const auto group : groups)
        out += (out.empty() ? "" : ", ") + std::to_string(group);
    return out;
}

} // namespace

open_failure describe_open_error(const boost::system::error_code& error, std::string_view netns,
                                 std::span<const std::uint16_t> groups, std::optional<std::uint16_t> busy_group,
                                 std::string_view diagnostic)
{
    const std::string where = netns.empty() ? std::string() : "network namespace " + std::string(netns) + ": ";
    if (error == errc::permission_denied) {
        // Entering another namespace fails first when CAP_SYS_ADMIN is missing;
        // the library cannot tell which capability it was, so name both.
        return {exit_permission,
                where + (netns.empty()
                             ? "permission denied: watching NFLOG needs CAP_NET_ADMIN (run as root)"
                             : "permission denied: entering a network namespace needs CAP_SYS_ADMIN (a "
                               "/proc/PID/ns/net file also the right to trace PID), watching NFLOG CAP_NET_ADMIN "
                               "(run as root)")};
    }
    if (error == errc::group_busy) {
        const std::string which = busy_group ? "NFLOG group " + std::to_string(*busy_group) + " is"
                                  : groups.size() == 1 ? "NFLOG group " + group_list(groups) + " is"
                                                       : "one of the NFLOG groups " + group_list(groups) + " is";
        return {exit_group_busy,
                where + which + " already bound by another program (another nflog-watch? ulogd?)"};
    }
    if (error == errc::namespace_not_found)
        // The library cannot tell a missing path from a file that is no
        // namespace (`--netns /etc/passwd`): name both.
        return {exit_namespace_not_found, "--netns " + std::string(netns) +
                                              " does not exist or is not a network namespace (ip netns list "
                                              "shows the names)"};
    if (error == errc::nflog_unavailable)
        return {exit_nflog_unavailable,
                where + "nfnetlink_log is not available: no netlink here, or the kernel lacks the nfnetlink_log "
                        "module (modprobe nfnetlink_log)"};
    if (error == errc::invalid_option || error == errc::no_group) {
        // The library names the field at fault; its names are close enough to
        // the options' for the user to find the one to change.
        const std::string reason = diagnostic.empty() ? std::string() : std::string(diagnostic) + "; ";
        return {exit_usage,
                where + "the kernel would refuse or ignore these settings (" + reason + "see --help for the ranges)"};
    }
    std::string message = where + "cannot watch NFLOG groups " + group_list(groups) + ": " + error.message();
    if (!diagnostic.empty())
        message += " (" + std::string(diagnostic) + ")";
    return {exit_kernel_error, std::move(message)};
}

} // namespace nflog::watch
