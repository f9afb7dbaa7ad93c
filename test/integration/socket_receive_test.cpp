#include <nflog/socket.hpp>

#include "nflog_fixture.hpp"
#include "support/counting_allocator.hpp"
#include "support/packet_builder.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <iostream>
#include <optional>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using socket_receive = nflog_fixture;

TEST_F(socket_receive, denied_ipv4_and_ipv6_packets_arrive_with_their_fields)
{
    auto watcher = open_socket({41, 42});
    namespace_socket udp4(netns->path(), AF_INET, SOCK_DGRAM);
    namespace_socket udp6(netns->path(), AF_INET6, SOCK_DGRAM);
    namespace_socket tcp4(netns->path(), AF_INET, SOCK_STREAM);
    namespace_socket tcp6(netns->path(), AF_INET6, SOCK_STREAM);
    namespace_socket icmp4(netns->path(), AF_INET, SOCK_RAW, IPPROTO_ICMP);
    namespace_socket icmp6(netns->path(), AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
    EXPECT_EQ(udp4.send_udp("127.0.0.1", 9, 1), 0u); // dropped on output: the sender sees EPERM
    udp6.send_udp("::1", 9, 1);
    tcp4.connect_tcp("127.0.0.1", 22);
    tcp6.connect_tcp("::1", 22);
    icmp4.send_echo_request("127.0.0.1", 7);
    icmp6.send_echo_request("::1", 7);

    const auto packets = collect(watcher, 6);
    ASSERT_EQ(packets.size(), 6u);
    int udp = 0, tcp = 0, icmp = 0;
    for (const auto& packet : packets) {
        EXPECT_EQ(packet.hook, 3) << "NF_INET_LOCAL_OUT";
        EXPECT_EQ(packet.flow.error, inet::decode_error::none);
        EXPECT_FALSE(packet.flow.truncated);
        const bool v6 = packet.flow.l3 == inet::l3_protocol::ipv6;
        EXPECT_EQ(packet.flow.dst.to_string(), v6 ? "::1" : "127.0.0.1");
        EXPECT_EQ(packet.family, v6 ? 10 : 2);
        switch (packet.flow.protocol.value_or(0)) {
        case IPPROTO_UDP:
            ++udp;
            EXPECT_EQ(packet.group, 41);
            EXPECT_EQ(packet.prefix, "DENIED udp");
            EXPECT_EQ(packet.flow.dst_port, 9);
            break;
        case IPPROTO_TCP:
            ++tcp;
            EXPECT_EQ(packet.group, 42);
            EXPECT_EQ(packet.prefix, "DENIED tcp");
            EXPECT_EQ(packet.flow.dst_port, 22);
            break;
        case IPPROTO_ICMP:
        case IPPROTO_ICMPV6:
            ++icmp;
            EXPECT_EQ(packet.group, 41);
            EXPECT_EQ(packet.prefix, v6 ? "DENIED icmpv6" : "DENIED icmp");
            EXPECT_EQ(packet.flow.icmp_type, v6 ? 128 : 8);
            EXPECT_EQ(packet.flow.icmp_code, 0);
            break;
        default: ADD_FAILURE() << "unexpected protocol " << int(packet.flow.protocol.value_or(0));
        }
    }
    EXPECT_EQ(udp, 2);
    EXPECT_EQ(tcp, 2);
    EXPECT_EQ(icmp, 2);
    EXPECT_EQ(watcher.stats().packets, 6u);
    EXPECT_EQ(watcher.stats().lost, 0u);
    EXPECT_EQ(watcher.stats().malformed, 0u);
}

TEST_F(socket_receive, several_groups_on_one_socket_keep_their_sequence_numbers)
{
    auto watcher = open_socket({41, 43});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 3);
    udp.send_udp("127.0.0.1", 10, 2);
    const auto packets = collect(watcher, 5);
    ASSERT_EQ(packets.size(), 5u);
    std::vector<std::uint32_t> seq41, seq43;
    for (const auto& packet : packets) {
        ASSERT_TRUE(packet.seq.has_value());
        (packet.group == 41 ? seq41 : seq43).push_back(*packet.seq);
        EXPECT_EQ(packet.prefix, packet.group == 41 ? "DENIED udp" : "ALLOWED udp");
    }
    EXPECT_EQ(seq41, (std::vector<std::uint32_t>{0, 1, 2}));
    EXPECT_EQ(seq43, (std::vector<std::uint32_t>{0, 1}));
    EXPECT_EQ(watcher.stats().lost, 0u);
}

