#ifndef NFLOG_WATCHER_HPP
#define NFLOG_WATCHER_HPP

#include <nflog/batch.hpp>
#include <nflog/detail/batch_cursor.hpp>
#include <nflog/detail/config.hpp>
#include <nflog/detail/datagram_cursor.hpp>
#include <nflog/detail/event_cursor.hpp>
#include <nflog/detail/run_tracking.hpp>
#include <nflog/error.hpp>
#include <nflog/event.hpp>
#include <nflog/event_batch.hpp>
#include <nflog/event_channel.hpp>
#include <nflog/socket.hpp>
#include <nflog/stats.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace nflog {

/// Counters of one watcher.
struct watcher_stats {
    nflog::stats socket;         ///< the socket's own counters (overruns, lost, malformed, ...)
    std::uint64_t events = 0;    ///< events the channel accepted (in batches: every event of them)
    std::uint64_t reports = 0;   ///< error reports the channel accepted
    /// Events and reports the watcher had taken from the socket when `close()`
    /// came, which no consumer took: never sent, or waiting to be sent into
    /// a channel already closed when the watcher was stopped (Boost 1.81
    /// cannot tell whether a receiver took that one just before).
    std::uint64_t discarded = 0;
};

/// Runs the receive loop of one `nflog::basic_socket` and sends what it
/// receives into a channel that other watchers (other groups, other
/// namespaces) may feed as well; `source` tells them apart. Three kinds of
/// channel, told apart by their signature:
/// - `void(boost::system::error_code, nflog::event)`, typically an
///   `nflog::event_channel`: one owned event per message, the simplest to
///   consume;
/// - `void(boost::system::error_code, nflog::event_batch)`, typically an
///   `nflog::event_batch_channel`: the owned events of one datagram in
///   batches of up to `event_batch::max_size`, one message each;
/// - `void(boost::system::error_code, nflog::batch)`, typically an
///   `nflog::packet_channel`: each received datagram as it is, its
///   `packet_view`s read in place: no event is made, nothing is copied.
/// Every hand-off through a channel is a trip through the executor, which
/// costs more than reading and decoding an event: at a flood, each kind is
/// several times cheaper per event than the one before
/// (bench/README.md, "End to end").
///
/// In a packet channel (`nflog::batch`), malformed messages, kernel error
/// replies and truncation stay inside the batch (error elements,
/// `truncated()`), as the socket delivers them; only errors of condition
/// `overrun` are reports (`errc::kernel_overrun`,
/// `errc::receive_out_of_memory`).
/// An event channel and an event-batch channel send each of them as a
/// report of its own, as below.
///
/// @par Messages
/// In the order the kernel delivered them:
/// - an event, with a default error code, for every packet (in an
///   event-batch channel: a batch of events, never empty);
/// - a report, for a problem on the way, and the loop keeps running: an
///   error code with an event that carries only `source` and `timestamp`
///   (in an event-batch channel: an empty batch that carries only `source`):
///   - `errc::kernel_overrun` (condition `overrun`): the kernel dropped at
///     least one batch because the socket's receive buffer was full. The
///     next event of the group says exactly how many in `lost_before`, and
///     `stats().socket.lost` adds them up.
///   - `errc::datagram_truncated` (condition `overrun`): a datagram did not
///     fit the receive buffer; it comes after the events that did.
///   - `errc::receive_out_of_memory` (condition `overrun`, and equal to the
///     condition `boost::system::errc::not_enough_memory`): memory ran out
///     while the socket parsed a datagram. Its events are gone and show in
///     the group's next `lost_before`.
///   - a `condition::malformed` code for a message that did not parse, at
///     its place among the events (a batch ends before it).
///   - an errno (generic category) for an `NLMSG_ERROR` the kernel sent
///     among the packets: a configuration request it refused, such as a
///     batching change (see `options::adaptive_batching`).
///
/// A consumer that awaits with `use_awaitable` gets the reports as
/// exceptions; `net::as_tuple(net::use_awaitable)` gets them as values.
///
/// @par Capacity and overflow
/// The channel's capacity is the consumer's cushion; the real queue is the
/// socket's receive buffer (`options::receive_buffer_size`). When the
/// channel is full the watcher waits in `async_send` and stops reading the
/// socket: backpressure reaches the kernel, whose queue fills until it
/// drops whole batches. Those drops are counted by the socket
/// (`stats().socket.overruns`, `stats().socket.lost` with sequence numbers)
/// and reported as above once the consumer catches up. Nothing vanishes
/// unseen: every event the kernel logged for a bound group is delivered,
/// counted in `lost`, or (after `close()`) in `discarded` or
/// `socket.discarded`.
///
/// @par Shutdown
/// Stopping a watcher never closes the channel, which others may feed:
/// - `cancel()` (or cancelling `async_run` through its slot) ends the run
///   with `net::error::operation_aborted`. Nothing is lost: what the watcher
///   had taken from the socket but not yet sent waits for the next run, and
///   unread datagrams stay in the socket.
/// - `close()` cancels, unbinds the groups and closes the socket; what was
///   taken but not sent is counted in `stats().discarded`, what was still
///   queued in the socket in `stats().socket.discarded`.
/// - The channel's owner closes the channel after its watchers have
///   stopped; a consumer then sees `net::experimental::error::channel_closed`.
///   In that order: Boost 1.81's `close()` drops what is still buffered (so
///   drain it with `try_receive` first when that matters) and never wakes a
///   send that waits for room. A run whose channel was closed under it ends
///   with `channel_closed` at its next send, keeping its message pending.
/// - The channel's `cancel()` also ends a run that waits for room in it,
///   with `channel_cancelled`; a run that does not is left running. Reset a
///   channel only when no watcher runs on it: Boost 1.81's `reset()`
///   completes a waiting send as if it had been received.
///
/// @par Thread Safety
/// Distinct objects: safe. Shared objects: unsafe. The watcher, its socket
/// and the channel must be used from one thread or one strand, as Asio's
/// channel requires; with a concurrent channel (`concurrent_event_channel`
/// and its kin) only the watcher and its socket must, and watchers on other
/// threads and the consumer may share the channel.
///
/// @par Lifetime
/// The channel must outlive every run. A run keeps the watcher's state
/// alive, so destroying the watcher (which closes it) while a run is
/// pending is safe; the run then completes with `operation_aborted`. An
/// io_context destroyed with a run pending destroys the run's handler
/// after the channel (which must go before its io_context); a watcher that
/// handler owns goes with it and leaves the channel alone.
/// A moved-from watcher keeps its executor; its `async_run` completes with
/// `net::error::bad_descriptor`.
/// Should an operation of the run fail to get memory, Asio throws
/// `std::bad_alloc` out of `io_context::run` (as from any handler) and the
/// run's handler is never called; the run is over all the same, and the
/// next `async_run` resumes where it stopped, losing nothing.
///
/// @par Allocation
/// The loop allocates nothing per event: the operation's memory comes from
/// the handler's associated allocator, the receive buffers from the
/// socket's pool, event batches from the watcher's pool (once as many are
/// in use as ever before), and the channels reuse their buffers.
template <class Executor = net::any_io_executor, class Channel = event_channel>
class basic_watcher {
public:
    using executor_type = Executor;
    using socket_type = basic_socket<Executor>;
    using channel_type = Channel;
    /// What one channel message carries: `event`, `event_batch` or `batch`.
    using message_type = detail::channel_message_t<Channel>;
    static_assert(std::is_same_v<message_type, event> || std::is_same_v<message_type, event_batch> ||
                      std::is_same_v<message_type, batch>,
                  "a watcher sends into a channel of void(error_code, nflog::event), "
                  "void(error_code, nflog::event_batch) or void(error_code, nflog::batch)");

