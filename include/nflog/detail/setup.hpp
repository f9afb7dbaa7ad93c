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

/// Sequence numbers of adaptive batching changes: this base plus the group's
/// slot, so that a refusal (which echoes the sequence number) names its
/// group. Requests that wait for an answer are numbered below it.
inline constexpr std::uint32_t batching_sequence_base = 0x6e660000;

/// What a socket met while a synchronous request waited for the kernel's
/// answer: a datagram, or an overrun at that point among them.
struct early_datagram {
    /// What the receive buffer held.
    std::vector<std::byte> bytes;
    /// The datagram's real length: more than `bytes.size()` when it was cut.
    std::size_t length = 0;
    /// Instead of a datagram: the kernel dropped some (ENOBUFS).
    bool overrun = false;
};

/// What a socket keeps from one synchronous request to the next.
struct request_state {
    /// In arrival order, for the next receives: never dropped.
    std::deque<early_datagram> early;
    /// The last request's sequence number. One numbering per socket, so that
    /// an answer that comes too late is never taken for a later request's.
    std::uint32_t last_sequence = 0;
};

/// A netfilter netlink socket with every group bound and configured.
struct bound_socket {
    int fd = -1;
    /// A group bound first may already log before the next one is bound.
    request_state requests;
};

/// Opens, binds and configures synchronously. On failure (ENOMEM included:
/// no exception) nothing stays bound and no descriptor leaks; `diagnostic`
/// receives the kernel's extended-ACK text when it sent one.
result<bound_socket> open_and_bind(const options& opts, std::string* diagnostic);

/// Sends one configuration request on a bound socket and waits for its
/// answer, receiving into `buffer` (as large as the socket's own receive
/// buffers, so that a datagram is cut exactly where a receive would cut it);
/// what arrives meanwhile goes to `requests.early`. Errors as for
/// open_and_bind, plus `errc::group_not_bound`, and `errc::kernel_overrun`
/// when the answer may have been dropped in an overrun (the change may or
/// may not have been made); ENOMEM when a datagram could not be kept.
result<void> configure_group(int fd, const config_request& request, std::span<std::byte> buffer,
                             request_state& requests, std::string* diagnostic);

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
