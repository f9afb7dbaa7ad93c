#ifndef NFLOG_DETAIL_RUN_TRACKING_HPP
#define NFLOG_DETAIL_RUN_TRACKING_HPP

#include <boost/asio/associator.hpp>

#include <type_traits>
#include <utility>

namespace nflog::detail {

/// Whether a run holds a watcher, and whether a run's operation was
/// destroyed without completing while one did.
struct run_tracking {
    bool held = false;
    bool abandoned = false;
};

/// A run's completion handler, which marks the run abandoned when it is
/// destroyed without having been called.
///
/// An operation still pending when its io_context is destroyed is destroyed
/// with it, after every I/O object made on that io_context (Asio requires
/// them to go first), a watcher's channel included. Its handler may own the
/// watcher, which is then destroyed with it and must not touch the channel
/// any more. The mark is set before the handler itself is destroyed. Any
/// run's handler sets it, a refused run's too: at that point the io_context
/// is going, and the run that holds the watcher goes with it.
template <class Handler>
class abandon_marking_handler {
public:
    abandon_marking_handler(Handler handler, run_tracking* tracking)
        : handler_(std::move(handler)), tracking_(tracking)
    {
    }
    abandon_marking_handler(abandon_marking_handler&& other) noexcept(
        std::is_nothrow_move_constructible_v<Handler>)
        : handler_(std::move(other.handler_)), tracking_(std::exchange(other.tracking_, nullptr))
    {
    }
    abandon_marking_handler(const abandon_marking_handler&) = delete;
    abandon_marking_handler& operator=(const abandon_marking_handler&) = delete;
    abandon_marking_handler& operator=(abandon_marking_handler&&) = delete;
    ~abandon_marking_handler()
    {
        if (tracking_ != nullptr && tracking_->held)
            tracking_->abandoned = true;
    }

    template <class... Args>
    void operator()(Args&&... args)
    {
        tracking_ = nullptr;
        std::move(handler_)(std::forward<Args>(args)...);
    }

    const Handler& handler() const noexcept { return handler_; }

private:
    Handler handler_;
    run_tracking* tracking_;
};

} // namespace nflog::detail

namespace boost::asio {

// The wrapped handler's executor, allocator and cancellation slot are the
// run's.
template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct associator<Associator, nflog::detail::abandon_marking_handler<Handler>, DefaultCandidate>
    : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const nflog::detail::abandon_marking_handler<Handler>& marked) noexcept
    {
        return Associator<Handler, DefaultCandidate>::get(marked.handler());
    }

    static auto get(const nflog::detail::abandon_marking_handler<Handler>& marked,
                    const DefaultCandidate& candidate) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(marked.handler(), candidate))
    {
        return Associator<Handler, DefaultCandidate>::get(marked.handler(), candidate);
    }
};

} // namespace boost::asio

#endif
