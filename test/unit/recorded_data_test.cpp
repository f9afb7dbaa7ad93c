// Real kernel datagrams, recorded by scripts/record-fixtures, against what the
// recorder knew it had sent and configured (test/data/*.expect.json).
#include <nflog/packet.hpp>

#include <nflog/inet.hpp>
#include <nflog/netlink/message.hpp>

#include "support/flat_json.hpp"
#include "support/pcap_reader.hpp"

#include <boost/asio/ip/address.hpp>
#include <gtest/gtest.h>

#include <linux/netlink.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;

constexpr std::uint32_t linktype_netlink = 253;
constexpr std::uint32_t linktype_nflog = 239;
constexpr std::size_t cooked_header_size = 16;
constexpr std::uint16_t arphrd_netlink = 824;
constexpr std::uint16_t netlink_netfilter = 12;

std::string data_path(std::string_view name)
{
    return std::string(NFLOG_TEST_DATA_DIR) + "/" + std::string(name);
}

// --- the expectation file ---------------------------------------------------

const json_value* field(const json_object& object, std::string_view key)
{
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &it->second;
}

std::int64_t integer(const json_object& object, std::string_view key)
{
    const auto* value = field(object, key);
    if (value == nullptr || !std::holds_alternative<std::int64_t>(*value))
        throw std::runtime_error("expectation without integer '" + std::string(key) + "'");
    return std::get<std::int64_t>(*value);
}

bool is_null(const json_value& value) { return std::holds_alternative<std::nullptr_t>(value); }

struct expectations {
    json_object capture;
    std::vector<json_object> records;              ///< indexed by record number
    std::vector<std::vector<json_object>> packets; ///< per record, in message order
};

expectations load_expectations(std::string_view name)
{
    expectations out;
    for (auto& line : read_flat_json(data_path(name))) {
        const auto& type = std::get<std::string>(line.at("type"));
        if (type == "capture") {
            out.capture = std::move(line);
        } else if (type == "record") {
            if (integer(line, "record") != static_cast<std::int64_t>(out.records.size()))
                throw std::runtime_error("records out of order in " + std::string(name));
            out.records.push_back(std::move(line));
            out.packets.emplace_back();
        } else if (type == "packet") {
            const auto record = integer(line, "record");
            if (out.packets.empty() || record != static_cast<std::int64_t>(out.packets.size()) - 1 ||
                integer(line, "index") != static_cast<std::int64_t>(out.packets.back().size()))
                throw std::runtime_error("packet line out of order in " + std::string(name));
            out.packets.back().push_back(std::move(line));
        } else {
            throw std::runtime_error("unknown line type " + type);
        }
    }
    return out;
}

// --- comparisons --------------------------------------------------------------

std::string to_hex(std::span<const std::byte> bytes)
{
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (const auto b : bytes) {
        out += digits[std::to_integer<unsigned>(b) >> 4];
        out += digits[std::to_integer<unsigned>(b) & 0xf];
    }
    return out;
}

// A missing key is not checked; null means the value must be absent.
template <class T>
void check(const json_object& expected, std::string_view key, const std::optional<T>& actual)
{
    const auto* value = field(expected, key);
    if (value == nullptr)
        return;
    if (is_null(*value)) {
        EXPECT_FALSE(actual.has_value()) << key << " should be absent, is " << static_cast<std::int64_t>(*actual);
        return;
    }
    ASSERT_TRUE(actual.has_value()) << key << " is missing";
    EXPECT_EQ(static_cast<std::int64_t>(*actual), std::get<std::int64_t>(*value)) << key;
}

void check_bytes(const json_object& expected, std::string_view key, std::span<const std::byte> actual)
{
    const auto* value = field(expected, key);
    if (value == nullptr)
        return;
    if (is_null(*value))
        EXPECT_TRUE(actual.empty()) << key << " should be absent, is " << to_hex(actual);
    else
        EXPECT_EQ(to_hex(actual), std::get<std::string>(*value)) << key;
}

