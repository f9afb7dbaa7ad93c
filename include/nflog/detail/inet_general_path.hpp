#ifndef NFLOG_DETAIL_INET_GENERAL_PATH_HPP
#define NFLOG_DETAIL_INET_GENERAL_PATH_HPP

#include <nflog/inet.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace nflog::detail {

/// `inet::decode` without its fast path: every payload takes the walk that
/// checks each field's bounds on its own. Both must give the same flow for
/// every payload; this lets the tests and fuzzers hold them to that. Not
/// meant for anything else: `inet::decode` is never slower.
inet::flow decode_inet_general_path(std::span<const std::byte> payload, std::uint16_t hw_protocol,
                                    std::uint8_t family) noexcept;

} // namespace nflog::detail

#endif
