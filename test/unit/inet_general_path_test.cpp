// inet::decode's fast path against the general walk it falls back to, on
// packets built at random with a fixed seed: headers shaped like real ones
// with the lengths, fragment fields, protocols, TCP data offsets, UDP
// lengths, extension chains, cuts, hardware protocols and families drawn at
// random, so that both the fast path and each way out of it are met many
// times.
#include <nflog/detail/inet_general_path.hpp>
#include <nflog/inet.hpp>

#include "fuzz/fuzz_checks.hpp"
#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <netinet/in.h>

#include <linux/if_ether.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <random>
#include <span>
#include <sstream>
#include <string>

namespace {

using namespace nflog;
using nflog::test::bytes;

class packet_generator {
public:
    explicit packet_generator(std::uint64_t seed) : random_(seed) {}

    // Below `bound`; mt19937_64 is specified to the bit, so the same seed
    // gives the same packets everywhere.
    std::size_t below(std::size_t bound) { return static_cast<std::size_t>(random_() % bound); }
    bool one_in(std::size_t chances) { return below(chances) == 0; }
    template <class T, std::size_t N>
    T any_of(const std::array<T, N>& choices)
    {
        return choices[below(N)];
    }

    bytes packet()
    {
        switch (below(20)) {
        case 0:
            return random_bytes(below(80));
        case 1:
        case 2:
            return arp();
        default:
            return below(2) == 0 ? ipv4() : ipv6();
        }
    }

private:
    static constexpr std::array<std::uint8_t, 16> protocols{IPPROTO_TCP,  IPPROTO_UDP,    IPPROTO_UDPLITE, IPPROTO_SCTP,
                                                            IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_ESP,     IPPROTO_NONE,
                                                            IPPROTO_MH,   IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT,
                                                            IPPROTO_DSTOPTS, IPPROTO_AH, IPPROTO_GRE,  255};

    bytes random_bytes(std::size_t size)
    {
        bytes out(size);
        for (auto& byte : out)
            byte = static_cast<std::byte>(below(256));
        return out;
    }

    void put16(bytes& out, std::size_t offset, std::size_t value)
    {
        out[offset] = static_cast<std::byte>(value >> 8);
        out[offset + 1] = static_cast<std::byte>(value);
    }

    // Mostly what the packet says, sometimes a little off either way, 0 ("as
    // long as the copy") or anything at all.
    std::size_t length_field(std::size_t actual)
    {
        switch (below(8)) {
        case 0:
            return 0;
        case 1:
            return below(65536);
        case 2:
            return actual + below(24) >= 12 ? actual + below(24) - 12 : 0;
        default:
            return actual;
        }
    }

    // Mostly TCP or UDP, as logged traffic is.
    std::uint8_t protocol()
    {
        constexpr std::array<std::uint8_t, 2> common{IPPROTO_TCP, IPPROTO_UDP};
        return one_in(2) ? any_of(protocols) : any_of(common);
    }

    // A transport header, mostly long enough for TCP's, with TCP's data
    // offset mostly 5 and UDP's length mostly true to its size.
    bytes transport()
    {
        auto out = random_bytes(one_in(4) ? below(48) : 20 + below(28));
        if (out.size() >= 6)
            put16(out, 4, length_field(out.size()));
        if (out.size() > 12)
            out[12] = static_cast<std::byte>((one_in(4) ? below(16) : 5) << 4);
        return out;
    }

    bytes ipv4()
    {
        const std::size_t header_size = one_in(4) ? below(16) * 4 : 20;
        auto out = random_bytes(std::max<std::size_t>(header_size, 20));
        out[0] = static_cast<std::byte>(0x40 | header_size / 4);
        const std::uint16_t fragment_fields[] = {0, 0, 0x4000, 0x2000, 0x00b9, 0x20b9,
                                                 static_cast<std::uint16_t>(below(65536))};
        put16(out, 6, fragment_fields[below(std::size(fragment_fields))]);
        out[9] = static_cast<std::byte>(protocol());
        const auto body = transport();
        out.insert(out.end(), body.begin(), body.end());
        put16(out, 2, length_field(out.size()));
        return out;
    }

    // Hop-by-hop, routing, destination options or AH, its length field true to its size.
    bytes extension(std::uint8_t kind, std::uint8_t next_header)
    {
        const std::size_t units = below(4);
        auto out = random_bytes(kind == IPPROTO_AH ? (units + 3) * 4 : (units + 1) * 8);
        out[0] = static_cast<std::byte>(next_header);
        out[1] = static_cast<std::byte>(kind == IPPROTO_AH ? units + 1 : units);
        if (kind == IPPROTO_FRAGMENT) {
            out.resize(8);
            const std::uint16_t offsets_and_flags[] = {0, 1, 0x05a8, 0x05a9, static_cast<std::uint16_t>(below(65536))};
            put16(out, 2, offsets_and_flags[below(std::size(offsets_and_flags))]);
        }
        return out;
    }