void check_flow(const packet_view& packet, const json_object& expected)
{
    const auto flow = inet::decode(packet.payload(), packet.hw_protocol(), packet.family());
    EXPECT_EQ(inet::to_string(flow.l3), std::get<std::string>(expected.at("l3")));
    EXPECT_EQ(flow.src, boost::asio::ip::make_address(std::get<std::string>(expected.at("src"))));
    EXPECT_EQ(flow.dst, boost::asio::ip::make_address(std::get<std::string>(expected.at("dst"))));
    check(expected, "protocol", flow.protocol);
    check(expected, "src_port", flow.src_port);
    check(expected, "dst_port", flow.dst_port);
    check(expected, "icmp_type", flow.icmp_type);
    check(expected, "icmp_code", flow.icmp_code);
    if (const auto* truncated = field(expected, "truncated")) {
        EXPECT_EQ(flow.truncated, std::get<bool>(*truncated)) << "truncated";
        // The kernel wrote these bytes: a cut copy is no malformation.
        EXPECT_EQ(flow.error, inet::decode_error::none) << inet::to_string(flow.error);
    }
    EXPECT_FALSE(flow.family_mismatch);
    EXPECT_FALSE(flow.fragment);
}

void check_packet(const packet_view& packet, const json_object& expected)
{
    EXPECT_EQ(packet.group(), integer(expected, "group"));
    EXPECT_EQ(packet.family(), integer(expected, "family"));
    EXPECT_EQ(packet.hook(), integer(expected, "hook"));
    EXPECT_EQ(packet.hw_protocol(), integer(expected, "hw_protocol"));
    EXPECT_EQ(packet.prefix(), std::get<std::string>(expected.at("prefix")));
    // NFULA_PREFIX is always sent, even for an empty prefix.
    EXPECT_TRUE(packet.has(NFULA_PREFIX));
    check(expected, "mark", packet.mark());
    check(expected, "indev", packet.indev());
    check(expected, "outdev", packet.outdev());
    check(expected, "uid", packet.uid());
    check(expected, "gid", packet.gid());
    check(expected, "seq", packet.seq());
    check(expected, "seq_global", packet.seq_global());
    check(expected, "hwtype", packet.hwtype());
    check(expected, "hwlen", packet.hwlen());
    check_bytes(expected, "hwaddr", packet.hwaddr());
    check_bytes(expected, "hwheader", packet.hwheader());
    EXPECT_EQ(packet.timestamp().has_value(), std::get<bool>(expected.at("timestamp")));
    EXPECT_EQ(packet.payload().size(), static_cast<std::size_t>(integer(expected, "payload_len")));
    EXPECT_FALSE(packet.has(NFULA_VLAN));
    EXPECT_TRUE(packet.conntrack().empty());
    if (const auto* data = field(expected, "data")) {
        const auto& hex = std::get<std::string>(*data);
        const auto payload = packet.payload();
        ASSERT_GE(payload.size() * 2, hex.size());
        EXPECT_EQ(to_hex(payload.last(hex.size() / 2)), hex) << "application data at the end of the payload";
    }
    if (field(expected, "l3") != nullptr)
        check_flow(packet, expected);
}

// --- the netlink capture --------------------------------------------------------

struct netlink_capture {
    pcap_file pcap;
    expectations expected;

    std::span<const std::byte> datagram(std::size_t record) const
    {
        return std::span<const std::byte>(pcap.records.at(record).data).subspan(cooked_header_size);
    }
};

const netlink_capture& netlink_fixture()
{
    static const netlink_capture capture{read_pcap(data_path("nflog-netlink.pcap")),
                                         load_expectations("nflog-netlink.expect.json")};
    return capture;
}

