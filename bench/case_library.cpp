#include "cases.hpp"
#include "packet_reads.hpp"

#include <nflog/inet.hpp>
#include <nflog/packet.hpp>

namespace nflog::bench {

tally decode_with_library(const corpus& input) noexcept
{
    tally out;
    for (const auto datagram : input.datagrams()) {
        for (const auto& item : packet_range(datagram)) {
            if (!item) {
                ++out.failures;
                continue;
            }
            const auto& packet = item.assume_value();
            ++out.packets;
            add_prefix(out, packet.prefix());
            out.details += read_details(packet);
            out.sink += read_the_rest(packet);
            const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
            add_destination(out, flow);
            add_flow_rest(out, flow);
        }
    }
    return out;
}

} // namespace nflog::bench