    /// The watcher type on another executor type, as Asio's I/O objects have
    /// it (`net::use_awaitable.as_default_on(std::move(watcher))`).
    template <class OtherExecutor>
    struct rebind_executor {
        using other = basic_watcher<OtherExecutor, Channel>;
    };

    /// Takes over `receiving`; `source` goes into every event and report.
    basic_watcher(socket_type receiving, channel_type& channel, source_id source = 0)
        : executor_(receiving.get_executor()), impl_(std::make_shared<impl>(std::move(receiving), channel, source))
    {
    }

    /// Takes over a watcher of another executor type, with what it holds
    /// and its counters. It must not be running.
    template <class OtherExecutor>
        requires(!std::is_same_v<OtherExecutor, Executor> && std::is_constructible_v<Executor, const OtherExecutor&>)
    basic_watcher(basic_watcher<OtherExecutor, Channel>&& other) : executor_(other.executor_)
    {
        if (!other.impl_)
            return;
        auto& from = *other.impl_;
        impl_ = std::make_shared<impl>(socket_type(std::move(from.socket)), from.channel, from.source);
        impl_->cursor = std::move(from.cursor);
        impl_->pending_error = from.pending_error;
        impl_->pending_message = std::move(from.pending_message);
        impl_->has_pending = from.has_pending;
        impl_->events_sent = from.events_sent;
        impl_->reports_sent = from.reports_sent;
        impl_->discarded = from.discarded;
        other.impl_.reset();
    }

