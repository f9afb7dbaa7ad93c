#include "error_reason.hpp"

#include <algorithm>
#include <cstdio>

namespace nflog::watch {

bool is_kernel_reply(const boost::system::error_code& error) noexcept
{
    // The library keeps kernel errnos generic and gives its own findings the
    // "nflog" category.
    return error.category() == boost::system::generic_category();
}

std::string_view message_error_reason(const boost::system::error_code& error, reason_buffer& buffer) noexcept
{
    // error_code::message() would build a std::string; this overload need not.
    std::array<char, 128> message_buffer;
    const char* message = error.message(message_buffer.data(), message_buffer.size());
    const int length = std::snprintf(buffer.data(), buffer.size(), "%s%s",
                                     is_kernel_reply(error) ? "kernel error reply: " : "", message);
    // snprintf reports the length it wanted; what it wrote stops at the buffer.
    const auto written = length < 0 ? 0 : std::min(static_cast<std::size_t>(length), buffer.size() - 1);
    return {buffer.data(), written};
}

} // namespace nflog::watch
