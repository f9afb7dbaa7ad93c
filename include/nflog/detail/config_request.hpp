#ifndef NFLOG_DETAIL_CONFIG_REQUEST_HPP
#define NFLOG_DETAIL_CONFIG_REQUEST_HPP

#include <nflog/options.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace nflog::detail {

/// One NFULNL_MSG_CONFIG message for one group. Only BIND and UNBIND are
/// ever sent as commands: PF_BIND/PF_UNBIND would change the namespace's
/// default logger under every other user.
struct config_request {
    enum class command : std::uint8_t { none, bind = NFULNL_CFG_CMD_BIND, unbind = NFULNL_CFG_CMD_UNBIND };

    std::uint16_t group = 0;
    command cmd = command::none;
    std::optional<copy_mode> mode;
    std::uint32_t copy_range = 0;
    std::optional<std::uint32_t> nlbufsiz;
    std::optional<std::uint32_t> timeout_centiseconds;
    std::optional<std::uint32_t> queue_threshold;
    std::optional<std::uint16_t> flags;
    /// Ask the kernel for an ACK (errors are reported either way).
    bool acknowledge = true;
};

/// Largest message `build_config_message` writes.
inline constexpr std::size_t config_message_capacity = 128;

/// Writes the message into `out` (at least config_message_capacity bytes,
/// 4-byte aligned); returns its length.
std::size_t build_config_message(std::span<std::byte> out, const config_request& request, std::uint32_t sequence) noexcept;

/// The full configuration `opts` asks for, as one BIND message for `group`.
config_request bind_request(const options& opts, std::uint16_t group) noexcept;

/// A configuration change for a bound group, without a command.
config_request settings_request(std::uint16_t group, const group_settings& settings) noexcept;

} // namespace nflog::detail

#endif