TEST_F(socket_receive, the_process_stays_in_its_own_namespace)
{
    const auto before = run_output("readlink /proc/thread-self/ns/net");
    auto watcher = open_socket({41});
    EXPECT_EQ(run_output("readlink /proc/thread-self/ns/net"), before);
    // The socket lives in the test namespace: traffic there reaches it.
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    EXPECT_EQ(collect(watcher, 1).size(), 1u);
}

TEST_F(socket_receive, blocking_and_non_blocking_receive)
{
    auto watcher = open_socket({41});
    auto empty = watcher.try_receive();
    ASSERT_FALSE(empty);
    EXPECT_EQ(empty.error(), net::error::would_block);

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    auto blocking = watcher.receive();
    ASSERT_TRUE(blocking) << blocking.error().message();
    ASSERT_EQ(blocking.value().packet_count(), 1u);
    EXPECT_EQ((*blocking.value().begin()).value().prefix(), "DENIED udp");

    udp.send_udp("127.0.0.1", 9, 2);
    std::size_t drained = 0;
    // Drain the way a poll() loop would; the kernel has queued both by now
    // unless it is still flushing, so retry a bounded number of times.
    for (int attempt = 0; attempt < 200 && drained < 2; ++attempt) {
        auto next = watcher.try_receive();
        if (next)
            drained += next.value().packet_count();
        else {
            ASSERT_EQ(next.error(), net::error::would_block);
            ::usleep(10000);
        }
    }
    EXPECT_EQ(drained, 2u);
}

// Memory for a receive buffer is found before anything is read: a receive
// that finds none takes nothing, and the datagram waits for the next one.
TEST_F(socket_receive, a_receive_without_memory_for_its_buffer_takes_nothing)
{
    const auto opts = options_for({41});
    auto socket = open_socket({41});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 2); // queue threshold 1: two datagrams
    const auto held = socket.receive(); // keeps the pool's buffer
    ASSERT_TRUE(held) << held.error().message();
    const boost::system::error_code no_memory(ENOMEM, boost::system::generic_category());
    {
        failing_allocations no_buffer(datagram_capacity(opts));
        const auto polled = socket.try_receive();
        ASSERT_FALSE(polled);
        EXPECT_EQ(polled.error(), no_memory);
        EXPECT_NE(polled.error(), condition::overrun) << "nothing was lost";
        const auto blocking = socket.receive();
        ASSERT_FALSE(blocking);
        EXPECT_EQ(blocking.error(), no_memory);
        std::optional<boost::system::error_code> completed;
        socket.async_receive([&](boost::system::error_code error, batch) { completed = error; });
        io.run();
        ASSERT_TRUE(completed.has_value());
        EXPECT_EQ(*completed, no_memory);
        EXPECT_EQ(no_buffer.failed(), 3u);
    }
    const auto next = socket.receive();
    ASSERT_TRUE(next) << next.error().message();
    EXPECT_EQ(next.value().packet_count(), 1u);
    EXPECT_EQ(next.value().lost_before(), 0u);
    EXPECT_EQ(socket.stats().packets, 2u);
    EXPECT_EQ(socket.stats().lost, 0u);
}