// message_range hides NLMSG_DONE, and the tests must see it: walk the raw framing.
std::vector<std::uint16_t> raw_message_types(std::span<const std::byte> datagram)
{
    std::vector<std::uint16_t> types;
    for (std::size_t at = 0; datagram.size() - at >= sizeof(nlmsghdr);) {
        const auto length = detail::load<std::uint32_t>(datagram.data() + at);
        types.push_back(detail::load<std::uint16_t>(datagram.data() + at + 4));
        if (length < sizeof(nlmsghdr) || detail::align4(length) >= datagram.size() - at)
            break;
        at += detail::align4(length);
    }
    return types;
}

std::vector<result<packet_view>> packets_of(std::span<const std::byte> datagram)
{
    std::vector<result<packet_view>> out;
    for (const auto& item : packet_range(datagram))
        out.push_back(item);
    return out;
}

TEST(recorded_netlink_capture, every_datagram_is_described)
{
    const auto& capture = netlink_fixture();
    EXPECT_EQ(capture.pcap.linktype, linktype_netlink);
    EXPECT_EQ(integer(capture.expected.capture, "linktype"), linktype_netlink);
    ASSERT_EQ(capture.pcap.records.size(), static_cast<std::size_t>(integer(capture.expected.capture, "records")));
    ASSERT_EQ(capture.pcap.records.size(), capture.expected.records.size());
    // A re-recording that lost most of its traffic must not pass quietly.
    EXPECT_GE(capture.pcap.records.size(), 20u);
}

TEST(recorded_netlink_capture, cooked_headers_say_netfilter_netlink)
{
    for (const auto& record : netlink_fixture().pcap.records) {
        ASSERT_GE(record.data.size(), cooked_header_size + sizeof(nlmsghdr));
        EXPECT_EQ(record.original_length, record.data.size());
        EXPECT_EQ(detail::load_be<std::uint16_t>(record.data.data() + 2), arphrd_netlink);
        EXPECT_EQ(detail::load_be<std::uint16_t>(record.data.data() + 14), netlink_netfilter);
    }
}

