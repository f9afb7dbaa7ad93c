#ifndef NFLOG_SOCKET_HPP
#define NFLOG_SOCKET_HPP

#include <nflog/batch.hpp>
#include <nflog/detail/config.hpp>
#include <nflog/detail/drop_count.hpp>
#include <nflog/detail/receive_state.hpp>
#include <nflog/detail/setup.hpp>
#include <nflog/error.hpp>
#include <nflog/netlink/protocol.hpp>
#include <nflog/options.hpp>
#include <nflog/result.hpp>
#include <nflog/stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/basic_raw_socket.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/execution_context.hpp>
#include <boost/asio/post.hpp>

#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <span>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace nflog {

/// An NFLOG socket: one netfilter netlink socket that has bound one or more
/// NFLOG groups, configured the kernel for them, and delivers what the kernel
/// logs as batches of parsed packets. It is connected to the kernel, so only
/// the kernel can send to it: another process of the namespace, root there
/// included, can neither inject events nor answer its requests.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe — as with Asio's sockets,
/// run one operation of a kind at a time, from the object's executor or a strand.
/// As in any Asio composed operation, a received datagram is parsed and
/// counted on the way to the handler, through the handler's associated
/// executor: a handler bound to another executor than the socket's strand
/// updates `stats()` there.
///
/// @par Lifetime
/// The socket may be moved. Closing or destroying it completes a pending
/// `async_receive` with `net::error::operation_aborted`; the operation keeps
/// what it uses alive until its handler has run, so neither is a
/// use-after-free. A receive started after `close()` completes with
/// `net::error::bad_descriptor`, as does every operation of a moved-from
/// socket (its executor stays, as for Asio's sockets; `native_socket()` is
/// not to be called on it). Batches own their buffers and may outlive the
/// socket.
///
/// @par Loss accounting
/// Every event the kernel logged for a bound group ends up in exactly one
/// place: a delivered batch, `stats().lost` (from sequence-number gaps, with
/// `options::sequence_numbers`), `stats().discarded` (still queued at
/// `close()`), or — until a later message reveals the exact gap — behind an
/// error the receive operation reported at once (an overrun, a cut
/// datagram, `errc::receive_out_of_memory`). A message that does not parse
/// is reported and counted in `stats().malformed`; its unread sequence
/// number then shows as a gap too.
template <class Executor = net::any_io_executor>
class basic_socket {
    struct impl {
        // The state is made first: until the socket has taken the
        // descriptor, a failure leaves it to `open`, which closes it once.
        impl(const Executor& executor, int fd, std::size_t capacity, std::vector<std::uint16_t> groups,
             detail::request_state requests, const detail::batching_setup& batching)
            : state(capacity, std::move(groups), std::move(requests), batching),
              socket(executor, netlink::raw_protocol::netfilter(), fd)
        {
        }
        template <class OtherSocket>
        impl(detail::receive_state&& taken_state, OtherSocket&& taken_socket)
            : state(std::move(taken_state)), socket(std::move(taken_socket))
        {
        }

        // After every receive: changes the batching controllers asked for go
        // out at once, without waiting for an answer.
        void send_batching()
        {
            if (!state.batching_pending() || !socket.is_open())
                return;
            const int fd = socket.native_handle();
            state.send_batching(
                [fd](std::uint16_t group, std::uint32_t sequence, const detail::batching_target& target) {
                    return detail::send_batching(fd, group, sequence, target);
                });
        }

        // A receive buffer that memory cannot be found for fails the receive
        // before anything is read: nothing is lost, a later receive can try.
        bool acquire(detail::buffer_lease& lease) noexcept
        {
            try {
                lease = state.acquire();
                return true;
            }
            catch (const std::bad_alloc&) {
                return false;
            }
        }

        void count_overrun()
        {
            state.count_overrun();
            note_drop_count();
            send_batching();
        }

        result<batch> take_early_datagram()
        {
            auto out = state.take_early_datagram();
            if (!out && out.error() == errc::kernel_overrun)
                note_drop_count();
            send_batching();
            return out;
        }

        // Read at each overrun and at close, where it matters: the ENOBUFS
        // that reports an overrun comes once per congestion, and the gap that
        // counts its events only with a later message.
        void note_drop_count() noexcept
        {
            if (const auto count = detail::read_drop_count(socket.native_handle()))
                state.note_drop_count(*count);
        }