    // The executor is copied, not moved: a moved-from watcher keeps it.
    basic_watcher(basic_watcher&& other) noexcept : executor_(other.executor_), impl_(std::move(other.impl_)) {}
    basic_watcher& operator=(basic_watcher&& other) noexcept
    {
        if (this != &other) {
            close();
            executor_ = other.executor_;
            impl_ = std::move(other.impl_);
        }
        return *this;
    }
    basic_watcher(const basic_watcher&) = delete;
    basic_watcher& operator=(const basic_watcher&) = delete;
    ~basic_watcher() { close(); }

    executor_type get_executor() const noexcept { return executor_; }
    source_id source() const noexcept { return impl_ ? impl_->source : 0; }
    /// The socket, for `configure()` between runs. Not on a moved-from watcher.
    socket_type& socket() noexcept { return impl_->socket; }
    bool is_running() const noexcept { return impl_ && impl_->running; }

    watcher_stats stats() const noexcept
    {
        watcher_stats out;
        if (!impl_)
            return out;
        out.socket = impl_->socket.stats();
        out.events = impl_->events_sent;
        out.reports = impl_->reports_sent;
        out.discarded = impl_->discarded;
        return out;
    }

    /// Receives from the socket and sends into the channel until stopped.
    ///
    /// @par Completion signature
    /// `void(boost::system::error_code)`:
    /// - `net::error::operation_aborted`: `cancel()`, `close()`, or
    ///   cancellation through the slot;
    /// - `net::experimental::error::channel_closed`: the channel was closed;
    /// - `net::experimental::error::channel_cancelled`: the channel's
    ///   `cancel()` met the run waiting for room; nothing is lost, the
    ///   message waits for the next run;
    /// - `net::error::already_started`: another run of this watcher is active;
    /// - `ENOMEM` (generic category): memory ran out while making or
    ///   queueing a message, or for the socket's receive buffer. What the
    ///   watcher had taken waits for the next run, and nothing unread was
    ///   read. (Memory that ran out while the socket parsed a datagram is a
    ///   report, `errc::receive_out_of_memory`, and the run goes on.)
    /// - any other code: the socket failed for good (for example
    ///   `net::error::bad_descriptor` after `close()`).
    /// Reports (overruns, malformed messages) do not end the run.
    ///
    /// @par Executors
    /// The loop runs on the watcher's executor, from which the socket and the
    /// channel are used, whatever executor the handler is associated with (a
    /// `use_future` handler's is the system executor's thread pool). The
    /// handler is called through its associated executor.
    ///
    /// @par Per-Operation Cancellation
    /// Supports `terminal` and `partial` cancellation: the run stops as
    /// `cancel()` stops it, without losing anything, and the next run goes on
    /// from there. `total` is ignored: a run that has sent events had effects
    /// no cancellation undoes.
    template <net::completion_token_for<void(boost::system::error_code)> CompletionToken =
                  net::default_completion_token_t<executor_type>>
    auto async_run(CompletionToken&& token = net::default_completion_token_t<executor_type>())
    {
        return net::async_initiate<CompletionToken, void(boost::system::error_code)>(initiate_run{impl_, executor_},
                                                                                     token);
    }