TEST(recorded_netlink_capture, acknowledgements_and_errors)
{
    const auto& capture = netlink_fixture();
    std::size_t acks = 0;
    std::size_t errors = 0;
    for (std::size_t i = 0; i < capture.expected.records.size(); ++i) {
        const auto& record = capture.expected.records[i];
        const auto& kind = std::get<std::string>(record.at("kind"));
        if (kind == "packets")
            continue;
        SCOPED_TRACE("record " + std::to_string(i));
        const auto datagram = capture.datagram(i);
        std::vector<result<netlink::message_view>> messages;
        for (const auto& item : netlink::message_range(datagram))
            messages.push_back(item);
        ASSERT_EQ(messages.size(), 1u);
        ASSERT_TRUE(messages[0]);
        const auto reply = netlink::parse_error(messages[0].value());
        ASSERT_TRUE(reply);
        EXPECT_EQ(reply.value().error, integer(record, "errno"));
        EXPECT_EQ(reply.value().request_type, (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG);

        const auto items = packets_of(datagram);
        if (kind == "ack") {
            ++acks;
            EXPECT_TRUE(items.empty()) << "an acknowledgement is no packet";
        } else {
            ++errors;
            ASSERT_EQ(items.size(), 1u);
            ASSERT_FALSE(items[0]);
            EXPECT_EQ(items[0].error(),
                      boost::system::error_code(static_cast<int>(integer(record, "errno")), boost::system::generic_category()));
        }
    }
    EXPECT_GE(acks, 1u);
    EXPECT_GE(errors, 1u);
}

TEST(recorded_netlink_capture, packets_carry_what_was_sent)
{
    const auto& capture = netlink_fixture();
    std::size_t checked = 0;
    for (std::size_t i = 0; i < capture.expected.records.size(); ++i) {
        const auto& record = capture.expected.records[i];
        if (std::get<std::string>(record.at("kind")) != "packets")
            continue;
        SCOPED_TRACE("record " + std::to_string(i));
        const auto items = packets_of(capture.datagram(i));
        const auto& expected = capture.expected.packets[i];
        ASSERT_EQ(items.size(), static_cast<std::size_t>(integer(record, "packets")));
        ASSERT_EQ(items.size(), expected.size());
        for (std::size_t j = 0; j < items.size(); ++j) {
            SCOPED_TRACE("message " + std::to_string(j));
            ASSERT_TRUE(items[j]) << items[j].error().message();
            check_packet(items[j].value(), expected[j]);
            ++checked;
        }
    }
    EXPECT_GE(checked, 20u);
}

TEST(recorded_netlink_capture, batches_end_with_done_and_single_messages_do_not)
{
    const auto& capture = netlink_fixture();
    std::size_t batches = 0;
    for (std::size_t i = 0; i < capture.expected.records.size(); ++i) {
        const auto& record = capture.expected.records[i];
        SCOPED_TRACE("record " + std::to_string(i));
        const auto types = raw_message_types(capture.datagram(i));
        const auto packets = static_cast<std::size_t>(integer(record, "packets"));
        const bool done = std::get<bool>(record.at("done"));
        if (std::get<std::string>(record.at("kind")) != "packets") {
            EXPECT_EQ(types, std::vector<std::uint16_t>{NLMSG_ERROR});
            continue;
        }
        std::vector<std::uint16_t> wanted(packets, packet_message_type);
        if (done) {
            wanted.push_back(NLMSG_DONE);
            ++batches;
        }
        EXPECT_EQ(types, wanted);
    }
    EXPECT_GE(batches, 2u);
}

TEST(recorded_netlink_capture, kernel_messages_have_no_flags_sequence_or_port)
{
    const auto& capture = netlink_fixture();
    for (std::size_t i = 0; i < capture.expected.records.size(); ++i) {
        if (std::get<std::string>(capture.expected.records[i].at("kind")) != "packets")
            continue;
        for (const auto& item : netlink::message_range(capture.datagram(i))) {
            ASSERT_TRUE(item);
            EXPECT_EQ(item.value().flags(), 0) << "record " << i;
            EXPECT_EQ(item.value().sequence(), 0u) << "record " << i;
            EXPECT_EQ(item.value().port_id(), 0u) << "record " << i;
        }
    }
}

// The fixtures exist to cover these cases; a re-recording must keep them.
TEST(recorded_netlink_capture, covers_the_cases_it_was_recorded_for)
{
    bool input = false, output = false, ipv4 = false, ipv6 = false, meta = false, cut = false;
    bool marked = false, unprivileged = false, sequenced = false, empty_prefix = false, long_prefix = false;
    for (const auto& record : netlink_fixture().expected.packets) {
        for (const auto& p : record) {
            input |= integer(p, "hook") == 1;
            output |= integer(p, "hook") == 3;
            ipv4 |= integer(p, "family") == 2;
            ipv6 |= integer(p, "family") == 10;
            meta |= integer(p, "payload_len") == 0;
            cut |= field(p, "truncated") && std::get<bool>(p.at("truncated"));
            marked |= !is_null(p.at("mark"));
            unprivileged |= !is_null(p.at("uid")) && integer(p, "uid") != 0;
            sequenced |= !is_null(p.at("seq")) && !is_null(p.at("seq_global"));
            const auto& prefix = std::get<std::string>(p.at("prefix"));
            empty_prefix |= prefix.empty();
            long_prefix |= prefix.size() == 127;
        }
    }
    EXPECT_TRUE(input && output && ipv4 && ipv6 && meta && cut);
    EXPECT_TRUE(marked && unprivileged && sequenced && empty_prefix && long_prefix);
}

// --- the NFLOG link-type capture -------------------------------------------------

// LINKTYPE_NFLOG keeps the nfgenmsg and the attributes of each message and
// drops the netlink header; putting one back lets the packet view read it.
std::vector<std::byte> as_netlink_message(std::span<const std::byte> record)
{
    nlmsghdr header{};
    header.nlmsg_len = static_cast<std::uint32_t>(sizeof header + record.size());
    header.nlmsg_type = packet_message_type;
    std::vector<std::byte> out(sizeof header);
    std::memcpy(out.data(), &header, sizeof header);
    out.insert(out.end(), record.begin(), record.end());
    return out;
}

TEST(recorded_nflog_linktype, records_read_as_packets)
{
    const auto pcap = read_pcap(data_path("nflog-linktype.pcap"));
    const auto expected = load_expectations("nflog-linktype.expect.json");
    EXPECT_EQ(pcap.linktype, linktype_nflog);
    ASSERT_EQ(pcap.records.size(), expected.records.size());
    ASSERT_FALSE(pcap.records.empty());
    for (std::size_t i = 0; i < pcap.records.size(); ++i) {
        SCOPED_TRACE("record " + std::to_string(i));
        ASSERT_EQ(expected.packets[i].size(), 1u);
        const auto message = as_netlink_message(pcap.records[i].data);
        const auto packet = packet_view::parse(netlink::message_view(message));
        ASSERT_TRUE(packet) << packet.error().message();
        check_packet(packet.value(), expected.packets[i][0]);
    }
}

// --- the readers the tests above rely on -------------------------------------------

std::vector<std::byte> bytes_of(std::string_view text)
{
    const auto view = std::as_bytes(std::span(text.data(), text.size()));
    return {view.begin(), view.end()};
}

TEST(recorded_data_readers, pcap_reader_refuses_cut_files)
{
    const auto whole = [] {
        std::vector<std::byte> file(24 + 16 + 3);
        const std::uint32_t header[] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, linktype_netlink};
        std::memcpy(file.data(), header, sizeof header);
        const std::uint32_t record[] = {1, 2, 3, 3};
        std::memcpy(file.data() + 24, record, sizeof record);
        return file;
    }();
    const auto parsed = parse_pcap(whole);
    EXPECT_EQ(parsed.linktype, linktype_netlink);
    ASSERT_EQ(parsed.records.size(), 1u);
    EXPECT_EQ(parsed.records[0].data.size(), 3u);
    for (std::size_t cut : {std::size_t{10}, std::size_t{30}, whole.size() - 1}) {
        const auto prefix = std::span<const std::byte>(whole).first(cut);
        EXPECT_THROW(parse_pcap(prefix), std::runtime_error) << cut;
    }
    EXPECT_THROW(parse_pcap(bytes_of("\x0a\x0d\x0d\x0a and more bytes than a header")), std::runtime_error);
}

TEST(recorded_data_readers, flat_json_reads_scalars_and_refuses_the_rest)
{
    const auto lines = parse_flat_json(R"([ {"a": 1, "b": "x\"\u0041", "c": null, "d": false},
                                           {"e": -7} ])");
    ASSERT_EQ(lines.size(), 2u);
    EXPECT_EQ(std::get<std::int64_t>(lines[0].at("a")), 1);
    EXPECT_EQ(std::get<std::string>(lines[0].at("b")), "x\"A");
    EXPECT_TRUE(is_null(lines[0].at("c")));
    EXPECT_FALSE(std::get<bool>(lines[0].at("d")));
    EXPECT_EQ(std::get<std::int64_t>(lines[1].at("e")), -7);
    for (const char* bad : {R"([{"a": [1]}])", R"([{"a": 1.5}])", R"([{"a": 1, "a": 2}])", R"([{"a": "\u00e9"}])",
                            R"([{"a": 1}] x)", R"([{"a": 1})", R"([{"a" 1}])"}) {
        EXPECT_THROW(parse_flat_json(bad), std::runtime_error) << bad;
    }
}

} // namespace
