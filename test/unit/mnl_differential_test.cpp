// Differential test: nflog's message walk, attribute walk and packet view
// against libmnl on the fixtures and on seeded random mutations of them.
#include <nflog/packet.hpp>

#include "support/mnl_differential.hpp"
#include "support/packet_fixtures.hpp"
#include "support/pcap_reader.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <random>

namespace {

using namespace nflog;
using namespace nflog::test;

const fixture& fixture_named(const std::vector<fixture>& corpus, std::string_view name)
{
    const auto found = std::find_if(corpus.begin(), corpus.end(), [&](const fixture& f) { return f.name == name; });
    if (found == corpus.end())
        throw std::invalid_argument("no fixture " + std::string(name));
    return *found;
}

/// The first message of a datagram in aligned storage, cut to nlmsg_len.
struct first_message {
    explicit first_message(const bytes& datagram)
        : copy(std::span(datagram).first(detail::load<std::uint32_t>(datagram.data())),
               detail::align4(detail::load<std::uint32_t>(datagram.data())))
    {
    }
    mnl::aligned_copy copy;
};

TEST(mnl_differential, every_fixture_agrees_with_libmnl)
{
    mnl::tally counts;
    for (const auto& [name, datagram] : packet_fixtures())
        EXPECT_EQ(mnl::compare_datagram(datagram, counts), "") << name;
    EXPECT_GE(counts.outcomes["parsed"], 30u);
    EXPECT_EQ(counts.padding_differences, 1u) << "only attribute-into-padding reaches past nlmsg_len";
    EXPECT_GE(counts.silent_stops, 5u);
}

TEST(mnl_differential, recorded_kernel_datagrams_agree_with_libmnl)
{
    // Each record starts with the 16-byte cooked header libpcap writes for nlmon.
    constexpr std::size_t cooked_header = 16;
    const auto capture = read_pcap(std::string(NFLOG_TEST_DATA_DIR) + "/nflog-netlink.pcap");
    ASSERT_GE(capture.records.size(), 20u);
    mnl::tally counts;
    for (std::size_t i = 0; i < capture.records.size(); ++i) {
        const auto datagram = std::span<const std::byte>(capture.records[i].data).subspan(cooked_header);
        EXPECT_EQ(mnl::compare_datagram(datagram, counts), "") << "record " << i;
    }
    EXPECT_GE(counts.outcomes["parsed"], 20u);
    EXPECT_EQ(counts.padding_differences, 0u) << "the kernel pads every message";
}

TEST(mnl_differential, libmnl_walks_into_the_padding_where_nflog_stops)
{
    const auto corpus = packet_fixtures();
    const first_message message(fixture_named(corpus, "attribute-into-padding").datagram);
    ASSERT_EQ(message.copy.bytes().size(), 33u);

    const auto reference = mnl::libmnl_attributes(message.copy, sizeof(nfgenmsg));
    ASSERT_EQ(reference.visited.size(), 2u);
    EXPECT_EQ(reference.visited[1], (mnl::visited_attribute{NFULA_PAYLOAD, 28, 7})) << "ends at 35, past nlmsg_len 33";
    EXPECT_FALSE(reference.stopped_early);

    const auto parsed = packet_view::parse(netlink::message_view(message.copy.bytes()));
    EXPECT_EQ(parsed.error(), errc::bad_attribute_length);
}

TEST(mnl_differential, libmnl_stops_silently_where_nflog_reports_an_error)
{
    const auto corpus = packet_fixtures();
    const first_message message(fixture_named(corpus, "attribute-length-2").datagram);

    const auto reference = mnl::libmnl_attributes(message.copy, sizeof(nfgenmsg));
    ASSERT_EQ(reference.visited.size(), 2u) << "packet header and prefix, then nothing";
    EXPECT_TRUE(reference.stopped_early);

    const auto walk = mnl::nflog_attributes(message.copy.bytes().subspan(20), message.copy.data());
    EXPECT_EQ(walk.visited, reference.visited);
    ASSERT_TRUE(walk.error.has_value());
    EXPECT_EQ(*walk.error, errc::bad_attribute_length);
    EXPECT_EQ(packet_view::parse(netlink::message_view(message.copy.bytes())).error(), errc::bad_attribute_length);
}

TEST(mnl_differential, libmnl_accepts_a_message_length_of_2_to_the_31)
{
    // mnl_nlmsg_ok casts nlmsg_len to int: 0x80000000 turns negative and
    // passes "length <= bytes left". Only the header is read here, so asking
    // is safe; walking on with mnl_nlmsg_next would not be.
    auto datagram = message(packet_message_type, nfgen(2, 1));
    const std::uint32_t huge = 0x80000000u;
    std::memcpy(datagram.data(), &huge, sizeof huge);
    const mnl::aligned_copy copy(datagram, datagram.size());
    EXPECT_TRUE(mnl_nlmsg_ok(copy.header(), static_cast<int>(datagram.size())));

    const auto first = *netlink::message_range(datagram).begin();
    EXPECT_EQ(first.error(), errc::bad_message_length);
}

TEST(mnl_differential, duplicates_keep_the_last_like_a_libmnl_table)
{
    const auto corpus = packet_fixtures();
    const first_message message(fixture_named(corpus, "duplicates").datagram);
    const auto reference = mnl::libmnl_attributes(message.copy, sizeof(nfgenmsg));
    const auto parsed = packet_view::parse(netlink::message_view(message.copy.bytes()));
    ASSERT_TRUE(parsed);
    ASSERT_NE(reference.table[NFULA_MARK], nullptr);
    EXPECT_EQ(parsed.value().bytes(NFULA_MARK).data(), static_cast<const std::byte*>(mnl_attr_get_payload(reference.table[NFULA_MARK])));
    EXPECT_EQ(parsed.value().mark(), 2u);
    EXPECT_EQ(parsed.value().vlan_tci(), 3u);
    EXPECT_FALSE(parsed.value().vlan_proto().has_value());
}

// ---------------------------------------------------------------------------
// Seeded mutations. std::mt19937 is specified bit for bit, and only its raw
// output is used (distributions differ between standard libraries), so every
// platform runs the same inputs.

class mutator {
public:
    explicit mutator(const std::vector<fixture>& corpus) : corpus_(corpus) {}