    /// Stops a running loop; its `async_run` completes with
    /// `net::error::operation_aborted`. No effect when not running.
    void cancel()
    {
        if (impl_)
            impl_->request_stop();
    }

    /// Stops the loop, then unbinds the groups and closes the socket.
    /// Messages taken from the socket but not sent are counted in
    /// `stats().discarded` (at once, or, with a run pending, once that run
    /// has completed); what was still queued in the socket is counted in
    /// `stats().socket.discarded` (see `basic_socket::close`). Idempotent.
    void close() noexcept
    {
        if (!impl_)
            return;
        impl_->closing = true;
        impl_->request_stop();
        if (!impl_->running)
            impl_->discard_held();
        impl_->socket.close();
    }

private:
    template <class, class>
    friend class basic_watcher;

    using cursor_type = std::conditional_t<
        std::is_same_v<message_type, event>, detail::event_cursor,
        std::conditional_t<std::is_same_v<message_type, event_batch>, detail::batch_cursor, detail::datagram_cursor>>;

    // Events a message delivers, for `stats().events`.
    static std::size_t events_in(const event&) noexcept { return 1; }
    static std::size_t events_in(const event_batch& events) noexcept { return events.size(); }
    static std::size_t events_in(const batch& datagram) noexcept { return datagram.packet_count(); }
    // Events and reports a message carries, for `stats().discarded`.
    static std::size_t carried_by(const event&) noexcept { return 1; }
    static std::size_t carried_by(const event_batch& events) noexcept { return events.size(); }
    static std::size_t carried_by(const batch& datagram) noexcept
    {
        return detail::datagram_cursor::carried_by(datagram);
    }

    struct impl {
        impl(socket_type&& s, channel_type& c, source_id id) : socket(std::move(s)), channel(c), source(id) {}

        void request_stop()
        {
            // An abandoned run is being destroyed with its io_context; its
            // channel may be gone already, and nothing is left to stop.
            if (!running || tracking.abandoned)
                return;
            if (!stop_requested)
                stop_found_channel_closed = !channel.is_open();
            stop_requested = true;
            stop.emit(net::cancellation_type::terminal);
        }

        // The run is over, completed or not.
        void end_run() noexcept
        {
            running = false;
            stop_requested = false;
            stop_found_channel_closed = false;
            tracking.held = false;
            tracking.abandoned = false;
            if (closing)
                discard_held();
        }

        void discard_held() noexcept
        {
            discarded += cursor.remaining();
            if (has_pending)
                discarded += pending_error ? 1 : carried_by(pending_message);
            cursor.clear();
            has_pending = false;
            pending_message = {};
        }

        socket_type socket;
        channel_type& channel;
        source_id source;

        cursor_type cursor;
        // The message being sent: kept until the channel accepts it, so a
        // cancelled send loses nothing. The channel gets copies (of a batch:
        // a second reference to the same events).
        boost::system::error_code pending_error;
        message_type pending_message;
        bool has_pending = false;

        net::cancellation_signal stop;
        detail::run_tracking tracking;
        bool running = false;
        bool stop_requested = false;
        // Whether the channel was already closed when this run was asked to
        // stop: only then can a send waiting in it complete with success
        // without having been received (see the send's completion).
        bool stop_found_channel_closed = false;
        bool closing = false;

        std::uint64_t events_sent = 0;
        std::uint64_t reports_sent = 0;
        std::uint64_t discarded = 0;
    };

