#ifndef NFLOG_DETAIL_SETUP_HPP
#define NFLOG_DETAIL_SETUP_HPP

#include <nflog/detail/batching_controller.hpp>
#include <nflog/detail/config_request.hpp>
#include <nflog/options.hpp>
#include <nflog/result.hpp>

#include <cstddef>
#include <cstdint>
#include <list>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
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
    /// Instead of a datagram: datagrams were dropped here, by the kernel
    /// (ENOBUFS) or because the store was full.
    bool overrun = false;
};

/// The datagrams that arrive while synchronous requests wait, in arrival
/// order, for the next receives. Bounded: a group that floods while a
/// request waits must not take all memory. What does not fit is dropped and
/// shows as an overrun at its place; the sequence numbers of the next
/// datagram count the events it held as lost, as after the kernel's own.
class early_store {
public:
    /// Twice the library's default receive buffer: room for what the socket
    /// held when the request was sent, and as much again meanwhile.
    static constexpr std::size_t capacity_bytes = 16u << 20;

    bool empty() const noexcept { return datagrams_.empty(); }
    std::size_t size() const noexcept { return datagrams_.size(); }
    std::size_t bytes_kept() const noexcept { return bytes_kept_; }
    auto begin() const noexcept { return datagrams_.begin(); }
    auto end() const noexcept { return datagrams_.end(); }

    /// Keeps what a receive read (`kept` of a datagram of `length` bytes),
    /// or marks an overrun when it does not fit. Throws std::bad_alloc.
    void keep(std::span<const std::byte> kept, std::size_t length)
    {
        if (kept.size() > capacity_bytes - bytes_kept_)
            return keep_overrun();
        datagrams_.push_back({{kept.begin(), kept.end()}, length, false});
        bytes_kept_ += kept.size();
    }

    /// Marks dropped datagrams at this point; one mark for a run of them,
    /// as the kernel reports one ENOBUFS for all it dropped since the last
    /// receive. Throws std::bad_alloc.
    void keep_overrun()
    {
        if (datagrams_.empty() || !datagrams_.back().overrun)
            datagrams_.push_back({{}, 0, true});
    }

    /// The oldest; the store must not be empty.
    early_datagram take() noexcept
    {
        auto out = std::move(datagrams_.front());
        datagrams_.pop_front();
        bytes_kept_ -= out.bytes.size();
        return out;
    }

private:
    // A list, not a deque: moving it allocates nothing, so a socket that
    // has bound its groups cannot fail to hand its state over.
    std::list<early_datagram> datagrams_;
    std::size_t bytes_kept_ = 0;
};

/// What a socket keeps from one synchronous request to the next.
struct request_state {
    early_store early;
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
static_assert(std::is_nothrow_move_constructible_v<bound_socket>,
              "handing a bound socket over must not fail after its groups are bound");

/// Opens, binds and configures synchronously. On failure (ENOMEM included:
/// no exception) nothing stays bound and no descriptor leaks; `diagnostic`
/// receives the kernel's extended-ACK text when it sent one.
result<bound_socket> open_and_bind(const options& opts, std::string* diagnostic);

/// Puts `text` into a caller's diagnostic, when one was given. The text is
/// an extra beside the error code: memory running out for it changes no code.
void write_diagnostic(std::string* diagnostic, std::string_view text) noexcept;

/// Binds each of `opts.groups` on an open socket, in order, appending each
/// to `bound` once the kernel took it. Errors as for open_and_bind; the
/// caller unbinds what `bound` holds.
result<void> bind_groups(int fd, const options& opts, std::span<std::byte> buffer, request_state& requests,
                         std::string* diagnostic, std::vector<std::uint16_t>& bound);

/// The outcome of a configuration request, and whether the kernel may have
/// applied it: it has unless it refused it or never received it.
struct configure_answer {
    result<void> outcome = boost::outcome_v2::success();
    bool may_have_applied = false;
};

/// Sends one configuration request on a bound socket and waits for its
/// answer, receiving into `buffer` (as large as the socket's own receive
/// buffers, so that a datagram is cut exactly where a receive would cut it);
/// what arrives meanwhile goes to `requests.early`. The wait is bounded as a
/// whole, however much data keeps arriving. Errors as for open_and_bind,
/// plus `errc::group_not_bound`, `errc::kernel_overrun` when the answer may
/// have been dropped in an overrun, ETIMEDOUT when no answer came, and
/// ENOMEM when a datagram that arrived meanwhile could not be kept.
configure_answer configure_group(int fd, const config_request& request, std::span<std::byte> buffer,
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
