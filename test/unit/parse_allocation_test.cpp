// The parsing hot path never allocates: walking datagrams, parsing every
// packet and calling every getter happen under an allocation counter.
#include <nflog/packet.hpp>

#include "support/counting_allocator.hpp"
#include "support/packet_fixtures.hpp"

#include <gtest/gtest.h>

#include <new>

namespace {

using namespace nflog;
using namespace nflog::test;

// Folds everything a getter returns into one number, so nothing can be
// optimised away and the test can check the walk really saw the data.
struct checksum {
    std::uint64_t value = 0;

    void add(std::uint64_t v) noexcept { value = value * 1'000'003u + v; }
    void add(std::span<const std::byte> bytes) noexcept
    {
        add(bytes.size());
        for (const auto b : bytes)
            add(static_cast<std::uint64_t>(b));
    }
    void add(std::string_view text) noexcept { add(std::as_bytes(std::span(text))); }
    template <class T>
    void add(const std::optional<T>& v) noexcept
    {
        add(v.has_value() ? static_cast<std::uint64_t>(*v) + 1 : 0);
    }
};

void touch_every_getter(const packet_view& packet, checksum& sum) noexcept
{
    sum.add(packet.group());
    sum.add(packet.family());
    sum.add(packet.hw_protocol());
    sum.add(packet.hook());
    sum.add(packet.mark());
    if (const auto at = packet.timestamp())
        sum.add(static_cast<std::uint64_t>(at->time_since_epoch().count()));
    sum.add(packet.indev());
    sum.add(packet.outdev());
    sum.add(packet.physindev());
    sum.add(packet.physoutdev());
    sum.add(packet.hwaddr());
    sum.add(packet.payload());
    sum.add(packet.prefix());
    sum.add(packet.uid());
    sum.add(packet.gid());
    sum.add(packet.seq());
    sum.add(packet.seq_global());
    sum.add(packet.hwtype());
    sum.add(packet.hwheader());
    sum.add(packet.hwlen());
    sum.add(packet.conntrack());
    sum.add(packet.ct_info());
    sum.add(packet.vlan_proto());
    sum.add(packet.vlan_tci());
    sum.add(packet.l2hdr());
    for (std::uint16_t type = 0; type <= packet_view::max_attribute + 1; ++type) {
        sum.add(packet.has(type));
        sum.add(packet.bytes(type));
    }
    sum.add(packet.message());
}

void walk_packets(std::span<const std::byte> datagram, checksum& sum) noexcept
{
    for (const auto& item : packet_range(datagram)) {
        if (item)
            touch_every_getter(item.value(), sum);
        else
            sum.add(static_cast<std::uint64_t>(item.error().value()));
    }
}

void walk_messages_and_attributes(std::span<const std::byte> datagram, checksum& sum) noexcept
{
    for (const auto& message : netlink::message_range(datagram)) {
        if (!message) {
            sum.add(static_cast<std::uint64_t>(message.error().value()));
            continue;
        }
        if (message.value().is_error()) {
            if (const auto reply = netlink::parse_error(message.value()))
                sum.add(static_cast<std::uint64_t>(reply.value().error));
            continue;
        }
        const auto payload = message.value().payload();
        if (payload.size() < sizeof(nfgenmsg))
            continue;
        for (const auto& attribute : netlink::attribute_range(payload.subspan(sizeof(nfgenmsg)))) {
            if (!attribute)
                break;
            sum.add(attribute.value().type());
            sum.add(attribute.value().as_string());
            if (const auto value = attribute.value().as_big_endian<std::uint32_t>())
                sum.add(value.value());
            for (const auto& inner : attribute.value().nested())
                sum.add(inner ? inner.value().raw_type() : 0u);
        }
    }
}

TEST(parse_allocation, the_counter_sees_allocations)
{
    // A direct call, not a new-expression: compilers may elide the latter.
    const allocation_scope scope;
    void* memory = ::operator new(16);
    const auto counted = scope.count();
    ::operator delete(memory);
    EXPECT_EQ(counted, 1u);
}

TEST(parse_allocation, walking_and_parsing_every_fixture_allocates_nothing)
{
    const auto corpus = packet_fixtures();
    checksum sum;
    std::size_t allocations = 0;
    {
        const allocation_scope scope;
        for (const auto& [name, datagram] : corpus) {
            walk_packets(datagram, sum);
            walk_messages_and_attributes(datagram, sum);
        }
        allocations = scope.count();
    }
    EXPECT_EQ(allocations, 0u);
    EXPECT_NE(sum.value, 0u);
}

TEST(parse_allocation, a_large_batch_allocates_nothing)
{
    using namespace fixture_parts;
    bytes batch;
    for (std::uint16_t group = 0; group < 200; ++group) {
        const auto message = packet(every_attribute(), group);
        batch.insert(batch.end(), message.begin(), message.end());
    }
    const auto done = done_message();
    batch.insert(batch.end(), done.begin(), done.end());

    checksum sum;
    std::size_t packets = 0;
    std::size_t allocations = 0;
    {
        const allocation_scope scope;
        for (const auto& item : packet_range(batch)) {
            if (!item)
                continue;
            ++packets;
            touch_every_getter(item.value(), sum);
        }
        allocations = scope.count();
    }
    EXPECT_EQ(allocations, 0u);
    EXPECT_EQ(packets, 200u);
    EXPECT_NE(sum.value, 0u);
}

} // namespace