// A consumer that held many batches at once leaves as many buffers in the
// pool; they can be given back, and the socket goes on receiving.
TEST_F(socket_receive, spare_receive_buffers_are_given_back_on_request)
{
    auto socket = open_socket({41});
    EXPECT_EQ(socket.release_spare_buffers(), 0u);
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 4); // queue threshold 1: four datagrams
    {
        std::vector<batch> held;
        while (held.size() < 4) {
            auto next = socket.receive();
            ASSERT_TRUE(next) << next.error().message();
            held.push_back(std::move(next).value());
        }
        EXPECT_EQ(socket.release_spare_buffers(), 0u) << "every buffer is held";
    }
    EXPECT_EQ(socket.release_spare_buffers(), 4u);
    EXPECT_EQ(socket.release_spare_buffers(), 0u);
    udp.send_udp("127.0.0.1", 9, 1);
    const auto next = socket.receive();
    ASSERT_TRUE(next) << next.error().message();
    EXPECT_EQ(next.value().packet_count(), 1u);
    EXPECT_EQ(socket.stats().lost, 0u);
}

TEST_F(socket_receive, global_sequence_numbers_count_per_namespace_from_one)
{
    auto opts = options_for({41});
    opts.global_sequence_numbers = true;
    auto watcher = nflog::socket::open(io, opts);
    ASSERT_TRUE(watcher) << watcher.error().message();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 2);
    std::vector<std::uint32_t> global;
    for (int datagrams = 0; global.size() < 2 && datagrams < 2; ++datagrams) {
        auto received = watcher.value().receive();
        ASSERT_TRUE(received);
        for (const auto& item : received.value())
            if (item && item.value().seq_global())
                global.push_back(*item.value().seq_global());
    }
    EXPECT_EQ(global, (std::vector<std::uint32_t>{1, 2}));
}

// Conntrack data needs nf_conntrack_netlink in the kernel; without it the
// kernel refuses the flag, and open says so instead of binding without it.
// Only the kernel may send to a reader: a forged event from another
// socket of the namespace (root there, as a container's root is) is
// refused at the sender, and the reader gets the real events only.
TEST_F(socket_receive, a_datagram_from_another_socket_never_reaches_the_reader)
{
    auto reader = open_socket({41});
    sockaddr_nl address{};
    socklen_t address_length = sizeof address;
    ASSERT_EQ(::getsockname(reader.native_socket().native_handle(), reinterpret_cast<sockaddr*>(&address), &address_length), 0);

    namespace_socket forger(netns->path(), AF_NETLINK, SOCK_RAW, NETLINK_NETFILTER);
    using namespace nflog::test::packets;
    const auto forged = packet_message(
        AF_INET, 41, concat({header_attribute(0x0800, 3), prefix_attribute("FORGED")}));
    sockaddr_nl target{};
    target.nl_family = AF_NETLINK;
    target.nl_pid = address.nl_pid;
    const auto sent = ::sendto(forger.fd(), forged.data(), forged.size(), 0, reinterpret_cast<const sockaddr*>(&target),
                               sizeof target);
    EXPECT_EQ(sent, -1) << "a forged datagram was accepted for the reader";
    EXPECT_EQ(errno, ECONNREFUSED);

    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    const auto seen = collect(reader, 1);
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].prefix, "DENIED udp");
    EXPECT_EQ(reader.stats().malformed, 0u);
}

