#ifndef NFLOG_TEST_SUPPORT_LOGGED_UDP_HPP
#define NFLOG_TEST_SUPPORT_LOGGED_UDP_HPP

// The packet messages the cursor and batch tests build their datagrams from:
// a UDP datagram to 127.0.0.1:9 logged on output, as the kernel sends it.

#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"

#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <netinet/in.h>

#include <cstdint>
#include <string_view>

namespace nflog::test {

inline bytes logged_udp(std::uint32_t sequence, std::string_view prefix = "DENIED udp", std::uint16_t group = 41)
{
    using namespace packets;
    return packet_message(NFPROTO_IPV4, group,
                          concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute(prefix),
                                  payload_attribute(ipv4("127.0.0.1", "127.0.0.1", IPPROTO_UDP, udp(5000, 9))),
                                  be32_attribute(NFULA_SEQ, sequence)}));
}

/// `count` of them in one datagram, numbered from `first`.
inline bytes logged_udps(std::uint32_t first, std::uint32_t count)
{
    bytes out;
    for (std::uint32_t i = 0; i < count; ++i) {
        const auto one = logged_udp(first + i);
        out.insert(out.end(), one.begin(), one.end());
    }
    return out;
}

/// A packet message without its packet header attribute: it does not parse.
inline bytes headerless_packet(std::uint16_t group = 41)
{
    return packet_message(NFPROTO_IPV4, group, packets::prefix_attribute("broken"));
}

} // namespace nflog::test

#endif
