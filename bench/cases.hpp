#ifndef NFLOG_BENCH_CASES_HPP
#define NFLOG_BENCH_CASES_HPP

#include "corpus.hpp"
#include "tally.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace nflog::bench {

/// This library: `packet_range`, every `packet_view` getter, `inet::decode`.
tally decode_with_library(const corpus& input) noexcept;

/// libmnl: `mnl_nlmsg_ok`/`mnl_nlmsg_next`, `mnl_attr_parse` into a table
/// with the usual per-type validation, the same getters by hand, `inet::decode`.
tally decode_with_mnl(const corpus& input) noexcept;

/// A hand-written loop that reads only prefix, destination address, L4
/// protocol and destination port, as a user in a hurry would write it.
tally decode_by_hand(const corpus& input) noexcept;

/// libnetfilter_log: `nflog_handle_packet` over each datagram with a
/// callback that uses its getters and `inet::decode`.
///
/// A handle needs a bound group for its callback to fire, and binding needs
/// CAP_NET_ADMIN: `open` moves the process into a fresh network namespace of
/// its own first, so no other reader's group is touched. No traffic flows.
class nflog_baseline {
public:
    /// A message saying why the baseline cannot run, or the baseline.
    struct opened;
    static opened open(const std::vector<std::uint16_t>& groups);

    nflog_baseline(const nflog_baseline&) = delete;
    nflog_baseline& operator=(const nflog_baseline&) = delete;
    ~nflog_baseline();

    tally decode(const corpus& input) noexcept;
    /// The same walk and dispatch with a callback that only counts.
    tally dispatch_only(const corpus& input) noexcept;

private:
    struct state;
    explicit nflog_baseline(std::unique_ptr<state> state) noexcept;
    tally handle_all(const corpus& input) noexcept;
    std::unique_ptr<state> state_;
};

struct nflog_baseline::opened {
    std::unique_ptr<nflog_baseline> baseline;
    std::string problem;
};

} // namespace nflog::bench

#endif