TEST_F(socket_receive, conntrack_data_or_a_clear_refusal)
{
    // A ct expression makes the namespace track connections at all.
    netns->load_ruleset("table inet nflogct {\n chain c {\n type filter hook output priority -150\n ct state new counter\n }\n}");
    auto opts = options_for({41});
    opts.conntrack = true;
    // Which answer this kernel owes, when its configuration is readable.
    const auto configured = [](const std::string& line) {
        return run("zcat /proc/config.gz 2>/dev/null | grep -qx '" + line + "'") == 0;
    };
    const bool glue_built_in = configured("CONFIG_NETFILTER_NETLINK_GLUE_CT=y");
    const bool glue_missing = configured("# CONFIG_NETFILTER_NETLINK_GLUE_CT is not set");
    auto opened = nflog::socket::open(io, opts);
    if (!opened) {
        EXPECT_FALSE(glue_built_in) << "the kernel has the conntrack glue built in, yet refused";
        EXPECT_EQ(opened.error(), errc::conntrack_unavailable) << opened.error().message();
        EXPECT_EQ(run("ip netns exec " + netns->name() + " grep -c . /proc/net/netfilter/nfnetlink_log"), 1)
            << "nothing stays bound after the refusal";
        std::cout << "NOTE: this kernel refuses conntrack data (no NETFILTER_NETLINK_GLUE_CT); "
                  << "only the refusal was tested, not the data\n";
        return;
    }
    EXPECT_FALSE(glue_missing) << "the kernel lacks the conntrack glue, yet accepted the flag";
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    auto received = opened.value().receive();
    ASSERT_TRUE(received);
    ASSERT_EQ(received.value().packet_count(), 1u);
    const auto packet = (*received.value().begin()).value();
    EXPECT_FALSE(packet.conntrack().empty());
    EXPECT_TRUE(packet.ct_info().has_value());
}

// A socket opened for metadata has small buffers; copying packets later
// must not cut the datagrams that now carry them.
TEST_F(socket_receive, settings_for_larger_datagrams_grow_the_receive_buffers)
{
    auto opts = options_for({41});
    opts.mode = copy_mode::meta;
    opts.nlbufsiz = 4096;
    opts.adaptive_batching = false;
    auto opened = socket::open(io, opts);
    ASSERT_TRUE(opened) << opened.error().message();
    auto watcher = std::move(opened).value();
    constexpr std::size_t udp_payload = 20000;
    ASSERT_LT(datagram_capacity(opts), udp_payload) << "the test needs a packet larger than the first buffers";

    group_settings copy_packets;
    copy_packets.mode = copy_mode::packet;
    ASSERT_TRUE(watcher.configure(41, copy_packets));
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1, udp_payload);
    auto received = watcher.receive();
    ASSERT_TRUE(received) << received.error().message();
    EXPECT_FALSE(received.value().truncated());
    EXPECT_EQ(received.value().malformed(), 0u);
    ASSERT_EQ(received.value().packet_count(), 1u);
    EXPECT_EQ((*received.value().begin()).value().payload().size(), 20u + 8u + udp_payload);
    EXPECT_EQ(watcher.stats().truncated, 0u);
}

// NFULNL_COPY_NONE does not silence a group: the kernel sends the
// metadata, as for NFULNL_COPY_META. The docs of copy_mode::none say so.
TEST_F(socket_receive, copy_mode_none_still_sends_the_metadata)
{
    auto opts = options_for({41});
    opts.mode = copy_mode::none;
    auto opened = socket::open(io, opts);
    ASSERT_TRUE(opened) << opened.error().message();
    auto watcher = std::move(opened).value();
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1);
    auto received = watcher.receive();
    ASSERT_TRUE(received) << received.error().message();
    ASSERT_EQ(received.value().packet_count(), 1u);
    const auto& packet = (*received.value().begin()).value();
    EXPECT_EQ(packet.prefix(), "DENIED udp");
    EXPECT_FALSE(packet.has(NFULA_PAYLOAD));
}

// The socket sizes its buffers from the options so that nothing is cut, and
// relies on the kernel's MSG_TRUNC to say so if a datagram ever is: check
// that netlink really reports the full length of a datagram it cut.
TEST_F(socket_receive, the_kernel_reports_the_real_length_of_a_cut_datagram)
{
    auto watcher = open_socket({41});
    namespace_socket udp(netns->path(), AF_INET, SOCK_DGRAM);
    udp.send_udp("127.0.0.1", 9, 1, 200);
    std::array<std::byte, 32> small{};
    const auto length = watcher.native_socket().receive(net::buffer(small), MSG_TRUNC);
    EXPECT_GT(length, small.size());
    EXPECT_GT(length, 200u) << "the datagram carries the whole packet";
}

} // namespace
