#include "nflog/error.hpp"

#include <cerrno>
#include <string>

namespace nflog {
namespace {

// The texts are literals, so that the overloads of `message` that fill a
// caller's buffer can return them without building a string: a reason
// written because memory ran out must not need memory.
const char* error_text(int value) noexcept
{
    switch (static_cast<errc>(value)) {
    case errc::short_message: return "netlink message shorter than its header";
    case errc::bad_message_length: return "netlink message length out of bounds";
    case errc::short_attribute: return "netlink attribute shorter than its header";
    case errc::bad_attribute_length: return "netlink attribute length out of bounds";
    case errc::bad_attribute_size: return "netlink attribute has the wrong size for its type";
    case errc::short_nfgenmsg: return "netfilter message shorter than its nfgenmsg header";
    case errc::not_a_packet: return "netfilter message is not an NFLOG packet";
    case errc::missing_packet_header: return "NFLOG packet without its packet header attribute";
    case errc::bad_error_message: return "malformed netlink error message";
    case errc::datagram_truncated: return "netlink datagram larger than the receive buffer";
    case errc::kernel_overrun: return "kernel dropped NFLOG messages (receive buffer overrun)";
    case errc::permission_denied: return "permission denied: nfnetlink_log needs CAP_NET_ADMIN, entering a network namespace CAP_SYS_ADMIN";
    case errc::group_busy: return "NFLOG group already bound by another socket";
    case errc::group_already_bound: return "NFLOG group already bound by this socket";
    case errc::group_not_bound: return "NFLOG group not bound by this socket";
    case errc::nflog_unavailable: return "nfnetlink_log is not available";
    case errc::namespace_not_found: return "network namespace not found (no such file, or not a network namespace)";
    case errc::invalid_option: return "invalid NFLOG option value";
    case errc::no_group: return "no NFLOG group to bind";
    case errc::unexpected_reply: return "unexpected netlink reply";
    case errc::conntrack_unavailable: return "conntrack data unavailable (no nf_conntrack_netlink in the kernel)";
    case errc::receive_out_of_memory: return "memory ran out while parsing a netlink datagram: its events were lost";
    case errc::receive_pending: return "a receive is pending on the socket: configure it between receives";
    }
    return "unknown nflog error";
}

const char* condition_text(int value) noexcept
{
    switch (static_cast<condition>(value)) {
    case condition::malformed: return "malformed netlink input";
    case condition::overrun: return "NFLOG events were lost";
    case condition::unavailable: return "NFLOG is unavailable";
    case condition::permission: return "not permitted to use NFLOG";
    }
    return "unknown nflog condition";
}

class nflog_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nflog"; }

    std::string message(int value) const override { return error_text(value); }
    const char* message(int value, char*, std::size_t) const noexcept override { return error_text(value); }

    boost::system::error_condition default_error_condition(int value) const noexcept override
    {
        switch (static_cast<errc>(value)) {
        case errc::short_message:
        case errc::bad_message_length:
        case errc::short_attribute:
        case errc::bad_attribute_length:
        case errc::bad_attribute_size:
        case errc::short_nfgenmsg:
        case errc::not_a_packet:
        case errc::missing_packet_header:
        case errc::bad_error_message:
            return condition::malformed;
        case errc::datagram_truncated:
        case errc::kernel_overrun:
        case errc::receive_out_of_memory:
            return condition::overrun;
        case errc::permission_denied:
        case errc::group_busy:
            return condition::permission;
        case errc::nflog_unavailable:
        case errc::namespace_not_found:
            return condition::unavailable;
        default:
            return {value, *this};
        }
    }

    // Code that looks for ENOMEM keeps finding it: the datagram was lost
    // because memory ran out.
    bool equivalent(int value, const boost::system::error_condition& condition) const noexcept override
    {
        if (static_cast<errc>(value) == errc::receive_out_of_memory &&
            condition == boost::system::errc::not_enough_memory)
            return true;
        return default_error_condition(value) == condition;
    }
};

class nflog_condition_category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "nflog.condition"; }

    std::string message(int value) const override { return condition_text(value); }
    const char* message(int value, char*, std::size_t) const noexcept override { return condition_text(value); }

    bool equivalent(const boost::system::error_code& code, int value) const noexcept override
    {
        if (code.category() == nflog::error_category())
            return code.category().default_error_condition(code.value()) == boost::system::error_condition(value, *this);
        // Kernel errnos that mean the same thing as the library's own codes.
        if (code.category() == boost::system::generic_category() || code.category() == boost::system::system_category()) {
            switch (static_cast<condition>(value)) {
            case condition::overrun: return code.value() == ENOBUFS;
            case condition::unavailable:
                return code.value() == EAFNOSUPPORT || code.value() == EPROTONOSUPPORT || code.value() == EOPNOTSUPP;
            case condition::permission: return code.value() == EPERM || code.value() == EACCES;
            case condition::malformed: return false;
            }
        }
        return false;
    }
};

} // namespace

const boost::system::error_category& error_category() noexcept
{
    static const nflog_category instance;
    return instance;
}

const boost::system::error_category& condition_category() noexcept
{
    static const nflog_condition_category instance;
    return instance;
}

} // namespace nflog
