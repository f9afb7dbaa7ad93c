#ifndef NFLOG_BENCH_CROSS_CHECK_HPP
#define NFLOG_BENCH_CROSS_CHECK_HPP

#include "corpus.hpp"
#include "tally.hpp"

#include <functional>
#include <string>
#include <vector>

namespace nflog::bench {

/// One way through the corpus, as the benchmark times it.
struct named_case {
    std::string name;
    std::function<tally(const corpus&)> decode;
    /// The full decoders read mark, devices, ids, seq and timestamp too; the
    /// hand-written loop and the partial cases do not.
    bool reads_details = false;
};

/// Runs every full decoder once and compares what they found with each other
/// and the packet count with the raw one, never with numbers written down in
/// the code: a re-recorded corpus needs no edit. Prints the tallies to stderr.
bool cross_check(const corpus& input, const std::vector<named_case>& decoders);

/// The partial cases only have to see every packet, without a failure.
bool check_parts(const corpus& input, const std::vector<named_case>& parts);

} // namespace nflog::bench

#endif
