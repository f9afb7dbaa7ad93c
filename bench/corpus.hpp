#ifndef NFLOG_BENCH_CORPUS_HPP
#define NFLOG_BENCH_CORPUS_HPP

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace nflog::bench {

/// Recorded kernel datagrams that carry NFLOG packets, replicated and shuffled
/// into one contiguous, aligned block of memory, as a receive loop would see
/// them one after the other.
class corpus {
public:
    /// Reads a NETLINK link-type capture (16-byte cooked header per record),
    /// keeps the datagrams holding at least one NFLOG packet message, repeats
    /// them `copies` times and shuffles the order with a fixed seed.
    /// Throws `std::runtime_error` when the file holds no such datagram.
    static corpus load(const std::string& path, std::size_t copies);

    std::span<const std::span<const std::byte>> datagrams() const noexcept { return datagrams_; }
    /// NFLOG packet messages in all datagrams, counted from the raw headers.
    std::size_t messages() const noexcept { return messages_; }
    std::size_t bytes() const noexcept { return bytes_; }
    std::size_t recorded_datagrams() const noexcept { return recorded_; }
    /// The NFLOG groups (res_id) the packet messages were sent to.
    const std::vector<std::uint16_t>& groups() const noexcept { return groups_; }

private:
    std::vector<std::byte> arena_;
    std::vector<std::span<const std::byte>> datagrams_;
    std::vector<std::uint16_t> groups_;
    std::size_t messages_ = 0;
    std::size_t bytes_ = 0;
    std::size_t recorded_ = 0;
};

} // namespace nflog::bench

#endif
