// Input: hw_protocol (2 bytes, big-endian), family (1 byte), then the payload,
// as for fuzz_inet.
// inet::decode answers most packets from a fast path that reads whole headers
// at once and hands everything else to a walk that checks each field on its
// own. Both must give the same flow: for every cut of the payload this target
// decodes it both ways and aborts, printing both flows, when they differ.

#include <nflog/detail/inet_general_path.hpp>
#include <nflog/inet.hpp>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>

#include "fuzz_checks.hpp"

namespace {

using nflog::inet::flow;

int or_minus_one(const std::optional<std::uint8_t>& value) { return value ? *value : -1; }
int or_minus_one(const std::optional<std::uint16_t>& value) { return value ? *value : -1; }

void print_flow(const char* path, const flow& f)
{
    std::fprintf(stderr,
                 "%s: l3=%s src=%s (%s) dst=%s (%s) protocol=%d ports=%d/%d icmp=%d/%d arp_op=%d fragment=%d "
                 "later_fragment=%d truncated=%d family_mismatch=%d error=\"%s\"\n",
                 path, std::string(to_string(f.l3)).c_str(), f.src.to_string().c_str(),
                 f.has_src ? "read" : "not read", f.dst.to_string().c_str(), f.has_dst ? "read" : "not read",
                 or_minus_one(f.protocol), or_minus_one(f.src_port), or_minus_one(f.dst_port),
                 or_minus_one(f.icmp_type), or_minus_one(f.icmp_code), or_minus_one(f.arp_op), f.fragment,
                 f.later_fragment, f.truncated, f.family_mismatch, std::string(to_string(f.error)).c_str());
}

void compare_paths(std::span<const std::byte> payload, std::uint16_t hw_protocol, std::uint8_t family)
{
    const auto decoded = nflog::inet::decode(payload, hw_protocol, family);
    const auto general = nflog::detail::decode_inet_general_path(payload, hw_protocol, family);
    if (nflog::fuzz::same_flow(decoded, general))
        return;
    std::fprintf(stderr, "the paths differ on a payload of %zu bytes, hw_protocol 0x%04x, family %u\n",
                 payload.size(), hw_protocol, family);
    print_flow("inet::decode", decoded);
    print_flow("general path", general);
    std::abort();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto input = nflog::fuzz::read_inet_input(data, size);
    if (!input)
        return 0;
    // The fast path decides by lengths, so every cut is a case of its own.
    for (std::size_t cut = 0; cut <= input->payload.size(); ++cut)
        compare_paths(input->payload.first(cut), input->hw_protocol, input->family);
    return 0;
}
