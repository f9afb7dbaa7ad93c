#include "corpus.hpp"

#include "support/pcap_reader.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_log.h>
#include <linux/netlink.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace nflog::bench {
namespace {

constexpr std::uint32_t linktype_netlink = 253;
constexpr std::size_t cooked_header_size = 16;
constexpr std::uint16_t nflog_packet = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET;
// Netlink headers are read in place by the C baselines, so every datagram
// starts where a receive buffer would: suitably aligned.
constexpr std::size_t datagram_alignment = 16;

struct message_census {
    std::size_t packets = 0;
    std::vector<std::uint16_t> groups;
};

// Counted from the raw headers rather than with any decoder under test, so the
// message count a result is divided by does not depend on who is measured.
message_census count_packets(std::span<const std::byte> datagram)
{
    message_census census;
    std::size_t at = 0;
    while (datagram.size() - at >= sizeof(nlmsghdr)) {
        const auto length = detail::load<std::uint32_t>(datagram.data() + at);
        const auto type = detail::load<std::uint16_t>(datagram.data() + at + 4);
        if (length < sizeof(nlmsghdr) || length > datagram.size() - at || type == NLMSG_DONE)
            break;
        if (type == nflog_packet && length >= NLMSG_LENGTH(sizeof(nfgenmsg))) {
            ++census.packets;
            census.groups.push_back(detail::load_be<std::uint16_t>(datagram.data() + at + NLMSG_HDRLEN + 2));
        }
        at += std::min<std::size_t>(NLMSG_ALIGN(length), datagram.size() - at);
    }
    return census;
}

// A fixed, library-independent sequence, so every build shuffles alike.
class splitmix64 {
public:
    explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}
    std::uint64_t operator()() noexcept
    {
        std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ull);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

private:
    std::uint64_t state_;
};

} // namespace

corpus corpus::load(const std::string& path, std::size_t copies)
{
    const auto capture = test::read_pcap(path);
    if (capture.linktype != linktype_netlink)
        throw std::runtime_error(path + ": not a NETLINK (253) capture");

    std::vector<std::span<const std::byte>> recorded;
    corpus out;
    std::vector<std::size_t> packets_per_datagram;
    for (const auto& record : capture.records) {
        if (record.data.size() < cooked_header_size)
            continue;
        const auto datagram = std::span<const std::byte>(record.data).subspan(cooked_header_size);
        auto census = count_packets(datagram);
        if (census.packets == 0)
            continue;
        recorded.push_back(datagram);
        packets_per_datagram.push_back(census.packets);
        out.groups_.insert(out.groups_.end(), census.groups.begin(), census.groups.end());
    }
    if (recorded.empty())
        throw std::runtime_error(path + ": no datagram carries an NFLOG packet");
    std::sort(out.groups_.begin(), out.groups_.end());
    out.groups_.erase(std::unique(out.groups_.begin(), out.groups_.end()), out.groups_.end());
    out.recorded_ = recorded.size();

    // Replayed in capture order the same few datagrams would repeat with a
    // short period that branch predictors learn; a shuffle is closer to a mix
    // of rules firing.
    std::vector<std::size_t> order;
    order.reserve(recorded.size() * copies);
    for (std::size_t copy = 0; copy < copies; ++copy)
        for (std::size_t index = 0; index < recorded.size(); ++index)
            order.push_back(index);
    splitmix64 random(0x6e666c6f67ull);
    for (std::size_t i = order.size(); i > 1; --i)
        std::swap(order[i - 1], order[random() % i]);

    std::size_t size = 0;
    for (const auto index : order)
        size += (recorded[index].size() + datagram_alignment - 1) / datagram_alignment * datagram_alignment;
    // operator new aligns to max_align_t, which covers datagram_alignment.
    static_assert(alignof(std::max_align_t) >= datagram_alignment);
    out.arena_.resize(size);
    out.datagrams_.reserve(order.size());
    std::size_t at = 0;
    for (const auto index : order) {
        const auto datagram = recorded[index];
        std::memcpy(out.arena_.data() + at, datagram.data(), datagram.size());
        out.datagrams_.emplace_back(out.arena_.data() + at, datagram.size());
        out.messages_ += packets_per_datagram[index];
        out.bytes_ += datagram.size();
        at += (datagram.size() + datagram_alignment - 1) / datagram_alignment * datagram_alignment;
    }
    return out;
}

} // namespace nflog::bench
