// Parse benchmark: the same recorded kernel datagrams, in memory, through this
// library, libmnl, libnetfilter_log and a hand-written loop, in one run.
//
//   nflog_parse_bench [benchmark flags] [--corpus=FILE] [--copies=N] [--breakdown] [--verify-only]
//
// Before timing anything the four decoders run once over the corpus and must
// agree on what they all read; otherwise the exit status is 2. Without root
// the libnetfilter_log case cannot bind its groups and is left out, loudly.
// --breakdown adds pieces of the full decodes, timed on their own.

#include "cases.hpp"
#include "corpus.hpp"
#include "cross_check.hpp"
#include "parts.hpp"
#include "support/counting_allocator.hpp"

#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace {

using nflog::bench::corpus;
using nflog::bench::named_case;
using nflog::bench::tally;

struct options {
    std::string corpus_path = NFLOG_BENCH_CORPUS;
    // About 700 KiB: the working set stays in L2, as a freshly received batch
    // would, so the cases differ by their parsing and not by memory stalls.
    std::size_t copies = 160;
    bool breakdown = false;
    bool verify_only = false;
};

// What is left after benchmark::Initialize took its own flags.
bool parse_options(int argc, char** argv, options& out)
{
    for (int i = 1; i < argc; ++i) {
        const std::string_view argument = argv[i];
        if (argument.starts_with("--corpus="))
            out.corpus_path = argument.substr(9);
        else if (argument.starts_with("--copies="))
            out.copies = std::strtoull(argv[i] + 9, nullptr, 10);
        else if (argument == "--breakdown")
            out.breakdown = true;
        else if (argument == "--verify-only")
            out.verify_only = true;
        else {
            std::fprintf(stderr, "unknown argument: %s\n", argv[i]);
            return false;
        }
    }
    if (out.copies == 0) {
        std::fprintf(stderr, "--copies must be at least 1\n");
        return false;
    }
    return true;
}

void run_case(benchmark::State& state, const corpus& input, const named_case& decoder)
{
    const auto allocations_before = nflog::test::allocations_on_this_thread();
    tally last;
    for (auto _ : state) {
        last = decoder.decode(input);
        benchmark::DoNotOptimize(last);
    }
    const auto allocations = nflog::test::allocations_on_this_thread() - allocations_before;
    const double messages = static_cast<double>(input.messages()) * static_cast<double>(state.iterations());
    state.SetItemsProcessed(static_cast<std::int64_t>(messages));
    state.SetBytesProcessed(static_cast<std::int64_t>(input.bytes() * state.iterations()));
    state.counters["msgs"] = static_cast<double>(input.messages());
    // What the last pass found, so that a report can cross-check the cases too.
    state.counters["packets"] = static_cast<double>(last.packets);
    state.counters["ports"] = static_cast<double>(last.ports);
    state.counters["allocs_per_msg"] = static_cast<double>(allocations) / messages;
}

void register_cases(const char* group, const std::vector<named_case>& cases, const corpus& input)
{
    for (const auto& decoder : cases)
        benchmark::RegisterBenchmark((std::string(group) + "/" + decoder.name).c_str(),
                                     [&input, &decoder](benchmark::State& state) { run_case(state, input, decoder); })
            ->Unit(benchmark::kMicrosecond);
}

} // namespace

int main(int argc, char** argv)
{
    benchmark::Initialize(&argc, argv);
    options opts;
    if (!parse_options(argc, argv, opts))
        return 1;

    try {
        const auto input = corpus::load(opts.corpus_path, opts.copies);
        std::fprintf(stderr, "corpus: %zu recorded datagrams x %zu copies = %zu datagrams, %zu NFLOG messages, %zu bytes\n",
                     input.recorded_datagrams(), opts.copies, input.datagrams().size(), input.messages(), input.bytes());

        auto nflog = nflog::bench::nflog_baseline::open(input.groups());
        auto* baseline = nflog.baseline.get();
        if (!baseline)
            std::fprintf(stderr, "SKIPPED libnetfilter_log: %s (binding NFLOG groups needs root: CAP_SYS_ADMIN for "
                                 "a private network namespace, CAP_NET_ADMIN in it)\n",
                         nflog.problem.c_str());

        std::vector<named_case> decoders;
        decoders.push_back({"nflog-asio", nflog::bench::decode_with_library, true});
        decoders.push_back({"libmnl", nflog::bench::decode_with_mnl, true});
        if (baseline)
            decoders.push_back({"libnetfilter_log", [baseline](const corpus& c) { return baseline->decode(c); }, true});
        decoders.push_back({"hand-written", nflog::bench::decode_by_hand, false});

        namespace parts = nflog::bench::parts;
        const auto payloads = parts::payloads_of(input);
        std::vector<named_case> pieces;
        if (opts.breakdown) {
            pieces.push_back({"nflog-asio:walk", parts::library_walk});
            pieces.push_back({"nflog-asio:walk+getters", parts::library_walk_and_getters});
            pieces.push_back({"inet::decode", [&payloads](const corpus&) { return parts::inet_decode(payloads); }});
            if (baseline)
                pieces.push_back({"libnetfilter_log:dispatch", [baseline](const corpus& c) { return baseline->dispatch_only(c); }});
            pieces.push_back({"hand-written:walk", parts::hand_walk});
        }

        if (!nflog::bench::cross_check(input, decoders) || !nflog::bench::check_parts(input, pieces))
            return 2;
        if (opts.verify_only)
            return 0;

        register_cases("parse", decoders, input);
        register_cases("part", pieces, input);
        benchmark::RunSpecifiedBenchmarks();
        benchmark::Shutdown();
    } catch (const std::exception& error) {
        std::fprintf(stderr, "nflog_parse_bench: %s\n", error.what());
        return 1;
    }
    return 0;
}
