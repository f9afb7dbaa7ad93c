#ifndef NFLOG_DETAIL_SETUP_HPP
#define NFLOG_DETAIL_SETUP_HPP

#include <nflog/options.hpp>
#include <nflog/result.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nflog::detail {

/// A netfilter netlink socket with every group bound and configured.
struct bound_socket {
    int fd = -1;
    /// Datagrams that arrived while waiting for ACKs (a group bound first
    /// may already log before the next one is bound): delivered first, never dropped.
    std::vector<std::vector<std::byte>> early_datagrams;
};

/// Opens, binds and configures synchronously. On failure nothing stays
/// bound and no descriptor leaks; `diagnostic` receives the kernel's
/// extended-ACK text when it sent one.
result<bound_socket> open_and_bind(const options& opts, std::string* diagnostic);

/// Sends UNBIND for each group without waiting: closing the socket would
/// destroy the instances anyway, this only makes it immediate.
void unbind_groups(int fd, std::span<const std::uint16_t> groups) noexcept;

} // namespace nflog::detail

#endif