    // Cancellation of the run reaches whichever inner operation is pending.
    // The run's own child slot is cleared at every step, so it is armed again
    // before each inner operation starts.
    struct forward_cancellation {
        std::shared_ptr<impl> state;
        void operator()(net::cancellation_type type) const
        {
            if ((type & (net::cancellation_type::terminal | net::cancellation_type::partial)) !=
                net::cancellation_type::none)
                state->request_stop();
        }
    };

    // A run that is destroyed without completing (an initiation or a
    // handler threw, out of memory for an operation; or the io_context was
    // destroyed with the run pending) must not leave the watcher running
    // for good, refusing every later run. Moves with the operation.
    class run_claim {
    public:
        run_claim() = default;
        run_claim(run_claim&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
        run_claim& operator=(run_claim&&) = delete;
        ~run_claim()
        {
            if (owner_)
                owner_->end_run();
        }

        void take(impl& owner) noexcept { owner_ = &owner; }
        void release() noexcept { owner_ = nullptr; }

    private:
        impl* owner_ = nullptr;
    };

    struct run_op;

    // Every run's handler tells the watcher when the run is destroyed
    // without completing (see detail::abandon_marking_handler).
    struct initiate_run {
        std::shared_ptr<impl> state;
        executor_type executor;

        template <class Handler>
        void operator()(Handler&& handler) const
        {
            using marked = detail::abandon_marking_handler<std::decay_t<Handler>>;
            const bool abandoned_before = state && state->tracking.abandoned;
            try {
                marked completion(std::forward<Handler>(handler), state ? &state->tracking : nullptr);
                // Work is kept on the handler's executor too, as for any
                // operation: the loop itself never runs there.
                const auto handler_executor = net::get_associated_executor(completion, executor);
                net::async_compose<marked, void(boost::system::error_code)>(run_op{state}, completion, executor,
                                                                            handler_executor);
            }
            catch (...) {
                // A run that could not even start was not abandoned to an
                // io_context going away: a run that holds the watcher stays
                // stoppable.
                if (state)
                    state->tracking.abandoned = abandoned_before;
                throw;
            }
        }
    };

    struct run_op {
        std::shared_ptr<impl> state;
        bool started = false;
        bool refused = false;
        bool finished = false;
        boost::system::error_code final_error{};
        // Declared after `state`, so destroyed before it: the watcher's state outlives it.
        run_claim claim{};

        template <class Self>
        void operator()(Self& self)
        {
            if (!started) {
                started = true;
                if (!state) // a moved-from watcher
                    return refuse(self, net::error::bad_descriptor);
                if (state->running)
                    return refuse(self, net::error::already_started);
                state->running = true;
                state->stop_requested = false;
                state->tracking.held = true;
                claim.take(*state);
                self.reset_cancellation_state(net::enable_partial_cancellation());
                // The loop starts on the watcher's executor, never inside
                // async_run. Bound to it: a post goes on to the handler's own.
                const auto loop_executor = self.get_io_executor();
                return net::post(loop_executor, net::bind_executor(loop_executor, std::move(self)));
            }
            if (finished)
                return self.complete(final_error);
            proceed(self);
        }

        // A send into the channel completed (or the refusal of a second run).
        template <class Self>
        void operator()(Self& self, boost::system::error_code error)
        {
            if (refused)
                return self.complete(error);
            // The send's cancellation handler points into the channel: none
            // stays behind once it completed.
            state->stop.slot().clear();
            // Boost 1.81 completes a waiting send with success when a
            // receiver took the message, and also when the send is
            // cancelled in a channel closed meanwhile (its cancel treats the
            // send as a receive). A stop that found the channel closed is
            // such a cancel: after it the message counts as not received,
            // even should a receiver have taken it just before. The
            // channel's own cancel() after its close is one too, and is
            // taken for a delivery: calling it then is of no use.
            if (!error && !state->stop_found_channel_closed) {
                sent();
                return proceed(self);
            }
            // In both cases below the message stays pending: for the next
            // run, or counted as discarded on close().
            if (!error || (error == net::experimental::error::channel_cancelled && state->stop_requested))
                return finish(self, net::error::operation_aborted);
            finish(self, error);
        }