        // Counts what is queued and will never be received (see `close`).
        // Unbinding is a request the kernel carries out while sending it, so
        // the batches it flushes are queued by now. The queue is bounded
        // once the groups are unbound; the bound below only guards against
        // a refused unbind (a process without CAP_NET_ADMIN) whose groups
        // keep logging faster than this drains.
        void discard_queued() noexcept
        {
            const auto lost_before = state.counters().lost;
            drain_into_discarded();
            if (receiving)
                lost_after_close = state.counters().lost - lost_before;
        }

        void drain_into_discarded() noexcept
        {
            if (!state.discard_early())
                return;
            const int fd = socket.native_handle();
            int queue_bytes = 0;
            socklen_t size = sizeof queue_bytes;
            if (::getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &queue_bytes, &size) != 0)
                queue_bytes = 0;
            std::size_t budget = 2 * static_cast<std::size_t>(std::max(queue_bytes, 1 << 20));
            while (budget > 0) {
                detail::buffer_lease lease;
                try {
                    lease = state.acquire();
                }
                catch (const std::bad_alloc&) {
                    return;
                }
                const auto received = ::recv(fd, lease.bytes().data(), lease.bytes().size(), MSG_TRUNC | MSG_DONTWAIT);
                if (received < 0) {
                    if (errno == ENOBUFS)
                        state.count_overrun();
                    else if (errno != EINTR)
                        return;
                    continue;
                }
                const auto length = static_cast<std::size_t>(received);
                const auto kept = std::min(length, lease.bytes().size());
                if (!state.discard(std::move(lease), kept, length))
                    return;
                budget -= std::min(budget, std::max<std::size_t>(length, 1));
            }
        }

        // A datagram the pending receive had taken before close() is older
        // than the queue close() drained, so a gap counted there in its group
        // also counted its events as lost: those events are behind their
        // group's sequence now, and only they are taken back. A gap of
        // another group was a real loss.
        void settle_after_close(std::uint64_t delivered_behind) noexcept
        {
            if (lost_after_close > 0)
                lost_after_close -= state.take_back_lost(std::min(delivered_behind, lost_after_close));
        }

        detail::receive_state state;
        net::basic_raw_socket<netlink::raw_protocol, Executor> socket;
        // An asynchronous receive is waiting, or its datagram on the way to
        // its handler.
        bool receiving = false;
        // Of what close() counted as lost, what the pending receive may yet
        // deliver.
        std::uint64_t lost_after_close = 0;
    };

