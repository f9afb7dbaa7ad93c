#ifndef NFLOG_TEST_SUPPORT_STEADY_STATE_RUN_HPP
#define NFLOG_TEST_SUPPORT_STEADY_STATE_RUN_HPP

#include "support/counting_allocator.hpp"
#include "support/paced_sender.hpp"

#include <cstddef>
#include <optional>

namespace nflog::test {

/// Counts what the thread running the io_context allocates per event once
/// warm, driven as a program drives it: one `io_context::run()` for the
/// whole test (Asio keeps its handler memory per `run()` call, so a test
/// driven by `run_one` would count allocations no program makes). Rounds of
/// `per_round` packets go to udp port 9 one after another; the consumer
/// reports every message to `received`, and counting starts once
/// `warm_up_rounds` rounds have arrived.
class steady_state_run {
public:
    steady_state_run(net::io_context& io, const namespace_socket& udp, std::size_t per_round,
                     std::size_t warm_up_rounds, std::size_t measured_rounds)
        : io_(io), warm_up_(warm_up_rounds * per_round), total_((warm_up_rounds + measured_rounds) * per_round),
          sender_(udp, 9, warm_up_rounds + measured_rounds, per_round, io)
    {
    }

    /// For the consumer, on the io_context's thread, after each message,
    /// with the events received so far. True once every round arrived: the
    /// consumer stops then, so that `run()` returns.
    bool received(std::size_t events)
    {
        if (!scope_ && events >= warm_up_)
            scope_.emplace();
        if (!allocations_ && events >= total_)
            allocations_ = scope_->count();
        sender_.received = events;
        return allocations_.has_value();
    }

    /// Runs the io_context until the consumer stopped (or the sender gave up).
    void run()
    {
        io_.restart();
        io_.run();
        sender_.finish();
    }

    /// Allocations during the measured rounds; nothing when they did not all arrive.
    std::optional<std::size_t> allocations() const { return allocations_; }
    bool gave_up() const noexcept { return sender_.gave_up(); }

private:
    net::io_context& io_;
    std::size_t warm_up_;
    std::size_t total_;
    std::optional<allocation_scope> scope_;
    std::optional<std::size_t> allocations_;
    paced_sender sender_;
};

} // namespace nflog::test

#endif
