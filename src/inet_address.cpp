#include "nflog/inet_address.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

namespace nflog::inet {

static_assert(address::max_text_size == INET6_ADDRSTRLEN - 1);

// inet_ntop is what Asio's to_string calls (without a scope, which this
// address never has), so the text is the same.
std::to_chars_result address::to_chars(char* first, char* last) const noexcept
{
    char text[INET6_ADDRSTRLEN];
    // Cannot fail: the family is known and the buffer takes any address.
    ::inet_ntop(v6_ ? AF_INET6 : AF_INET, bytes_.data(), text, sizeof text);
    const std::size_t length = std::strlen(text);
    if (static_cast<std::size_t>(last - first) < length)
        return {last, std::errc::value_too_large};
    std::memcpy(first, text, length);
    return {first + length, std::errc{}};
}

} // namespace nflog::inet