public:
    using executor_type = Executor;
    /// The raw netlink socket underneath, for options this class does not wrap.
    using native_socket_type = net::basic_raw_socket<netlink::raw_protocol, Executor>;

    template <class OtherExecutor>
    struct rebind_executor {
        using other = basic_socket<OtherExecutor>;
    };

    /// Opens a netfilter netlink socket (inside `opts.netns` when set), binds
    /// every group of `opts.groups` and configures it, synchronously.
    ///
    /// Errors (all values, never exceptions): `errc::no_group`,
    /// `errc::invalid_option` (checked before anything reaches the kernel,
    /// which would ACK some invalid values and ignore them),
    /// `errc::permission_denied` (no CAP_NET_ADMIN, or no CAP_SYS_ADMIN to
    /// enter `opts.netns`, or no right to open its file), `errc::group_busy` (another socket owns a
    /// group), `errc::nflog_unavailable`, `errc::namespace_not_found`,
    /// `errc::conntrack_unavailable` (`opts.conntrack` without
    /// nf_conntrack_netlink), or a kernel errno. Compare with
    /// `condition::unavailable` / `condition::permission` to degrade
    /// gracefully. `diagnostic`, when given, is cleared and receives the
    /// kernel's extended-ACK text for a refused request; without one, for
    /// `errc::group_busy` the group ("group 41 is bound by another
    /// socket"), and for `errc::invalid_option` the field at fault
    /// (`invalid_option_reason`).
    static result<basic_socket> open(const executor_type& executor, const options& opts,
                                     std::string* diagnostic = nullptr)
    {
        if (diagnostic != nullptr)
            diagnostic->clear();
        BOOST_OUTCOME_TRY(auto bound, detail::open_and_bind(opts, diagnostic));
        try {
            return basic_socket(std::make_shared<impl>(executor, bound.fd, datagram_capacity(opts), opts.groups,
                                                       std::move(bound.requests),
                                                       detail::batching_setup_for(opts)));
        }
        catch (const boost::system::system_error& failure) {
            detail::unbind_groups(bound.fd, opts.groups);
            ::close(bound.fd);
            return failure.code();
        }
        catch (const std::bad_alloc&) {
            detail::unbind_groups(bound.fd, opts.groups);
            ::close(bound.fd);
            return boost::system::error_code(ENOMEM, boost::system::generic_category());
        }
    }

    template <class ExecutionContext>
        requires std::is_convertible_v<ExecutionContext&, net::execution_context&>
    static result<basic_socket> open(ExecutionContext& context, const options& opts, std::string* diagnostic = nullptr)
    {
        // Explicitly: some executors (a strand) are not implicitly made from the context's.
        return open(executor_type(context.get_executor()), opts, diagnostic);
    }

    // The executor is copied, not moved: a moved-from socket keeps it, as Asio's do.
    basic_socket(basic_socket&& other) noexcept : executor_(other.executor_), impl_(std::move(other.impl_)) {}
    basic_socket& operator=(basic_socket&& other) noexcept
    {
        if (this != &other) {
            close();
            executor_ = other.executor_;
            impl_ = std::move(other.impl_);
        }
        return *this;
    }
    /// Takes over a socket of another executor type, as Asio's sockets do
    /// (what `as_default_on` uses); call it with no operation pending.
    template <class OtherExecutor>
        requires(!std::is_same_v<OtherExecutor, Executor> && std::is_constructible_v<Executor, const OtherExecutor&>)
    basic_socket(basic_socket<OtherExecutor>&& other) : executor_(other.executor_)
    {
        if (other.impl_) {
            impl_ = std::make_shared<impl>(std::move(other.impl_->state), std::move(other.impl_->socket));
            other.impl_.reset();
        }
    }
    basic_socket(const basic_socket&) = delete;
    basic_socket& operator=(const basic_socket&) = delete;
    ~basic_socket() { close(); }

    executor_type get_executor() const noexcept { return executor_; }
    bool is_open() const noexcept { return impl_ && impl_->socket.is_open(); }

    /// The groups this socket bound, in the order given (none once moved from).
    const std::vector<std::uint16_t>& groups() const noexcept
    {
        static const std::vector<std::uint16_t> none;
        return impl_ ? impl_->state.groups() : none;
    }
    /// Counters since open; see `nflog::stats`.
    const nflog::stats& stats() const noexcept
    {
        static const nflog::stats zero{};
        return impl_ ? impl_->state.counters() : zero;
    }

    /// Frees the receive buffers that no batch holds, and returns how many.
    /// The socket keeps, for reuse, as many buffers as batches were ever
    /// alive at once (each `datagram_capacity(options)` bytes and the parse
    /// of its largest datagram), so that the steady state allocates nothing;
    /// a consumer that held many batches during one burst leaves that many
    /// behind until the socket is destroyed. After such a burst this gives
    /// the memory back; receives allocate again only while more batches are
    /// alive than buffers remain.
    std::size_t release_spare_buffers() noexcept { return impl_ ? impl_->state.pool().release_spare() : 0; }

    /// Not on a moved-from socket.
    native_socket_type& native_socket() noexcept { return impl_->socket; }

    /// The batching the socket has set for `group` (see `options`, "Batching").
    batching_status batching(std::uint16_t group) const noexcept
    {
        return impl_ ? impl_->state.batching(group) : batching_status{};
    }

    /// Changes the kernel's settings for one bound group, synchronously
    /// (for example to trade latency for batching at run time), between
    /// receives: it reads the socket until the kernel's answer, and a
    /// pending receive would not see the datagrams kept meanwhile (they
    /// would wait behind the next one). While a receive is pending it
    /// changes nothing and returns `errc::receive_pending`; a loop that
    /// always has one pending cancels it (which loses nothing, see
    /// `async_receive`), configures once the cancelled receive's handler
    /// has run (until then it is still pending), and receives again. It reads for 2 s
    /// at most (and as long again for the request that tells
    /// a missing capability from a group owned elsewhere, after a refusal
    /// that could be either), keeping the datagrams that arrive meanwhile
    /// for the next receives (up to 16 MiB; beyond that they are dropped and
    /// reported as an overrun at their place, their events counted as lost).
    /// Settings that let the kernel send larger datagrams (a
    /// larger `nlbufsiz`, copying packets) grow the socket's receive buffers
    /// first (see `datagram_capacity`). Errors: `errc::invalid_option`,
    /// `errc::group_not_bound` (no socket bound it), `errc::group_busy` (another socket did),
    /// `errc::permission_denied`, `net::error::bad_descriptor` (closed),
    /// or a kernel errno; and, when the change may or may not have been
    /// made: `errc::kernel_overrun` (the kernel's answer may have been
    /// dropped in an overrun; the next receive reports the overrun at its
    /// place among the data), ETIMEDOUT (no answer), ENOMEM (memory ran out:
    /// before the request was sent, changing nothing, or while keeping a
    /// datagram that arrived meanwhile, which is then gone and its events
    /// count as lost at the next datagram of their group). Setting
    /// `queue_threshold` or `nlbufsiz` ends adaptive batching for the group
    /// unless the kernel refused the change or never received it. A
    /// threshold set alone then sends the options' `nlbufsiz` with it; a
    /// buffer size set alone keeps the threshold adaptation had reached.
    /// `diagnostic`, when given, is cleared and receives the kernel's
    /// extended-ACK text for a refused request, or for
    /// `errc::invalid_option` the field at fault (`invalid_option_reason`).
    result<void> configure(std::uint16_t group, const group_settings& settings, std::string* diagnostic = nullptr)
    {
        if (diagnostic != nullptr)
            diagnostic->clear();
        if (auto valid = validate(settings); !valid) {
            detail::write_diagnostic(diagnostic, invalid_option_reason(settings));
            return valid.error();
        }
        if (!is_open())
            return boost::system::error_code(net::error::bad_descriptor);
        if (impl_->receiving)
            return make_error_code(errc::receive_pending);
        auto& state = impl_->state;
        const auto request = state.completed(group, settings);
        detail::buffer_lease buffer;
        try {
            // Before the kernel sends any larger datagram: never cut one that
            // these settings allow.
            state.pool().grow(datagram_capacity(request));
            // One of the socket's own receive buffers: a datagram that arrives
            // meanwhile is cut exactly where a receive would cut it.
            buffer = state.acquire();
        }
        catch (const std::bad_alloc&) {
            return boost::system::error_code(ENOMEM, boost::system::generic_category());
        }
        auto answer = detail::configure_group(impl_->socket.native_handle(), detail::settings_request(group, request),
                                              buffer.bytes(), state.requests(), diagnostic);
        if (answer.may_have_applied)
            state.take_over_batching(group, request.queue_threshold, request.nlbufsiz);
        return answer.outcome;
    }

    /// Receives the next datagram of NFLOG packets.
    ///
    /// @par Completion signature
    /// `void(boost::system::error_code, nflog::batch)`. On error the batch is
    /// empty. `errc::kernel_overrun` (condition `overrun`) means the kernel
    /// dropped at least one batch because the socket's receive buffer was
    /// full; the socket keeps working and the next batch of each group
    /// that lost events gives the exact count in `lost_before()`. A datagram larger than the
    /// buffer completes successfully with `batch::truncated()` set and its
    /// whole messages. `errc::receive_out_of_memory` (condition `overrun`,
    /// and equal to the condition `boost::system::errc::not_enough_memory`,
    /// though not to a generic ENOMEM `error_code`): memory ran out
    /// while parsing a datagram; it is gone, its events count as lost at the
    /// next datagram of their group, and the socket keeps working. So a
    /// reader that goes on after `condition::overrun` goes on after both.
    /// ENOMEM (generic category): no memory for a receive buffer (the pool
    /// makes one when every buffer is held by a batch still alive); nothing
    /// was read, so nothing is lost, and a later receive may succeed.
    /// A datagram with nothing for a reader (no packet, no malformed
    /// message, no error reply, not cut) is counted in `stats().datagrams`
    /// and not handed out: the receive goes on. As a rule it is the kernel's
    /// acknowledgement of an adaptive batching change (see `options`,
    /// "Batching"). `receive` and `try_receive` skip it too.
    ///
    /// @par Per-Operation Cancellation
    /// Supports `terminal`, `partial` and `total` cancellation: a receive
    /// cancelled while it waits completes with `net::error::operation_aborted`
    /// and consumes nothing, so the next receive gets the data that was
    /// waiting. A cancellation that comes after the receive took a datagram
    /// (data already queued is taken at once) changes nothing: the datagram
    /// is delivered. Either way nothing is lost.
    ///
    /// Allocates nothing in the steady state: the operation's memory comes
    /// from the handler's associated allocator (Asio recycles it), the
    /// buffer from the socket's pool.
    template <net::completion_token_for<void(boost::system::error_code, batch)> CompletionToken =
                  net::default_completion_token_t<executor_type>>
    auto async_receive(CompletionToken&& token = net::default_completion_token_t<executor_type>())
    {
        return net::async_compose<CompletionToken, void(boost::system::error_code, batch)>(
            receive_op{impl_}, token, executor_);
    }

    /// Blocks until a datagram arrives. Same results as `async_receive`.
    result<batch> receive()
    {
        if (!impl_)
            return boost::system::error_code(net::error::bad_descriptor);
        for (;;) {
            auto out = receive_one();
            if (!out || !carries_nothing(out.value()))
                return out;
        }
    }

    /// Takes the next datagram if one is queued, without waiting:
    /// `net::error::would_block` when there is none. Drain with a loop.
    result<batch> try_receive()
    {
        if (!impl_)
            return boost::system::error_code(net::error::bad_descriptor);
        for (;;) {
            auto out = try_receive_one();
            if (!out || !carries_nothing(out.value()))
                return out;
        }
    }

    /// Cancels pending operations; they complete with operation_aborted.
    void cancel()
    {
        if (is_open())
            impl_->socket.cancel();
    }

    /// Unbinds every group and closes the socket. Pending operations
    /// complete with `net::error::operation_aborted`. Idempotent.
    ///
    /// Unbinding makes the kernel send the events it
    /// was still batching, and every packet then queued for the socket is
    /// counted in `stats().discarded` (its datagram in `datagrams`, a
    /// sequence gap in `lost`, an overrun met on the way in `overruns`). A
    /// pending receive that had already taken a datagram still delivers it,
    /// and those of its events that a later gap of their own group counted
    /// then leave `lost` again. Three things leave events
    /// uncounted: an overrun whose group sent no message after it (only a
    /// later message's sequence number tells how many were dropped;
    /// `stats().dropped_datagrams`, read here last, tells that some were),
    /// running out of memory meanwhile, and a refused unbind (a
    /// process that dropped CAP_NET_ADMIN) whose groups keep logging faster
    /// than `close()` reads: it stops after reading twice the receive
    /// buffer's size as the kernel reports it, or 2 MiB when that is more.
    void close() noexcept
    {
        if (!is_open())
            return;
        detail::unbind_groups(impl_->socket.native_handle(), impl_->state.groups());
        impl_->discard_queued();
        impl_->note_drop_count();
        boost::system::error_code ignored;
        impl_->socket.close(ignored);
    }