        // A receive from the socket completed.
        template <class Self>
        void operator()(Self& self, boost::system::error_code error, batch received)
        {
            auto& s = *state;
            s.stop.slot().clear();
            if (!error) {
                s.cursor.reset(std::move(received), std::chrono::system_clock::now(), s.source);
                return proceed(self);
            }
            // The socket goes on after these: a report, as the messages say.
            if (error == condition::overrun) {
                s.pending_error = error;
                s.pending_message = cursor_type::report(s.source, std::chrono::system_clock::now());
                s.has_pending = true;
                return proceed(self);
            }
            finish(self, error);
        }

    private:
        template <class Self>
        void proceed(Self& self)
        {
            auto& s = *state;
            for (;;) {
                if (s.stop_requested || self.cancelled() != net::cancellation_type::none)
                    return finish(self, net::error::operation_aborted);
                // Making a message (a new event block) or queueing it can run
                // out of memory: the run ends with ENOMEM instead of leaving
                // the watcher running forever. Nothing was taken: the cursor
                // and the pending message keep their events for the next run,
                // or count them as discarded on close().
                bool taken = false;
                try {
                    if (!s.has_pending) {
                        if (!s.cursor.next(s.pending_error, s.pending_message))
                            break;
                        s.has_pending = true;
                    }
                    taken = s.channel.try_send(s.pending_error, std::as_const(s.pending_message));
                }
                catch (const std::bad_alloc&) {
                    return finish(self, boost::system::error_code(ENOMEM, boost::system::generic_category()));
                }
                if (taken) {
                    sent();
                    continue;
                }
                if (!s.channel.is_open())
                    return finish(self, net::experimental::error::channel_closed);
                arm(self);
                const auto loop_executor = self.get_io_executor();
                return s.channel.async_send(
                    s.pending_error, s.pending_message,
                    net::bind_cancellation_slot(s.stop.slot(), net::bind_executor(loop_executor, std::move(self))));
            }
            arm(self);
            const auto loop_executor = self.get_io_executor();
            s.socket.async_receive(
                net::bind_cancellation_slot(s.stop.slot(), net::bind_executor(loop_executor, std::move(self))));
        }

        template <class Self>
        void arm(Self& self)
        {
            auto slot = self.get_cancellation_state().slot();
            if (slot.is_connected())
                slot.template emplace<forward_cancellation>(forward_cancellation{state});
        }

        // The channel took the pending message.
        void sent() noexcept
        {
            auto& s = *state;
            if (s.pending_error)
                ++s.reports_sent;
            else
                s.events_sent += events_in(s.pending_message);
            s.has_pending = false;
            // A batch's storage goes back to its pool once the consumer is done.
            if constexpr (!std::is_same_v<message_type, event>)
                s.pending_message = {};
        }

        // The loop runs on the watcher's executor, whatever the handler's
        // (a `use_future` handler's is the system executor's pool): the
        // socket and the channel are used from there alone. The handler is
        // called through its own, at once when that is the same.
        template <class Self>
        void finish(Self& self, boost::system::error_code error)
        {
            claim.release();
            state->end_run();
            finished = true;
            final_error = error;
            const auto handler_executor = self.get_executor();
            net::dispatch(handler_executor, std::move(self));
        }

        // Completes without running, through the handler's executor: never
        // inside async_run.
        template <class Self>
        void refuse(Self& self, boost::system::error_code error)
        {
            refused = true;
            const auto handler_executor = self.get_executor();
            net::post(handler_executor, net::append(std::move(self), error));
        }
    };

    executor_type executor_;
    std::shared_ptr<impl> impl_;
};

/// The watcher for `net::any_io_executor` and `nflog::event_channel`.
using watcher = basic_watcher<>;

/// The watcher for `net::any_io_executor` and `nflog::event_batch_channel`.
using event_batch_watcher = basic_watcher<net::any_io_executor, event_batch_channel>;

/// The watcher for `net::any_io_executor` and `nflog::packet_channel`.
using packet_watcher = basic_watcher<net::any_io_executor, packet_channel>;

} // namespace nflog

#endif
