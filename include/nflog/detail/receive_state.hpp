#ifndef NFLOG_DETAIL_RECEIVE_STATE_HPP
#define NFLOG_DETAIL_RECEIVE_STATE_HPP

#include <nflog/batch.hpp>
#include <nflog/detail/buffer_pool.hpp>
#include <nflog/error.hpp>
#include <nflog/stats.hpp>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <utility>
#include <vector>

namespace nflog::detail {

/// Everything a socket knows besides its descriptor: buffers, counters and
/// the per-group sequence expectations. Not thread-safe, like the socket.
class receive_state {
public:
    receive_state(std::size_t datagram_capacity, std::vector<std::uint16_t> groups,
                  std::deque<std::vector<std::byte>> early_datagrams)
        : pool_(std::make_shared<buffer_pool>(datagram_capacity)), groups_(std::move(groups)),
          next_sequence_(groups_.size(), 0), early_(std::move(early_datagrams))
    {
    }

    const std::vector<std::uint16_t>& groups() const noexcept { return groups_; }
    const nflog::stats& counters() const noexcept { return counters_; }
    buffer_pool& pool() noexcept { return *pool_; }

    buffer_lease acquire() { return pool_->acquire(); }

    bool has_early_datagram() const noexcept { return !early_.empty(); }
    /// Where datagrams that arrive during a synchronous request are kept.
    std::deque<std::vector<std::byte>>& early_datagrams() noexcept { return early_; }

    /// The next datagram that arrived during setup, as a batch.
    batch take_early_datagram()
    {
        const auto datagram = std::move(early_.front());
        early_.pop_front();
        auto lease = acquire();
        const auto size = std::min(datagram.size(), lease.bytes().size());
        std::memcpy(lease.bytes().data(), datagram.data(), size);
        return accept(std::move(lease), datagram.size());
    }

    /// Turns `received` bytes (the datagram's real length, as MSG_TRUNC
    /// reports it) in `buffer` into a batch: one validation pass counts the
    /// packets, the malformed messages and the sequence gaps.
    batch accept(buffer_lease buffer, std::size_t received) noexcept
    {
        const auto capacity = buffer.bytes().size();
        const bool truncated = received > capacity;
        batch out(std::move(buffer), std::min(received, capacity));
        ++counters_.datagrams;
        if (truncated)
            ++counters_.truncated;
        std::size_t packets = 0;
        std::size_t malformed = 0;
        std::uint64_t lost = 0;
        for (const auto& item : out.packets()) {
            if (!item) {
                if (item.error() == condition::malformed)
                    ++malformed;
                continue;
            }
            ++packets;
            lost += sequence_gap(item.value());
        }
        counters_.packets += packets;
        counters_.malformed += malformed;
        counters_.lost += lost;
        out.set_counts(packets, malformed, lost, truncated);
        return out;
    }

    void count_overrun() noexcept { ++counters_.overruns; }

private:
    // Instance sequence numbers start at 0 when the group is bound and
    // advance by one per logged packet, so every skipped value is one event
    // the kernel logged and could not deliver.
    std::uint64_t sequence_gap(const packet_view& packet) noexcept
    {
        const auto sequence = packet.seq();
        if (!sequence)
            return 0;
        const auto slot = std::find(groups_.begin(), groups_.end(), packet.group());
        if (slot == groups_.end())
            return 0;
        auto& expected = next_sequence_[static_cast<std::size_t>(slot - groups_.begin())];
        const std::uint32_t gap = *sequence - expected;
        expected = *sequence + 1;
        // A "negative" gap is a reordering or a rebind, never a loss.
        return gap < 0x80000000u ? gap : 0;
    }

    std::shared_ptr<buffer_pool> pool_;
    std::vector<std::uint16_t> groups_;
    std::vector<std::uint32_t> next_sequence_;
    std::deque<std::vector<std::byte>> early_;
    nflog::stats counters_;
};

} // namespace nflog::detail

#endif
