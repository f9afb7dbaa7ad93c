#ifndef NFLOG_EVENT_CHANNEL_HPP
#define NFLOG_EVENT_CHANNEL_HPP

#include <nflog/batch.hpp>
#include <nflog/detail/config.hpp>
#include <nflog/detail/recycling_queue.hpp>
#include <nflog/event.hpp>
#include <nflog/event_batch.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/experimental/basic_channel.hpp>
#include <boost/asio/experimental/basic_concurrent_channel.hpp>
#include <boost/asio/experimental/channel_traits.hpp>
#include <boost/system/error_code.hpp>

namespace nflog {

/// Asio's channel traits with a buffer that reuses its memory: once the
/// channel has held its largest number of messages, sending and receiving
/// allocate nothing. Everything else (cancellation and close notifications)
/// is Asio's.
template <class... Signatures>
struct recycling_channel_traits : net::experimental::channel_traits<Signatures...> {
    template <class... NewSignatures>
    struct rebind {
        using other = recycling_channel_traits<NewSignatures...>;
    };

    template <class Element>
    struct container {
        using type = detail::recycling_queue<Element>;
    };
};

/// The completion signature of a channel of events: a watcher sends either
/// an event with a default error code, or a report (see `basic_watcher`)
/// with an error code and an event that carries only its `source` and
/// `timestamp`.
using event_signature = void(boost::system::error_code, event);

/// `net::experimental::channel<void(boost::system::error_code, nflog::event)>`
/// with `recycling_channel_traits`. A plain `net::experimental::channel` of
/// the same signature works with the watcher too; its std::deque buffer
/// allocates per buffered event.
///
/// As with every Asio channel: not thread-safe (use one thread or a strand
/// for the channel and every watcher feeding it); a receive cancelled
/// through its cancellation slot completes with
/// `net::experimental::error::channel_cancelled` and takes nothing; after
/// `close()` every receive completes with
/// `net::experimental::error::channel_closed` — and Boost 1.81 drops the
/// messages still buffered at that moment, so drain with `try_receive`
/// before closing when they matter. Boost 1.81 also leaves a buffered
/// channel refusing `try_send` after a receive was cancelled, until a
/// receive waits again; `async_send` still delivers (the watcher falls back
/// to it), so this costs a round trip, never an event.
template <class Executor = net::any_io_executor>
using basic_event_channel = net::experimental::basic_channel<Executor, recycling_channel_traits<>, event_signature>;

using event_channel = basic_event_channel<>;

/// The completion signature of a channel of event batches: a watcher sends
/// either up to `event_batch::max_size` events with a default error code,
/// or a report (see `basic_watcher`) with an error code and an empty batch
/// that carries only its `source`.
using event_batch_signature = void(boost::system::error_code, event_batch);

/// `net::experimental::channel<void(boost::system::error_code, nflog::event_batch)>`
/// with `recycling_channel_traits`: the channel for high event rates. A
/// consumer takes every event the watcher had at hand in one receive, so a
/// flood costs one hand-off (one trip through the executor) per batch
/// rather than per event; at low rates a batch holds the one event of its
/// datagram and nothing waits for more. The capacity counts batches.
///
/// Everything said of `basic_event_channel` holds here too.
template <class Executor = net::any_io_executor>
using basic_event_batch_channel =
    net::experimental::basic_channel<Executor, recycling_channel_traits<>, event_batch_signature>;

using event_batch_channel = basic_event_batch_channel<>;

/// The completion signature of a channel of received batches: a watcher
/// sends either a `batch` with a default error code, or a report of
/// condition `overrun` (`errc::kernel_overrun`, or
/// `errc::receive_out_of_memory`) with an empty batch that carries only its
/// `source`.
using packet_signature = void(boost::system::error_code, batch);

/// `net::experimental::channel<void(boost::system::error_code, nflog::batch)>`
/// with `recycling_channel_traits`: the cheapest channel. A watcher sends
/// every datagram as the socket received it, marked with its `source`; the
/// consumer reads its `packet_view`s in place, as from a socket, and makes
/// events only of what it keeps (`make_event`). Nothing is copied, and a
/// flood costs one hand-off per datagram (hundreds of events). Malformed
/// messages are error elements of the batch and a cut datagram says
/// `truncated()`, as with `basic_socket::async_receive`.
///
/// A batch in the channel holds its receive buffer, so the socket's pool
/// grows by one buffer for each batch a slow consumer leaves waiting:
/// choose the capacity with the buffer size in mind
/// (`datagram_capacity(options)`, 260 KiB with the default options, and
/// 128 bytes per message it parsed).
template <class Executor = net::any_io_executor>
using basic_packet_channel = net::experimental::basic_channel<Executor, recycling_channel_traits<>, packet_signature>;

using packet_channel = basic_packet_channel<>;

/// The same three channels for watchers and consumers on different threads
/// (an `io_context` per thread, or a pool of threads without a strand):
/// Asio's concurrent channel, which guards its state with a mutex. Each
/// watcher and its socket stay on their own executor, as always; batches
/// and their buffers may be dropped on any thread.
template <class Executor = net::any_io_executor>
using basic_concurrent_event_channel =
    net::experimental::basic_concurrent_channel<Executor, recycling_channel_traits<>, event_signature>;
using concurrent_event_channel = basic_concurrent_event_channel<>;

template <class Executor = net::any_io_executor>
using basic_concurrent_event_batch_channel =
    net::experimental::basic_concurrent_channel<Executor, recycling_channel_traits<>, event_batch_signature>;
using concurrent_event_batch_channel = basic_concurrent_event_batch_channel<>;

template <class Executor = net::any_io_executor>
using basic_concurrent_packet_channel =
    net::experimental::basic_concurrent_channel<Executor, recycling_channel_traits<>, packet_signature>;
using concurrent_packet_channel = basic_concurrent_packet_channel<>;

namespace detail {

/// What a watcher sends into `Channel`: `event` unless the channel's
/// signature says `event_batch` or `batch`.
template <class Channel>
struct channel_message {
    using type = event;
};

template <class Executor, class Traits, class Message>
struct channel_message<net::experimental::basic_channel<Executor, Traits, void(boost::system::error_code, Message)>> {
    using type = Message;
};

template <class Executor, class Traits, class Message>
struct channel_message<
    net::experimental::basic_concurrent_channel<Executor, Traits, void(boost::system::error_code, Message)>> {
    using type = Message;
};

template <class Channel>
using channel_message_t = typename channel_message<Channel>::type;

} // namespace detail

} // namespace nflog

#endif
