#include "cross_check.hpp"

#include <cstdio>

namespace nflog::bench {
namespace {

unsigned long long u(std::uint64_t value) { return value; }

void print_tally(const std::string& name, const tally& t)
{
    std::fprintf(stderr,
                 "  %-26s packets %llu  ports %llu  port sum %llu  prefix bytes %llu  protocols %llu  "
                 "addresses %llu  details %llu  failures %llu\n",
                 name.c_str(), u(t.packets), u(t.ports), u(t.port_sum), u(t.prefix_bytes), u(t.protocol_sum),
                 u(t.address_digest), u(t.details), u(t.failures));
}

} // namespace

bool cross_check(const corpus& input, const std::vector<named_case>& decoders)
{
    std::fprintf(stderr, "cross-check over %zu datagrams, %zu NFLOG messages:\n", input.datagrams().size(),
                 input.messages());
    std::vector<tally> results;
    for (const auto& decoder : decoders) {
        results.push_back(decoder.decode(input));
        print_tally(decoder.name, results.back());
    }
    bool agree = true;
    const tally& reference = results.front();
    const auto mismatch = [&](const std::string& name, const char* what) {
        std::fprintf(stderr, "MISMATCH: %s differs from %s in %s\n", name.c_str(), decoders.front().name.c_str(), what);
        agree = false;
    };
    for (std::size_t i = 0; i < decoders.size(); ++i) {
        const auto& t = results[i];
        const auto& name = decoders[i].name;
        if (t.packets != input.messages())
            mismatch(name, "packets (against the raw message count)");
        if (t.failures != 0)
            mismatch(name, "failures");
        if (t.packets != reference.packets)
            mismatch(name, "packets");
        if (t.ports != reference.ports || t.port_sum != reference.port_sum)
            mismatch(name, "destination ports");
        if (t.prefix_bytes != reference.prefix_bytes)
            mismatch(name, "prefixes");
        if (t.protocol_sum != reference.protocol_sum)
            mismatch(name, "protocols");
        if (t.address_digest != reference.address_digest)
            mismatch(name, "destination addresses");
        if (decoders[i].reads_details && t.details != reference.details)
            mismatch(name, "details (mark, devices, uid, gid, seq, timestamp, header, hwaddr)");
    }
    std::fprintf(stderr, agree ? "cross-check: all decoders agree\n" : "cross-check FAILED\n");
    return agree;
}

bool check_parts(const corpus& input, const std::vector<named_case>& parts)
{
    bool complete = true;
    for (const auto& part : parts) {
        const auto t = part.decode(input);
        print_tally(part.name, t);
        if (t.packets != input.messages() || t.failures != 0) {
            std::fprintf(stderr, "MISMATCH: %s saw %llu of %zu packets, %llu failures\n", part.name.c_str(),
                         u(t.packets), input.messages(), u(t.failures));
            complete = false;
        }
    }
    return complete;
}

} // namespace nflog::bench