    bytes ipv6()
    {
        auto out = random_bytes(40);
        out[0] = static_cast<std::byte>(0x60 | below(16));
        constexpr std::array<std::uint8_t, 5> extensions{IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT,
                                                         IPPROTO_DSTOPTS, IPPROTO_AH};
        std::uint8_t next = protocol();
        bytes chain;
        for (std::size_t count = one_in(2) ? 0 : below(10); count > 0; --count) {
            const auto kind = any_of(extensions);
            const auto header = extension(kind, next);
            chain.insert(chain.begin(), header.begin(), header.end());
            next = kind;
        }
        out[6] = static_cast<std::byte>(next);
        out.insert(out.end(), chain.begin(), chain.end());
        const auto body = transport();
        out.insert(out.end(), body.begin(), body.end());
        put16(out, 4, length_field(out.size() - 40));
        return out;
    }

    bytes arp()
    {
        constexpr std::array<std::uint16_t, 5> hardware_types{1, 6, 24, 32, 0xffff};
        const std::size_t hardware_length = one_in(2) ? 6 : below(24);
        auto out = random_bytes(8 + 2 * hardware_length + 8);
        put16(out, 0, any_of(hardware_types));
        put16(out, 2, one_in(8) ? below(65536) : ETH_P_IP);
        out[4] = static_cast<std::byte>(hardware_length);
        out[5] = static_cast<std::byte>(one_in(8) ? below(256) : 4);
        return out;
    }

    std::mt19937_64 random_;
};

std::string hex(std::span<const std::byte> payload)
{
    std::ostringstream out;
    out << std::hex;
    for (const auto byte : payload)
        out << (std::to_integer<int>(byte) >> 4) << (std::to_integer<int>(byte) & 0xf);
    return out.str();
}

std::string describe(const inet::flow& f)
{
    std::ostringstream out;
    const auto number = [&](const char* name, const auto& value) {
        out << ' ' << name << '=';
        if (value)
            out << static_cast<int>(*value);
        else
            out << '-';
    };
    out << "l3=" << inet::to_string(f.l3) << " src=" << f.src << (f.has_src ? "" : " (not read)") << " dst=" << f.dst
        << (f.has_dst ? "" : " (not read)");
    number("protocol", f.protocol);
    number("sport", f.src_port);
    number("dport", f.dst_port);
    number("icmp_type", f.icmp_type);
    number("icmp_code", f.icmp_code);
    number("arp_op", f.arp_op);
    out << " fragment=" << f.fragment << " later_fragment=" << f.later_fragment << " truncated=" << f.truncated
        << " family_mismatch=" << f.family_mismatch << " error=\"" << inet::to_string(f.error) << '"';
    return out.str();
}

TEST(inet_general_path, agrees_with_decode_on_random_packets)
{
    packet_generator generate(20240501);
    constexpr std::array<std::uint16_t, 6> hw_protocols{ETH_P_IP, ETH_P_IPV6, ETH_P_ARP, 0, 0x8100, 0x88cc};
    constexpr std::array<std::uint8_t, 7> families{2, 10, 3, 1, 7, 5, 0};
    std::size_t whole_with_ports = 0;
    std::size_t cut_or_malformed = 0;
    for (int i = 0; i < 200'000; ++i) {
        const auto packet = generate.packet();
        std::span<const std::byte> payload(packet);
        if (generate.one_in(3))
            payload = payload.first(generate.below(packet.size() + 1));
        const auto hw_protocol = generate.any_of(hw_protocols);
        const auto family = generate.any_of(families);

        const auto decoded = inet::decode(payload, hw_protocol, family);
        const auto general = detail::decode_inet_general_path(payload, hw_protocol, family);
        if (!fuzz::same_flow(decoded, general)) {
            ADD_FAILURE() << "payload " << hex(payload) << ", hw_protocol " << hw_protocol << ", family "
                          << static_cast<int>(family) << "\n  inet::decode: " << describe(decoded)
                          << "\n  general path: " << describe(general);
            return;
        }
        const bool whole = !decoded.truncated && decoded.error == inet::decode_error::none;
        whole_with_ports += whole && decoded.src_port ? 1 : 0;
        cut_or_malformed += whole ? 0 : 1;
    }
    // The packets reach the fast path and leave it, both many times over.
    EXPECT_GT(whole_with_ports, 20'000u);
    EXPECT_GT(cut_or_malformed, 50'000u);
}

} // namespace
