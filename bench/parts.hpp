#ifndef NFLOG_BENCH_PARTS_HPP
#define NFLOG_BENCH_PARTS_HPP

#include "corpus.hpp"
#include "tally.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

/// Pieces of the full decodes, timed on their own to show where the time goes.
namespace nflog::bench::parts {

/// `packet_range` and the parse it does, no getter: packets and payload sizes.
tally library_walk(const corpus& input) noexcept;

/// The walk and every getter, without `inet::decode`.
tally library_walk_and_getters(const corpus& input) noexcept;

/// A payload as `inet::decode` takes it.
struct payload {
    std::span<const std::byte> bytes;
    std::uint16_t hw_protocol = 0;
    std::uint8_t family = 0;
};

/// The payloads of every packet of the corpus, found with this library once.
std::vector<payload> payloads_of(const corpus& input);

/// `inet::decode` alone over those payloads, with the bookkeeping of the full decoders.
tally inet_decode(std::span<const payload> payloads) noexcept;

/// The hand-written loop's netlink and attribute walk, reading nothing: the
/// least any decoder that looks at every attribute has to do.
tally hand_walk(const corpus& input) noexcept;

} // namespace nflog::bench::parts

#endif
