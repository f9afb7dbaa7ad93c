#ifndef NFLOG_BATCH_HPP
#define NFLOG_BATCH_HPP

#include <nflog/detail/buffer_pool.hpp>
#include <nflog/detail/packet_layout.hpp>
#include <nflog/packet.hpp>
#include <nflog/source_id.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <utility>

namespace nflog {

namespace detail {
class receive_state;
} // namespace detail

/// The NFLOG packets of one received netlink datagram.
///
/// A batch owns its receive buffer: the `packet_view`s it yields stay valid
/// exactly as long as the batch, and the buffer is reused only after the batch
/// is destroyed. Copies share the buffer, read-only, like copies of a
/// `std::shared_ptr<const T>`: the views stay valid as long as any copy,
/// copying never allocates, and the last copy may be dropped on any thread.
/// Iterating yields `result<packet_view>`, the
/// elements of `packet_range` over the datagram: a message that does not
/// parse is an error element, and iteration goes on.
///
/// The datagram is parsed once, when the batch is made: the socket's
/// accounting and every later iteration read the same elements, kept with
/// the buffer, so iterating again costs no parse.
class batch {
public:
    using value_type = result<packet_view>;
    using iterator = const value_type*;
    using const_iterator = iterator;

    batch() = default;
    /// Parses the first `length` bytes of `buffer` (all of it, should
    /// `length` be larger).
    batch(detail::buffer_lease buffer, std::size_t length)
        : buffer_(std::move(buffer)), length_(std::min(length, buffer_.bytes().size()))
    {
        detail::packet_layout layout;
        const auto ignore = [](const value_type&) {};
        parse(layout, ignore);
    }
    /// Parses the first `length` bytes of `buffer` and shows each element to
    /// `inspect` as soon as it is parsed, while its bytes are still in the
    /// nearest cache: the socket accounts for a datagram in the same pass.
    /// `layout` is what the datagrams before this one left behind (see
    /// `detail::packet_layout`). The element may move once `inspect` returns
    /// (the vector can grow). Throws only when the element vector cannot grow.
    template <class Inspect>
    batch(detail::buffer_lease buffer, std::size_t length, detail::packet_layout& layout, Inspect&& inspect)
        : buffer_(std::move(buffer)), length_(std::min(length, buffer_.bytes().size()))
    {
        parse(layout, inspect);
    }

    iterator begin() const noexcept { return buffer_ ? buffer_.data().elements.data() : nullptr; }
    iterator end() const noexcept { return buffer_ ? begin() + buffer_.data().element_count : nullptr; }
    /// The datagram walked anew, without the elements kept by the batch.
    packet_range packets() const noexcept { return packet_range(bytes()); }

    /// The datagram as received; of a `truncated()` one, its whole messages.
    std::span<const std::byte> bytes() const noexcept
    {
        return buffer_ ? buffer_.bytes().first(length_) : std::span<const std::byte>();
    }

    /// Not `size()`: the range also yields malformed messages and kernel
    /// error replies, so the element count is `std::ranges::size(batch)`.
    std::size_t packet_count() const noexcept { return packets_; }
    std::size_t malformed() const noexcept { return malformed_; }
    /// Events that the kernel logged but never delivered, from the sequence
    /// gaps before this batch's packets. The kernel loses whole datagrams, so
    /// its losses show before a datagram's first packet; a gap between two
    /// packets of one datagram (only a forged one has it) is added here too.
    std::uint64_t lost_before() const noexcept { return lost_before_; }
    /// The datagram was larger than the receive buffer: its tail is missing.
    /// The batch holds the whole messages before the cut (`bytes()` ends
    /// there); the message the cut fell in is no element and not counted as
    /// malformed. With sequence numbers, the events of the missing tail
    /// count as lost at the next datagram of their group.
    bool truncated() const noexcept { return truncated_; }
    /// Which watcher sent the batch through a channel (see `basic_watcher`);
    /// 0 for a batch straight from a socket.
    source_id source() const noexcept { return source_; }
    void set_source(source_id source) noexcept { source_ = source; }

private:
    friend class detail::receive_state;

    // Set by the receiving socket from the elements, when it accounts for them.
    void set_counts(std::size_t packets, std::size_t malformed, std::uint64_t lost_before, bool truncated) noexcept
    {
        packets_ = packets;
        malformed_ = malformed;
        lost_before_ = lost_before;
        truncated_ = truncated;
    }

    // Flattened: with the walk, its parse and the layout inlined, a message
    // costs no call and no frame (on a flood-shaped datagram 17 of 437
    // instructions per message, and faster in 7 of 8 timed pairs).
    template <class Inspect>
    [[gnu::flatten]] void parse(detail::packet_layout& layout, Inspect&& inspect)
    {
        if (!buffer_)
            return;
        auto& data = buffer_.data();
        auto& slots = data.elements;
        detail::packet_walk walk(bytes());
        layout.start_datagram();
        std::size_t count = 0;
        for (;; ++count) {
            if (count == slots.size())
                slots.emplace_back(packet_view{});
            if (!walk.next(slots[count], layout))
                break;
            inspect(std::as_const(slots[count]));
        }
        data.element_count = count;
    }

    detail::buffer_lease buffer_;
    std::size_t length_ = 0;
    std::size_t packets_ = 0;
    std::size_t malformed_ = 0;
    std::uint64_t lost_before_ = 0;
    bool truncated_ = false;
    source_id source_ = 0;
};

} // namespace nflog

#endif
