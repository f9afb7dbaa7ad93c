#ifndef NFLOG_TEST_SUPPORT_PACED_SENDER_HPP
#define NFLOG_TEST_SUPPORT_PACED_SENDER_HPP

#include "support/traffic.hpp"

#include <nflog/detail/config.hpp>

#include <boost/asio/io_context.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>

namespace nflog::test {

/// Sends `rounds` rounds of `per_round` UDP packets to 127.0.0.1:`port`
/// from a thread of its own, each round once the one before has been
/// received, so that the thread running the io_context does nothing but
/// receive. Whoever receives stores the packets it has seen in `received`.
/// Should that stall, the sender stops the io_context after `limit` and
/// `gave_up()` says so.
class paced_sender {
public:
    paced_sender(const namespace_socket& udp, std::uint16_t port, std::size_t rounds, std::size_t per_round,
                 net::io_context& io, std::chrono::seconds limit = std::chrono::seconds(20))
        : thread_([this, &udp, port, rounds, per_round, &io, limit] {
              const auto deadline = std::chrono::steady_clock::now() + limit;
              for (std::size_t round = 0; round < rounds; ++round) {
                  while (received.load() < round * per_round) {
                      if (stopping_.load())
                          return;
                      if (std::chrono::steady_clock::now() > deadline) {
                          gave_up_ = true;
                          io.stop();
                          return;
                      }
                      std::this_thread::sleep_for(std::chrono::microseconds(100));
                  }
                  udp.send_udp("127.0.0.1", port, per_round);
              }
          })
    {
    }
    paced_sender(const paced_sender&) = delete;
    paced_sender& operator=(const paced_sender&) = delete;
    ~paced_sender()
    {
        stopping_ = true;
        finish();
    }

    /// Waits until every round was sent (or the sender gave up).
    void finish()
    {
        if (thread_.joinable())
            thread_.join();
    }
    bool gave_up() const noexcept { return gave_up_.load(); }

    std::atomic<std::size_t> received{0};

private:
    std::atomic<bool> stopping_{false};
    std::atomic<bool> gave_up_{false};
    std::thread thread_;
};

} // namespace nflog::test

#endif