private:
    template <class>
    friend class basic_socket;

    explicit basic_socket(std::shared_ptr<impl> state) noexcept
        : executor_(state->socket.get_executor()), impl_(std::move(state))
    {
    }

    // A datagram without a packet, a malformed message, an error reply or a
    // cut: the kernel's acknowledgement of an adaptive change, as a rule.
    // Counted, and not handed out: a reader would only see an empty batch.
    static bool carries_nothing(const batch& received) noexcept
    {
        return received.begin() == received.end() && !received.truncated();
    }

    result<batch> receive_one()
    {
        if (impl_->state.has_early_datagram())
            return early();
        detail::buffer_lease lease;
        if (!impl_->acquire(lease))
            return out_of_buffer_memory();
        boost::system::error_code error;
        const auto received = impl_->socket.receive(net::buffer(lease.bytes().data(), lease.bytes().size()),
                                                    MSG_TRUNC, error);
        return finish(std::move(lease), error, received);
    }

    result<batch> try_receive_one()
    {
        if (impl_->state.has_early_datagram())
            return early();
        detail::buffer_lease lease;
        if (!impl_->acquire(lease))
            return out_of_buffer_memory();
        const auto received = ::recv(impl_->socket.native_handle(), lease.bytes().data(), lease.bytes().size(),
                                     MSG_TRUNC | MSG_DONTWAIT);
        boost::system::error_code error;
        if (received < 0)
            error = errno == EAGAIN ? boost::system::error_code(net::error::would_block)
                                    : boost::system::error_code(errno, boost::system::system_category());
        return finish(std::move(lease), error, received < 0 ? 0 : static_cast<std::size_t>(received));
    }

    result<batch> early() { return impl_->take_early_datagram(); }

    static boost::system::error_code out_of_buffer_memory() noexcept
    {
        return {ENOMEM, boost::system::generic_category()};
    }

    result<batch> finish(detail::buffer_lease lease, boost::system::error_code error, std::size_t received)
    {
        if (!error) {
            auto out = impl_->state.accept_received(std::move(lease), received);
            impl_->send_batching();
            return out;
        }
        if (error == boost::system::error_code(ENOBUFS, boost::system::system_category())) {
            impl_->count_overrun();
            return make_error_code(errc::kernel_overrun);
        }
        return error;
    }

    struct receive_op {
        std::shared_ptr<impl> self_impl;
        detail::buffer_lease lease{};
        bool serving_early = false;

        template <class Self>
        void operator()(Self& self)
        {
            self.reset_cancellation_state(net::enable_total_cancellation());
            if (!self_impl || !self_impl->socket.is_open())
                return complete_later(self, net::error::bad_descriptor);
            start(self);
        }

        template <class Self>
        void start(Self& self)
        {
            serving_early = false;
            auto& shared = *self_impl;
            if (shared.state.has_early_datagram())
                return complete_later(self, boost::system::error_code());
            if (!shared.acquire(lease))
                return complete_later(self, out_of_buffer_memory());
            const auto bytes = lease.bytes();
            shared.receiving = true;
            shared.socket.async_receive(net::buffer(bytes.data(), bytes.size()), MSG_TRUNC, std::move(self));
        }

        // An initiation must not complete inline, so what needs no receive goes through the
        // executor and comes back on the early path. Only this path pays for the executor copy.
        template <class Self>
        void complete_later(Self& self, boost::system::error_code error)
        {
            serving_early = true;
            const auto executor = self.get_io_executor(); // before `self` moves into the post
            net::post(executor, net::append(std::move(self), error, std::size_t{0}));
        }

        template <class Self>
        void operator()(Self& self, boost::system::error_code error, std::size_t received)
        {
            if (serving_early && error)
                return self.complete(error, batch{});
            auto& state = self_impl->state;
            if (serving_early) {
                // close() came first and counted what was kept as discarded.
                if (!self_impl->socket.is_open() || !state.has_early_datagram())
                    return self.complete(net::error::operation_aborted, batch{});
                auto out = self_impl->take_early_datagram();
                if (!out)
                    return self.complete(out.error(), batch{});
                if (carries_nothing(out.value()))
                    return receive_again(self);
                return self.complete(error, std::move(out).value());
            }
            self_impl->receiving = false;
            if (!error) {
                const auto behind_before = state.packets_behind();
                auto out = state.accept_received(std::move(lease), received);
                if (out)
                    self_impl->settle_after_close(state.packets_behind() - behind_before);
                self_impl->lost_after_close = 0;
                self_impl->send_batching();
                if (!out)
                    return self.complete(out.error(), batch{});
                if (carries_nothing(out.value()))
                    return receive_again(self);
                return self.complete(error, std::move(out).value());
            }
            lease = {};
            if (error == boost::system::error_code(ENOBUFS, boost::system::system_category())) {
                self_impl->count_overrun();
                return self.complete(make_error_code(errc::kernel_overrun), batch{});
            }
            self.complete(error, batch{});
        }

        // After a datagram that carried nothing. A cancellation that came
        // meanwhile, or a close, ends the operation now: nothing was taken
        // that it would lose.
        template <class Self>
        void receive_again(Self& self)
        {
            if (self.cancelled() != net::cancellation_type::none || !self_impl->socket.is_open())
                return self.complete(net::error::operation_aborted, batch{});
            start(self);
        }
    };

    executor_type executor_;
    std::shared_ptr<impl> impl_;
};

/// The NFLOG socket for `net::any_io_executor`.
using socket = basic_socket<>;

} // namespace nflog

#endif
