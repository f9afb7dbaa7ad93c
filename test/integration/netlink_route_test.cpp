#include <nflog/netlink/protocol.hpp>

#include <nflog/detail/netns.hpp>
#include <nflog/netlink/attribute.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/netlink/socket_options.hpp>

#include "support/netns.hpp"

#include <boost/asio/io_context.hpp>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>

#include <array>
#include <set>
#include <string>

namespace {

using namespace nflog;
using namespace nflog::test;

// The protocol type is generic: the same classes dump the links of a
// namespace over NETLINK_ROUTE.
TEST(netlink_route, dumps_the_links_of_a_namespace)
{
    NFLOG_REQUIRE_INTEGRATION();
    scoped_netns netns;
    ASSERT_EQ(netns.exec("ip link add nflogv0 type veth peer name nflogv1"), 0);

    auto fd = detail::open_netlink_socket(NETLINK_ROUTE, netns.path(), -1);
    ASSERT_TRUE(fd) << fd.error().message();
    net::io_context io;
    netlink::raw_protocol::socket route(io, netlink::raw_protocol::route(), fd.value());
    route.bind(netlink::endpoint(netlink::raw_protocol::route()));
    route.set_option(netlink::ext_ack(true));
    netlink::ext_ack enabled;
    route.get_option(enabled);
    EXPECT_TRUE(enabled.value());

    netlink::endpoint local;
    local = route.local_endpoint();
    EXPECT_NE(local.port_id(), 0u) << "the kernel assigns a port id";

    struct {
        nlmsghdr header;
        ifinfomsg info;
    } request{};
    request.header.nlmsg_len = sizeof request;
    request.header.nlmsg_type = RTM_GETLINK;
    request.header.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    request.header.nlmsg_seq = 1;
    request.info.ifi_family = AF_UNSPEC;
    route.send_to(net::buffer(&request, sizeof request), netlink::endpoint(netlink::raw_protocol::route()));

    std::set<std::string> names;
    std::array<std::byte, 32768> buffer{};
    bool done = false;
    for (int datagrams = 0; !done && datagrams < 100; ++datagrams) {
        netlink::endpoint sender;
        const auto received = route.receive_from(net::buffer(buffer), sender);
        EXPECT_EQ(sender.port_id(), 0u) << "dumps come from the kernel";
        const std::span<const std::byte> datagram(buffer.data(), received);
        std::size_t messages = 0;
        for (const auto& item : netlink::message_range(datagram)) {
            ASSERT_TRUE(item) << item.error().message();
            ++messages;
            const auto& message = item.value();
            ASSERT_EQ(message.type(), RTM_NEWLINK);
            const auto attributes = message.payload().subspan(NLMSG_ALIGN(sizeof(ifinfomsg)));
            for (const auto& attribute : netlink::attribute_range(attributes))
                if (attribute && attribute.value().type() == IFLA_IFNAME)
                    names.insert(std::string(attribute.value().as_string()));
        }
        done = netlink::contains_done(datagram);
        EXPECT_TRUE(done || messages > 0);
    }
    EXPECT_TRUE(done);
    EXPECT_EQ(names, (std::set<std::string>{"lo", "nflogv0", "nflogv1"}));
}

} // namespace
