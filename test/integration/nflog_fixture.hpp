#ifndef NFLOG_TEST_INTEGRATION_NFLOG_FIXTURE_HPP
#define NFLOG_TEST_INTEGRATION_NFLOG_FIXTURE_HPP

#include <nflog/inet.hpp>
#include <nflog/socket.hpp>

#include "support/netns.hpp"
#include "support/traffic.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace nflog::test {

/// What a test keeps of one received packet (views die with their batch).
struct seen_packet {
    std::uint16_t group = 0;
    std::uint8_t family = 0;
    std::uint8_t hook = 0;
    std::string prefix;
    std::optional<std::uint32_t> seq;
    inet::flow flow;
};

inline seen_packet keep(const packet_view& packet)
{
    return {packet.group(), packet.family(), packet.hook(), std::string(packet.prefix()), packet.seq(),
            inet::decode(packet.payload(), packet.hw_protocol(), packet.family())};
}

/// A namespace with a deny ruleset logging to groups 41-45, and an io_context.
class nflog_fixture : public ::testing::Test {
protected:
    static constexpr const char* ruleset = R"(
table inet nflogtest {
    chain output {
        type filter hook output priority 0; policy accept;
        udp dport 9 counter log group 41 prefix "DENIED udp" drop comment "udp9"
        icmp type echo-request counter log group 41 prefix "DENIED icmp" drop comment "icmp"
        meta l4proto ipv6-icmp icmpv6 type echo-request counter log group 41 prefix "DENIED icmpv6" drop comment "icmp6"
        tcp dport 22 counter log group 42 prefix "DENIED tcp" drop comment "tcp22"
        udp dport 10 counter log group 43 prefix "ALLOWED udp" accept comment "udp10"
        udp dport 11 counter log group 44 prefix "DENIED flood" drop comment "udp11"
        udp dport 12 counter log group 45 prefix "DENIED held" queue-threshold 8 drop comment "udp12"
    }
})";

    void SetUp() override
    {
        NFLOG_REQUIRE_INTEGRATION();
        netns.emplace();
        netns->load_ruleset(ruleset);
    }

    /// Options for the fixture's namespace: flush at once, so tests need not wait.
    options options_for(std::vector<std::uint16_t> groups) const
    {
        options opts;
        opts.groups = std::move(groups);
        opts.netns = netns->path();
        opts.queue_threshold = 1;
        return opts;
    }

    socket open_socket(std::vector<std::uint16_t> groups)
    {
        auto opened = socket::open(io, options_for(std::move(groups)));
        EXPECT_TRUE(opened) << opened.error().message();
        return std::move(opened).value();
    }

    /// Receives until `count` packets arrived or a bounded wait ran out.
    std::vector<seen_packet> collect(socket& source, std::size_t count, std::chrono::seconds limit = std::chrono::seconds(10))
    {
        std::vector<seen_packet> packets;
        net::steady_timer deadline(io, limit);
        bool expired = false;
        deadline.async_wait([&](boost::system::error_code error) {
            if (!error) {
                expired = true;
                source.cancel();
            }
        });
        std::function<void()> next = [&] {
            source.async_receive([&](boost::system::error_code error, batch received) {
                if (error) {
                    EXPECT_TRUE(expired) << error.message();
                    return;
                }
                for (const auto& item : received) {
                    EXPECT_TRUE(item) << item.error().message();
                    if (item)
                        packets.push_back(keep(item.value()));
                }
                if (packets.size() < count)
                    next();
                else
                    deadline.cancel();
            });
        };
        next();
        io.restart();
        io.run();
        return packets;
    }

    std::optional<scoped_netns> netns;
    net::io_context io;
};

} // namespace nflog::test

#endif
