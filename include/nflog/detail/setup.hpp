#ifndef NFLOG_DETAIL_SETUP_HPP
#define NFLOG_DETAIL_SETUP_HPP

#include <nflog/detail/batching_controller.hpp>
#include <nflog/detail/config_request.hpp>
#include <nflog/options.hpp>
#include <nflog/result.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

namespace nflog::detail {

/// A netfilter netlink socket with every group bound and configured.
struct bound_socket {
    int fd = -1;
    /// Datagrams that arrived while waiting for ACKs (a group bound first
    /// may already log before the next one is bound): delivered first, never dropped.
    std::deque<std::vector<std::byte>> early_datagrams;
};

/// Opens, binds and configures synchronously. On failure nothing stays
/// bound and no descriptor leaks; `diagnostic` receives the kernel's
/// extended-ACK text when it sent one.
result<bound_socket> open_and_bind(const options& opts, std::string* diagnostic);

/// Sends one configuration request on a bound socket and waits for its ACK;
/// datagrams that arrive meanwhile are appended to `early`. Errors as for
/// open_and_bind, plus `errc::group_not_bound`.
result<void> configure_group(int fd, const config_request& request, std::deque<std::vector<std::byte>>& early,
                             std::string* diagnostic);

/// Sends an adaptive batching change without asking for an ACK and without
/// blocking: the receive path never waits for the kernel. The kernel applies
/// it before the call returns; a refusal arrives later among the data,
/// carrying `sequence`. False when the message could not be sent.
bool send_batching(int fd, std::uint16_t group, std::uint32_t sequence, const batching_target& target) noexcept;

/// Sends UNBIND for each group without waiting: closing the socket would
/// destroy the instances anyway, this only makes it immediate.
void unbind_groups(int fd, std::span<const std::uint16_t> groups) noexcept;

} // namespace nflog::detail

#endif
