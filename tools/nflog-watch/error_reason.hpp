#ifndef NFLOG_WATCH_ERROR_REASON_HPP
#define NFLOG_WATCH_ERROR_REASON_HPP

#include <boost/system/error_code.hpp>

#include <array>
#include <string_view>

namespace nflog::watch {

using reason_buffer = std::array<char, 160>;

/// True for an errno the kernel sent in an NLMSG_ERROR, which a datagram (or
/// a capture of a netlink socket) can carry in place of a packet.
bool is_kernel_reply(const boost::system::error_code& error) noexcept;

/// What an error line says about a message that could not be used: the
/// error's text, after "kernel error reply: " for a kernel errno. Written
/// into `buffer`.
std::string_view message_error_reason(const boost::system::error_code& error, reason_buffer& buffer) noexcept;

} // namespace nflog::watch

#endif