    bytes next()
    {
        auto data = corpus_[pick(corpus_.size())].datagram;
        for (auto rounds = 1 + pick(3); rounds > 0; --rounds)
            mutate(data);
        return data;
    }

private:
    std::size_t pick(std::size_t bound) { return bound == 0 ? 0 : random_() % bound; }

    // Lengths that sit on the edges of the checks.
    std::uint16_t edge_length(std::size_t around)
    {
        const std::uint32_t candidates[] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 12, 15, 16, 17, 20, 0xffff,
                                            static_cast<std::uint32_t>(around), static_cast<std::uint32_t>(around) + 1,
                                            static_cast<std::uint32_t>(around) - 1, static_cast<std::uint32_t>(pick(0x10000))};
        return static_cast<std::uint16_t>(candidates[pick(std::size(candidates))]);
    }

    void mutate(bytes& data)
    {
        if (data.empty()) {
            data = corpus_[pick(corpus_.size())].datagram;
            return;
        }
        switch (pick(9)) {
        case 0: // flip bits of one byte
            data[pick(data.size())] ^= static_cast<std::byte>(1 + pick(255));
            break;
        case 1: { // forge an attribute length (nla_len sits on 4-byte boundaries)
            const auto at = pick(data.size() / 4) * 4;
            if (at + 2 <= data.size()) {
                const auto value = edge_length(data.size() - at);
                std::memcpy(data.data() + at, &value, 2);
            }
            break;
        }
        case 2: { // forge an attribute type, flags included
            const auto at = pick(data.size() / 4) * 4 + 2;
            if (at + 2 <= data.size()) {
                const std::uint16_t types[] = {0, 1, 2, 3, 8, 10, 20, 21, 22, NLA_F_NESTED | 2, NLA_F_NET_BYTEORDER | 1, 0xffff};
                const auto value = types[pick(std::size(types))];
                std::memcpy(data.data() + at, &value, 2);
            }
            break;
        }
        case 3: { // forge nlmsg_len
            const auto value = static_cast<std::uint32_t>(edge_length(data.size()));
            std::memcpy(data.data(), &value, std::min<std::size_t>(4, data.size()));
            break;
        }
        case 4: // truncate
            data.resize(pick(data.size()));
            break;
        case 5: { // splice with another fixture
            const auto& other = corpus_[pick(corpus_.size())].datagram;
            const auto keep = pick(data.size() + 1);
            const auto from = pick(other.size() + 1);
            data.resize(keep);
            data.insert(data.end(), other.begin() + static_cast<std::ptrdiff_t>(from), other.end());
            break;
        }
        case 6: { // insert a few bytes
            const auto at = static_cast<std::ptrdiff_t>(pick(data.size() + 1));
            data.insert(data.begin() + at, 1 + pick(8), static_cast<std::byte>(pick(256)));
            break;
        }
        case 7: { // erase a few bytes
            const auto at = pick(data.size());
            const auto count = std::min(1 + pick(8), data.size() - at);
            data.erase(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + count));
            break;
        }
        default: { // repeat an aligned chunk (duplicated attributes)
            const auto at = pick(data.size() / 4) * 4;
            const auto count = std::min<std::size_t>(4 * (1 + pick(6)), data.size() - at);
            const bytes chunk(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + count));
            data.insert(data.begin() + static_cast<std::ptrdiff_t>(at), chunk.begin(), chunk.end());
            break;
        }
        }
    }

    const std::vector<fixture>& corpus_;
    std::mt19937 random_{20240601u};
};

TEST(mnl_differential, random_mutations_agree_with_libmnl)
{
    constexpr int rounds = 100'000;
    const auto corpus = packet_fixtures();
    mutator mutations(corpus);
    mnl::tally counts;
    for (int round = 0; round < rounds; ++round) {
        const auto datagram = mutations.next();
        const auto difference = mnl::compare_datagram(datagram, counts);
        ASSERT_EQ(difference, "") << "round " << round;
    }
    // The mutations must reach every verdict, or the agreement above proves little.
    for (const auto expected : {errc::short_attribute, errc::bad_attribute_length, errc::bad_attribute_size, errc::missing_packet_header,
                                errc::short_nfgenmsg, errc::not_a_packet}) {
        EXPECT_GE(counts.outcomes[make_error_code(expected).message()], 20u) << make_error_code(expected).message();
    }
    EXPECT_GE(counts.outcomes["parsed"], 1000u);
    EXPECT_GE(counts.padding_differences, 20u);
    EXPECT_GE(counts.silent_stops, 100u);
    EXPECT_GE(counts.nested_walks_compared, 10'000u);
    EXPECT_GE(counts.libmnl_negative_lengths, 1u);
}

} // namespace
