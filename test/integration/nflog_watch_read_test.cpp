// nflog-watch --read, run as a program on capture files: hand-made ones in
// test/data/watch/ (written by the fixtures below) and the kernel recordings
// in test/data/. Needs no privileges.

#include "support/capture_writer.hpp"
#include "support/child_process.hpp"
#include "support/flat_json.hpp"
#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"

#include <nflog/action.hpp>

#include <gtest/gtest.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <sstream>
#include <regex>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace nflog::test;
using namespace nflog::test::packets;
namespace fs = std::filesystem;

const fs::path binary = fs::path(NFLOG_BINARY_DIR) / "tools/nflog-watch/nflog-watch";
const fs::path data_dir = fs::path(NFLOG_TEST_DATA_DIR);
const fs::path fixture_dir = data_dir / "watch";

constexpr std::uint16_t eth_p_ip = 0x0800;
constexpr std::uint16_t eth_p_arp = 0x0806;
constexpr std::uint16_t eth_p_ipv6 = 0x86dd;
constexpr std::uint32_t link_type_ethernet = 1;
constexpr std::uint32_t link_type_nflog = 239;
constexpr std::uint32_t link_type_netlink = 253;
// 2024-05-01T12:34:56Z
constexpr std::uint32_t base_second = 1714566896;

// ---------------------------------------------------------------------------
// The events the fixtures hold.

bytes denied_ssh()
{
    return packet_message(NFPROTO_IPV4, 5,
                          concat({header_attribute(eth_p_ip, NF_INET_LOCAL_IN), timestamp_attribute(base_second, 99000),
                                  be32_attribute(NFULA_IFINDEX_INDEV, 2),
                                  hwaddr_attribute(to_bytes({0x02, 0x42, 0xac, 0x11, 0x00, 0x02})),
                                  prefix_attribute("DENIED ssh"),
                                  payload_attribute(ipv4("10.0.0.2", "192.0.2.1", IPPROTO_TCP, tcp(40000, 22)))}));
}

// A prefix length that runs past the message: the attribute walk cannot go on.
bytes attribute_past_the_end()
{
    return packet_message(NFPROTO_IPV4, 5,
                          concat({header_attribute(eth_p_ip, NF_INET_LOCAL_IN),
                                  attribute(NFULA_PREFIX, to_bytes({'x', 0}), 0xff00)}));
}

bytes allowed_dns_with_hostile_prefix()
{
    return packet_message(
        NFPROTO_IPV6, 5,
        concat({header_attribute(eth_p_ipv6, NF_INET_LOCAL_OUT), be32_attribute(NFULA_IFINDEX_OUTDEV, 1),
                be32_attribute(NFULA_UID, 1000), be32_attribute(NFULA_GID, 1000),
                prefix_attribute("ALLOWED \"dns\" \\ \x1b[31m \xc0\xaf caf\xc3\xa9"),
                payload_attribute(ipv6("2001:db8::1", "2001:db8::53", IPPROTO_UDP, udp(40001, 53)))}));
}

bytes arp_reply_without_prefix()
{
    return packet_message(NFPROTO_ARP, 5,
                          concat({header_attribute(eth_p_arp, 0), be32_attribute(NFULA_IFINDEX_INDEV, 2),
                                  payload_attribute(arp(2, "192.0.2.1", "192.0.2.2"))}));
}

bytes private_tcp_output()
{
    return packet_message(NFPROTO_IPV4, 7,
                          concat({header_attribute(eth_p_ip, NF_INET_LOCAL_OUT), be32_attribute(NFULA_MARK, 0x10),
                                  be32_attribute(NFULA_IFINDEX_OUTDEV, 3), prefix_attribute("PRIVATE rfc1918"),
                                  be32_attribute(NFULA_SEQ, 0), be32_attribute(NFULA_SEQ_GLOBAL, 1),
                                  payload_attribute(ipv4("10.0.0.2", "10.9.8.7", IPPROTO_TCP, tcp(40002, 8080)))}));
}

bytes mark_of_the_wrong_size()
{
    return packet_message(NFPROTO_IPV4, 7,
                          concat({header_attribute(eth_p_ip, NF_INET_LOCAL_OUT), attribute(NFULA_MARK, be<std::uint16_t>(1))}));
}

bytes queued_ping()
{
    return packet_message(NFPROTO_IPV4, 7,
                          concat({header_attribute(eth_p_ip, NF_INET_FORWARD), timestamp_attribute(base_second + 4, 7),
                                  prefix_attribute("QUEUED ping"),
                                  payload_attribute(ipv4("192.0.2.9", "198.51.100.1", IPPROTO_ICMP, icmp(8, 0)))}));
}

bytes bypass_on_a_bridge()
{
    return packet_message(NFPROTO_BRIDGE, 8,
                          concat({header_attribute(eth_p_ip, NF_INET_FORWARD), be32_attribute(NFULA_IFINDEX_PHYSINDEV, 4),
                                  be32_attribute(NFULA_IFINDEX_PHYSOUTDEV, 5), vlan_attribute(0x8100, 100),
                                  prefix_attribute("BYPASS br0"),
                                  payload_attribute(ipv4("198.51.100.1", "198.51.100.2", IPPROTO_UDP, udp(5000, 6000)))}));
}

bytes netlink_error_message(std::int32_t negative_errno)
{
    bytes body;
    append_host<std::int32_t>(body, negative_errno);
    const auto request = message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, {}, NLM_F_REQUEST | NLM_F_ACK);
    body.insert(body.end(), request.begin(), request.end());
    return message(NLMSG_ERROR, body);
}

bytes bind_request()
{
    bytes command;
    append_host<std::uint8_t>(command, NFULNL_CFG_CMD_BIND);
    append_host<std::uint8_t>(command, 0);
    append_be<std::uint16_t>(command, 0);
    return message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG,
                   concat({nfgen(NFPROTO_UNSPEC, 5), attribute(NFULA_CFG_CMD, command)}), NLM_F_REQUEST | NLM_F_ACK);
}

// A message whose nlmsg_len claims far more than the datagram holds.
bytes overlong_message()
{
    return message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_PACKET, {}, 0, 0xffff);
}

capture::record at(std::uint32_t tenths, bytes data)
{
    return {base_second + tenths / 10, (tenths % 10) * 100000, std::move(data)};
}

// ---------------------------------------------------------------------------
// The fixture files.

std::vector<capture::record> nflog_records(std::endian order)
{
    return {
        at(1, capture::nflog_record(denied_ssh(), order)),
        at(2, capture::nflog_record(attribute_past_the_end(), order)),
        at(3, capture::nflog_record(allowed_dns_with_hostile_prefix(), order)),
        at(4, to_bytes({NFPROTO_IPV4, 0})),
        at(5, capture::nflog_record(arp_reply_without_prefix(), order)),
    };
}

bytes nflog_pcap() { return capture::pcap_file(link_type_nflog, nflog_records(std::endian::native)); }

// Where the first record of `nflog_pcap()` ends: its file header (24 bytes),
// the record's header (16) and data.
std::size_t end_of_first_record() { return 24 + 16 + nflog_records(std::endian::native)[0].data.size(); }

// A descriptor that writes `path` from its start; -1 when it cannot.
int open_for_writing(const fs::path& path) { return ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600); }

bytes nflog_big_endian_pcapng()
{
    auto records = nflog_records(std::endian::big);
    // Version 1 of the NFLOG header is not defined.
    records.push_back(at(6, to_bytes({NFPROTO_IPV4, 1, 0, 5})));
    return capture::pcapng_file(link_type_nflog, records, std::endian::big);
}

std::vector<capture::record> netlink_records()
{
    return {
        at(41, capture::netlink_record(NETLINK_ROUTE, message(RTM_NEWLINK, bytes(16)))),
        at(42, capture::netlink_record(NETLINK_NETFILTER, bind_request())),
        at(43, capture::netlink_record(NETLINK_NETFILTER, netlink_error_message(0))),
        at(44, capture::netlink_record(NETLINK_NETFILTER, concat({denied_ssh(), private_tcp_output(), done_message()}))),
        at(45, capture::netlink_record(NETLINK_NETFILTER, concat({arp_reply_without_prefix(), overlong_message()}))),
        at(46, capture::netlink_record(NETLINK_NETFILTER, concat({mark_of_the_wrong_size(), queued_ping()}))),
        at(47, capture::netlink_record(NETLINK_NETFILTER, netlink_error_message(-EPERM))),
        at(48, capture::netlink_record(NETLINK_NETFILTER, queued_ping(), 1)),
        at(49, to_bytes({0, 4, 3, 0x38, 0, 0, 0, 0})),
        at(50, capture::netlink_record(NETLINK_NETFILTER, bypass_on_a_bridge())),
    };
}

bytes netlink_pcapng() { return capture::pcapng_file(link_type_netlink, netlink_records()); }

bytes netlink_pcap()
{
    const auto records = netlink_records();
    return capture::pcap_file(link_type_netlink, {records[0], records[3]});
}

bytes empty_pcap() { return capture::pcap_file(link_type_nflog, {}); }
bytes empty_pcapng() { return capture::pcapng_file(link_type_netlink, {}); }
bytes ethernet_pcap() { return capture::pcap_file(link_type_ethernet, {at(1, bytes(60))}); }

struct fixture_file {
    const char* name;
    bytes (*make)();
};

const fixture_file fixture_files[] = {
    {"nflog.pcap", nflog_pcap},     {"nflog-big-endian.pcapng", nflog_big_endian_pcapng},
    {"netlink.pcapng", netlink_pcapng}, {"netlink.pcap", netlink_pcap},
    {"empty.pcap", empty_pcap},     {"empty.pcapng", empty_pcapng},
    {"ethernet.pcap", ethernet_pcap},
};

// ---------------------------------------------------------------------------
// What nflog-watch must print for them.

const std::string line_denied_ssh_web =
    R"({"ts":"2024-05-01T12:34:56.099000+00:00","ts_source":"kernel","source":"nflog","action":"blocked_connection",)"
    R"("container":"web","group":5,"family":"ipv4","hook":1,"hw_protocol":2048,"prefix":"DENIED ssh",)"
    R"("detail":"DENIED ssh","l3":"ipv4","src":"10.0.0.2","dest":"192.0.2.1","proto":6,"sport":40000,)"
    R"("dport":22,"port":22,"indev":2,"hwaddr":"02:42:ac:11:00:02","payload_len":40})";

const std::vector<std::string> nflog_lines = {
    line_denied_ssh_web,
    R"({"error":"netlink attribute length out of bounds","ts":"2024-05-01T12:34:56.200000+00:00",)"
    R"("ts_source":"capture","source":"nflog","container":"web","record":2})",
    R"({"ts":"2024-05-01T12:34:56.300000+00:00","ts_source":"capture","source":"nflog","action":"allowed_connection",)"
    R"("container":"web","group":5,"family":"ipv6","hook":3,"hw_protocol":34525,)"
    R"("prefix":"ALLOWED \"dns\" \\ \u001b[31m \ufffd\ufffd café","detail":"ALLOWED \"dns\" \\ \u001b[31m \ufffd\ufffd café",)"
    R"("l3":"ipv6","src":"2001:db8::1","dest":"2001:db8::53","proto":17,"sport":40001,"dport":53,"port":53,)"
    R"("outdev":1,"uid":1000,"gid":1000,"payload_len":48})",
    R"({"error":"record shorter than the 4-byte nflog header","ts":"2024-05-01T12:34:56.400000+00:00",)"
    R"("ts_source":"capture","source":"nflog","container":"web","record":4})",
    R"({"ts":"2024-05-01T12:34:56.500000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
    R"("container":"web","group":5,"family":"arp","hook":0,"hw_protocol":2054,"l3":"arp","src":"192.0.2.1",)"
    R"("dest":"192.0.2.2","arp_op":2,"indev":2,"payload_len":28})",
};

const std::string line_queued_ping =
    R"({"ts":"2024-05-01T12:35:00.000007+00:00","ts_source":"kernel","source":"nflog","action":"queued_connection",)"
    R"("container":"","group":7,"family":"ipv4","hook":2,"hw_protocol":2048,"prefix":"QUEUED ping",)"
    R"("detail":"QUEUED ping","l3":"ipv4","src":"192.0.2.9","dest":"198.51.100.1","proto":1,"icmp_type":8,)"
    R"("icmp_code":0,"payload_len":28})";

const std::vector<std::string> netlink_lines = {
    R"({"ts":"2024-05-01T12:34:56.099000+00:00","ts_source":"kernel","source":"nflog","action":"blocked_connection",)"
    R"("container":"","group":5,"family":"ipv4","hook":1,"hw_protocol":2048,"prefix":"DENIED ssh",)"
    R"("detail":"DENIED ssh","l3":"ipv4","src":"10.0.0.2","dest":"192.0.2.1","proto":6,"sport":40000,)"
    R"("dport":22,"port":22,"indev":2,"hwaddr":"02:42:ac:11:00:02","payload_len":40})",
    R"({"ts":"2024-05-01T12:35:00.400000+00:00","ts_source":"capture","source":"nflog","action":"private_range",)"
    R"("container":"","group":7,"family":"ipv4","hook":3,"hw_protocol":2048,"prefix":"PRIVATE rfc1918",)"
    R"("detail":"PRIVATE rfc1918","l3":"ipv4","src":"10.0.0.2","dest":"10.9.8.7","proto":6,"sport":40002,)"
    R"("dport":8080,"port":8080,"mark":16,"outdev":3,"seq":0,"seq_global":1,"payload_len":40})",
    R"({"ts":"2024-05-01T12:35:00.500000+00:00","ts_source":"capture","source":"nflog","action":"nflog",)"
    R"("container":"","group":5,"family":"arp","hook":0,"hw_protocol":2054,"l3":"arp","src":"192.0.2.1",)"
    R"("dest":"192.0.2.2","arp_op":2,"indev":2,"payload_len":28})",
    R"({"error":"netlink message length out of bounds","ts":"2024-05-01T12:35:00.500000+00:00",)"
    R"("ts_source":"capture","source":"nflog","container":"","record":5})",
    R"({"error":"netlink attribute has the wrong size for its type","ts":"2024-05-01T12:35:00.600000+00:00",)"
    R"("ts_source":"capture","source":"nflog","container":"","record":6})",
    line_queued_ping,
    R"({"error":"kernel error reply: Operation not permitted","ts":"2024-05-01T12:35:00.700000+00:00",)"
    R"("ts_source":"capture","source":"nflog","container":"","record":7,"errno":1})",
    R"({"error":"link-layer header does not say ARPHRD_NETLINK","ts":"2024-05-01T12:35:00.800000+00:00",)"
    R"("ts_source":"capture","source":"nflog","container":"","record":8})",
    R"({"error":"record shorter than the 16-byte netlink link-layer header","ts":"2024-05-01T12:35:00.900000+00:00",)"
    R"("ts_source":"capture","source":"nflog","container":"","record":9})",
    R"({"ts":"2024-05-01T12:35:01.000000+00:00","ts_source":"capture","source":"nflog","action":"bypass_connection",)"
    R"("container":"","group":8,"family":"bridge","hook":2,"hw_protocol":2048,"prefix":"BYPASS br0",)"
    R"("detail":"BYPASS br0","l3":"ipv4","src":"198.51.100.1","dest":"198.51.100.2","proto":17,"sport":5000,)"
    R"("dport":6000,"port":6000,"physindev":4,"physoutdev":5,"vlan_proto":33024,"vlan_tci":100,"payload_len":28})",
};

// ---------------------------------------------------------------------------
// Running the program.

std::string quoted(const std::string& text)
{
    std::string out = "'";
    for (const char c : text) {
        if (c == '\'')
            out += "'\\''";
        else
            out += c;
    }
    return out + "'";
}

std::string read_text(const fs::path& path)
{
    std::ifstream file(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const bytes& content)
{
    std::ofstream file(path, std::ios::binary | std::ios::trunc);
    file.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
    ASSERT_TRUE(file.good()) << path;
}

std::vector<std::string> lines_of(const std::string& text)
{
    std::vector<std::string> lines;
    std::istringstream stream(text);
    for (std::string line; std::getline(stream, line);)
        lines.push_back(line);
    return lines;
}

// The writing end of `fifo` once a reader has opened it (until then the
// open fails with ENXIO), as a blocking descriptor; -1 after ten seconds.
int open_fifo_writer(const fs::path& fifo)
{
    for (int attempt = 0; attempt < 500; ++attempt) {
        const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK | O_CLOEXEC);
        if (writer >= 0)
            return ::fcntl(writer, F_SETFL, 0) == 0 ? writer : -1;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return -1;
}

struct run_result {
    int status = -1;
    std::string out;
    std::string err;
    std::vector<std::string> lines() const { return lines_of(out); }
};

class nflog_watch_read : public ::testing::Test {
protected:
    void SetUp() override
    {
        if (!fs::exists(binary))
            GTEST_SKIP() << "nflog-watch is not built (NFLOG_BUILD_TOOLS=OFF)";
        scratch_ = fs::temp_directory_path() /
                   ("nflog-watch-read-" + std::to_string(::getpid()) + "-" +
                    ::testing::UnitTest::GetInstance()->current_test_info()->name());
        fs::remove_all(scratch_);
        fs::create_directories(scratch_);
    }

    void TearDown() override
    {
        if (!scratch_.empty())
            fs::remove_all(scratch_);
    }

    // Runs nflog-watch with `arguments` (already quoted), standard input from
    // `input` when given. `timeout` bounds it: a hang fails instead of blocking.
    run_result run(const std::string& arguments, const fs::path& input = {}) const
    {
        const auto out = scratch_ / "stdout";
        const auto err = scratch_ / "stderr";
        std::string command = "timeout 30 " + quoted(binary.string()) + " " + arguments + " >" + quoted(out.string()) +
                              " 2>" + quoted(err.string());
        command += " <" + (input.empty() ? std::string("/dev/null") : quoted(input.string()));
        const int raw = std::system(command.c_str());
        run_result result;
        result.status = WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
        result.out = read_text(out);
        result.err = read_text(err);
        return result;
    }

    // Every line must be a JSON object in strict UTF-8, as a consumer will parse it.
    bool every_line_parses_as_json(const std::string& text) const
    {
        const auto path = scratch_ / "to-check";
        std::ofstream(path, std::ios::binary) << text;
        const std::string command =
            "python3 -c 'import json,sys\n"
            "for line in sys.stdin.buffer.read().decode(\"utf-8\").splitlines():\n"
            "    assert isinstance(json.loads(line), dict), line\n' <" +
            quoted(path.string());
        return std::system(command.c_str()) == 0;
    }

    fs::path scratch_;
};

TEST_F(nflog_watch_read, fixtures_are_what_their_generator_writes)
{
    // NFLOG_WRITE_WATCH_FIXTURES=1 rewrites them after a deliberate change.
    const bool rewrite = std::getenv("NFLOG_WRITE_WATCH_FIXTURES") != nullptr;
    for (const auto& fixture : fixture_files) {
        const auto path = fixture_dir / fixture.name;
        const auto expected = fixture.make();
        if (rewrite) {
            fs::create_directories(fixture_dir);
            write_bytes(path, expected);
        }
        const auto stored = read_text(path);
        ASSERT_EQ(stored.size(), expected.size()) << fixture.name << ": regenerate with NFLOG_WRITE_WATCH_FIXTURES=1";
        EXPECT_EQ(std::memcmp(stored.data(), expected.data(), stored.size()), 0) << fixture.name;
    }
}

TEST_F(nflog_watch_read, nflog_link_type_pcap)
{
    const auto result = run("--container web --read " + quoted((fixture_dir / "nflog.pcap").string()));
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.err, "");
    EXPECT_EQ(result.lines(), nflog_lines);
    EXPECT_TRUE(every_line_parses_as_json(result.out));
}

TEST_F(nflog_watch_read, nflog_link_type_big_endian_pcapng)
{
    // libpcap puts the TLV headers of a big-endian file into this host's order.
    const auto result = run("--read=" + quoted((fixture_dir / "nflog-big-endian.pcapng").string()) + " --container=web");
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.err, "");
    auto expected = nflog_lines;
    expected.push_back(R"({"error":"unsupported nflog header version","ts":"2024-05-01T12:34:56.600000+00:00",)"
                       R"("ts_source":"capture","source":"nflog","container":"web","record":6})");
    EXPECT_EQ(result.lines(), expected);
    EXPECT_TRUE(every_line_parses_as_json(result.out));
}

// A pcapng interface's time offset may put a record before 1970: its time is
// printed as it is, not moved to the epoch.
TEST_F(nflog_watch_read, a_capture_time_before_1970_is_kept)
{
    constexpr std::int64_t offset = -10'000'000'000;
    const auto path = scratch_ / "old.pcapng";
    write_bytes(path, capture::pcapng_file(link_type_netlink,
                                           {at(50, capture::netlink_record(NETLINK_NETFILTER, bypass_on_a_bridge()))},
                                           std::endian::native, 262144, offset));
    const auto result = run("--read " + quoted(path.string()));
    EXPECT_EQ(result.status, 0);
    EXPECT_EQ(result.err, "");
    auto expected = netlink_lines.back();
    const std::string capture_time = "2024-05-01T12:35:01.000000+00:00";
    ASSERT_EQ(expected.find(capture_time), 7u);
    expected.replace(7, capture_time.size(), "1707-06-12T18:48:21.000000+00:00");
    EXPECT_EQ(result.lines(), std::vector<std::string>{expected});
}

TEST_F(nflog_watch_read, netlink_link_type_pcapng)
{
    const auto result = run("-r " + quoted((fixture_dir / "netlink.pcapng").string()));
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.err, "");
    EXPECT_EQ(result.lines(), netlink_lines);
    EXPECT_TRUE(every_line_parses_as_json(result.out));
}

TEST_F(nflog_watch_read, netlink_link_type_pcap_from_a_file_and_from_standard_input)
{
    const std::vector<std::string> expected(netlink_lines.begin(), netlink_lines.begin() + 2);
    const auto path = fixture_dir / "netlink.pcap";
    const auto from_file = run("--read " + quoted(path.string()));
    EXPECT_EQ(from_file.status, 0) << from_file.err;
    EXPECT_EQ(from_file.lines(), expected);
    const auto from_stdin = run("--read -", path);
    EXPECT_EQ(from_stdin.status, 0) << from_stdin.err;
    EXPECT_EQ(from_stdin.out, from_file.out);
}

// nlmon on the netfilter family also records nftables' and conntrack's
// replies: their errors are not NFLOG's.
TEST_F(nflog_watch_read, errors_answering_other_netfilter_subsystems_are_skipped)
{
    constexpr std::uint16_t nftables_new_rule = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
    constexpr std::uint16_t conntrack_get = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_GET;
    bytes malformed_error;
    append_host<std::int32_t>(malformed_error, -EPERM);
    const auto path = scratch_ / "replies.pcap";
    write_bytes(path, capture::pcap_file(
                          link_type_netlink,
                          {
                              at(41, capture::netlink_record(NETLINK_NETFILTER, error_message(ENOENT, nftables_new_rule))),
                              at(42, capture::netlink_record(NETLINK_NETFILTER,
                                                             concat({error_message(EPERM, conntrack_get), queued_ping()}))),
                              at(43, capture::netlink_record(NETLINK_NETFILTER, error_message(EPERM))),
                              at(44, capture::netlink_record(NETLINK_NETFILTER, message(NLMSG_ERROR, malformed_error))),
                          }));
    const auto result = run("--read " + quoted(path.string()));
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.err, "");
    EXPECT_EQ(result.lines(),
              (std::vector<std::string>{
                  line_queued_ping,
                  R"({"error":"kernel error reply: Operation not permitted","ts":"2024-05-01T12:35:00.300000+00:00",)"
                  R"("ts_source":"capture","source":"nflog","container":"","record":3,"errno":1})",
                  R"({"error":"malformed netlink error message","ts":"2024-05-01T12:35:00.400000+00:00",)"
                  R"("ts_source":"capture","source":"nflog","container":"","record":4})",
              }));
}

// A UDP datagram with 100 bytes of data after its headers, without a kernel
// timestamp; `data_length` 101 leaves the payload attribute padded.
bytes denied_dns_with_data(std::size_t data_length = 100)
{
    return packet_message(NFPROTO_IPV4, 9,
                          concat({header_attribute(eth_p_ip, NF_INET_LOCAL_OUT), prefix_attribute("DENIED dns"),
                                  payload_attribute(ipv4("10.0.0.2", "192.0.2.53", IPPROTO_UDP,
                                                         udp(40003, 53, bytes(data_length, std::byte{'a'}))))}));
}

// `whole` as a capture with a snap length of `captured` bytes records it.
capture::record cut_to(capture::record whole, std::size_t captured)
{
    whole.original_length = static_cast<std::uint32_t>(whole.data.size());
    whole.data.resize(captured);
    return whole;
}

std::string denied_dns_line(const std::string& time, const std::string& tail)
{
    return R"({"ts":")" + time + R"(","ts_source":"capture","source":"nflog","action":"blocked_connection",)"
           R"("container":"","group":9,"family":"ipv4","hook":3,"hw_protocol":2048,"prefix":"DENIED dns",)"
           R"("detail":"DENIED dns","l3":"ipv4","src":"10.0.0.2","dest":"192.0.2.53","proto":17,"sport":40003,)"
           R"("dport":53,"port":53,)" + tail + "}";
}

// `tcpdump -s 100 -i nflog:5 -w`: the cut falls inside NFULA_PAYLOAD, the
// last attribute the kernel writes, and the event keeps what is left.
TEST_F(nflog_watch_read, a_record_cut_inside_its_payload_is_an_event_marked_truncated)
{
    const auto nflog_whole = at(1, capture::nflog_record(denied_dns_with_data()));
    // A batch of two packets, ended by NLMSG_DONE, which the cut takes too.
    const auto netlink_whole =
        at(2, capture::netlink_record(NETLINK_NETFILTER, concat({denied_ssh(), denied_dns_with_data(), done_message()})));
    const auto padded_whole = at(3, capture::netlink_record(NETLINK_NETFILTER, denied_dns_with_data(101)));
    // 78 bytes of the 128-byte payload are cut: 50 are left, the headers whole.
    const auto nflog_path = scratch_ / "nflog.pcap";
    write_bytes(nflog_path, capture::pcap_file(link_type_nflog, {cut_to(nflog_whole, nflog_whole.data.size() - 78)}, std::endian::native, 100));
    const auto netlink_path = scratch_ / "netlink.pcapng";
    write_bytes(netlink_path,
                capture::pcapng_file(link_type_netlink, {cut_to(netlink_whole, netlink_whole.data.size() - 20 - 78),
                                                         cut_to(padded_whole, padded_whole.data.size() - 3)}));

    const auto nflog = run("--read " + quoted(nflog_path.string()));
    EXPECT_EQ(nflog.status, 0) << nflog.err;
    EXPECT_EQ(nflog.err, "");
    EXPECT_EQ(nflog.lines(), std::vector<std::string>{denied_dns_line("2024-05-01T12:34:56.100000+00:00",
                                                                      R"("truncated":true,"payload_len":50)")});

    const auto netlink = run("--read " + quoted(netlink_path.string()));
    EXPECT_EQ(netlink.status, 0) << netlink.err;
    EXPECT_EQ(netlink.err, "");
    const auto lines = netlink.lines();
    ASSERT_EQ(lines.size(), 3u) << netlink.out;
    EXPECT_EQ(lines[0], netlink_lines[0]) << "the message before the cut is whole";
    EXPECT_EQ(lines[1], denied_dns_line("2024-05-01T12:34:56.200000+00:00", R"("truncated":true,"payload_len":50)"));
    // Only the padding after the payload was cut: nothing is missing.
    EXPECT_EQ(lines[2], denied_dns_line("2024-05-01T12:34:56.300000+00:00", R"("payload_len":129)"));
}

// Anywhere else, what is left cannot be trusted.
TEST_F(nflog_watch_read, a_record_cut_before_its_last_attribute_is_an_error_line)
{
    const auto nflog_whole = at(1, capture::nflog_record(denied_dns_with_data()));
    // The payload attribute is 132 bytes: keep 2 bytes of its header.
    const auto in_a_header = cut_to(nflog_whole, nflog_whole.data.size() - 130);
    const auto two_messages = at(2, capture::netlink_record(NETLINK_NETFILTER, concat({denied_dns_with_data(), denied_ssh()})));
    const auto in_the_first_message = cut_to(two_messages, 16 + 100);
    const auto path = scratch_ / "cut.pcapng";
    write_bytes(path, capture::pcapng_file(link_type_nflog, {in_a_header}));
    const auto netlink_path = scratch_ / "cut-netlink.pcap";
    write_bytes(netlink_path, capture::pcap_file(link_type_netlink, {in_the_first_message}));

    const auto nflog = run("--read " + quoted(path.string()));
    EXPECT_EQ(nflog.status, 0) << nflog.err;
    EXPECT_EQ(nflog.lines(),
              std::vector<std::string>{
                  R"({"error":"record cut by the capture's snap length","ts":"2024-05-01T12:34:56.100000+00:00",)"
                  R"("ts_source":"capture","source":"nflog","container":"","record":1,"caplen":)" +
                  std::to_string(in_a_header.data.size()) + R"(,"len":)" + std::to_string(nflog_whole.data.size()) +
                  "}"});
    const auto netlink = run("--read " + quoted(netlink_path.string()));
    EXPECT_EQ(netlink.status, 0) << netlink.err;
    EXPECT_EQ(netlink.lines(),
              std::vector<std::string>{
                  R"({"error":"record cut by the capture's snap length","ts":"2024-05-01T12:34:56.200000+00:00",)"
                  R"("ts_source":"capture","source":"nflog","container":"","record":1,"caplen":116,"len":)" +
                  std::to_string(two_messages.data.size()) + "}"});
}

// Without a payload (copy mode meta) the last attribute has a fixed size: a
// cut inside it is the capture's doing and must read as such, not as a
// packet with an attribute of the wrong size.
TEST_F(nflog_watch_read, a_record_cut_inside_a_fixed_size_last_attribute_is_an_error_line)
{
    const auto metadata_only =
        packet_message(NFPROTO_IPV4, 5,
                       concat({header_attribute(eth_p_ip, NF_INET_LOCAL_OUT), prefix_attribute("DENIED"),
                               be32_attribute(NFULA_SEQ, 7)}));
    const auto whole = at(1, capture::nflog_record(metadata_only));
    const auto in_the_sequence_number = cut_to(whole, whole.data.size() - 2);
    const auto path = scratch_ / "cut-meta.pcap";
    write_bytes(path, capture::pcap_file(link_type_nflog, {in_the_sequence_number}));
    const auto result = run("--read " + quoted(path.string()));
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.lines(),
              std::vector<std::string>{
                  R"({"error":"record cut by the capture's snap length","ts":"2024-05-01T12:34:56.100000+00:00",)"
                  R"("ts_source":"capture","source":"nflog","container":"","record":1,"caplen":)" +
                  std::to_string(in_the_sequence_number.data.size()) + R"(,"len":)" +
                  std::to_string(whole.data.size()) + "}"});
}

TEST_F(nflog_watch_read, empty_captures_print_nothing)
{
    for (const char* name : {"empty.pcap", "empty.pcapng"}) {
        const auto result = run("--read " + quoted((fixture_dir / name).string()));
        EXPECT_EQ(result.status, 0) << name << ": " << result.err;
        EXPECT_EQ(result.out, "") << name;
        EXPECT_EQ(result.err, "") << name;
    }
}

TEST_F(nflog_watch_read, unsupported_link_type)
{
    const auto path = (fixture_dir / "ethernet.pcap").string();
    const auto result = run("--read " + quoted(path));
    EXPECT_EQ(result.status, 3);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err,
              "nflog-watch: " + path + ": unsupported link type 1 (EN10MB): expected NFLOG (239) or NETLINK (253)\n");
}

TEST_F(nflog_watch_read, missing_file)
{
    const auto path = (scratch_ / "no-such.pcap").string();
    const auto result = run("--read " + quoted(path));
    EXPECT_EQ(result.status, 1);
    EXPECT_EQ(result.out, "");
    EXPECT_EQ(result.err, "nflog-watch: cannot read " + path + ": No such file or directory\n");
}

TEST_F(nflog_watch_read, file_that_is_not_a_capture)
{
    const auto zero_bytes = scratch_ / "zero.pcap";
    write_bytes(zero_bytes, {});
    const auto zero = run("--read " + quoted(zero_bytes.string()));
    EXPECT_EQ(zero.status, 1);
    EXPECT_EQ(zero.out, "");
    EXPECT_EQ(zero.err.rfind("nflog-watch: cannot read " + zero_bytes.string() + ": ", 0), 0u) << zero.err;
    EXPECT_EQ(lines_of(zero.err).size(), 1u) << zero.err;

    const auto text = scratch_ / "notes.txt";
    write_bytes(text, to_bytes("this is not a capture file\n"));
    const auto not_capture = run("--read " + quoted(text.string()));
    EXPECT_EQ(not_capture.status, 1);
    EXPECT_EQ(not_capture.out, "");
    EXPECT_EQ(not_capture.err, "nflog-watch: cannot read " + text.string() + ": unknown file format\n");
}

TEST_F(nflog_watch_read, damaged_capture_prints_what_came_before)
{
    // Cut in the middle of the third record: two records are read, then libpcap gives up.
    auto content = nflog_pcap();
    const auto records = nflog_records(std::endian::native);
    const auto cut = 24 + (16 + records[0].data.size()) + (16 + records[1].data.size()) + 16 + 10;
    content.resize(cut);
    const auto path = scratch_ / "cut.pcap";
    write_bytes(path, content);
    const auto result = run("--container web --read " + quoted(path.string()));
    EXPECT_EQ(result.status, 4);
    EXPECT_EQ(result.lines(), std::vector<std::string>(nflog_lines.begin(), nflog_lines.begin() + 2));
    EXPECT_EQ(result.err.rfind("nflog-watch: " + path.string() + ": damaged capture after record 2: ", 0), 0u)
        << result.err;
    EXPECT_EQ(lines_of(result.err).size(), 1u) << result.err;
    EXPECT_TRUE(every_line_parses_as_json(result.out));
}

// Status 4 says the lines before the damage were printed: when they could
// not be, the output failure is what the tool reports.
TEST_F(nflog_watch_read, a_damaged_capture_does_not_hide_an_output_that_failed)
{
    auto content = nflog_pcap();
    const auto records = nflog_records(std::endian::native);
    content.resize(24 + (16 + records[0].data.size()) + 16 + 10);
    const auto path = scratch_ / "cut.pcap";
    write_bytes(path, content);
    const auto result = run("--read " + quoted(path.string()) + " --output /dev/full");
    EXPECT_EQ(result.status, 5);
    EXPECT_EQ(result.err, "nflog-watch: cannot write the output: No space left on device\n");
}

// Opening the output empties it, so the capture being read is refused as
// the output, however it is spelled.
TEST_F(nflog_watch_read, the_capture_being_read_is_never_the_output)
{
    const auto path = scratch_ / "keep.pcap";
    write_bytes(path, nflog_pcap());
    const auto result = run("--read " + quoted(path.string()) + " --output " + quoted((scratch_ / "." / "keep.pcap").string()));
    EXPECT_EQ(result.status, 2);
    EXPECT_EQ(result.err, "nflog-watch: --output names the capture that --read reads (see --help)\n");
    EXPECT_EQ(read_text(path).size(), nflog_pcap().size()) << "the capture is untouched";

    const auto from_standard_input = run("--read - --output " + quoted(path.string()), path);
    EXPECT_EQ(from_standard_input.status, 2);
    EXPECT_EQ(from_standard_input.err, "nflog-watch: --output names the capture that --read reads (see --help)\n");
    EXPECT_EQ(read_text(path).size(), nflog_pcap().size()) << "the capture is untouched";

    const auto events = scratch_ / "events.json";
    const auto other_file = run("--container web --read - --output " + quoted(events.string()), path);
    EXPECT_EQ(other_file.status, 0);
    EXPECT_EQ(other_file.err, "");
    EXPECT_EQ(lines_of(read_text(events)), nflog_lines);
}

// The output is replaced only once the capture is known to be readable: a
// run that cannot start keeps the events of an earlier one.
TEST_F(nflog_watch_read, a_capture_that_cannot_be_read_leaves_the_output_as_it_was)
{
    const auto events = scratch_ / "events.json";
    write_bytes(events, to_bytes("earlier events\n"));
    const auto missing = run("--read " + quoted((scratch_ / "missing.pcap").string()) + " --output " +
                             quoted(events.string()));
    EXPECT_EQ(missing.status, 1);
    const auto ethernet = run("--read " + quoted((fixture_dir / "ethernet.pcap").string()) + " --output " +
                              quoted(events.string()));
    EXPECT_EQ(ethernet.status, 3);
    EXPECT_EQ(read_text(events), "earlier events\n");

    const auto read = run("--container web --read " + quoted((fixture_dir / "nflog.pcap").string()) + " --output " +
                          quoted(events.string()));
    EXPECT_EQ(read.status, 0);
    EXPECT_EQ(lines_of(read_text(events)), nflog_lines) << "a run that starts replaces the output whole";
}

// A capture still being written (a FIFO here; `tcpdump -U -w - |` is a
// pipe): each record's lines go out before the tool waits for the next.
TEST_F(nflog_watch_read, a_capture_from_a_pipe_is_printed_as_it_arrives)
{
    const auto fifo = scratch_ / "capture.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto out = scratch_ / "events";
    const auto whole = nflog_pcap();
    const auto first_record_end = end_of_first_record();
    // In the background and bounded; the test feeds the capture in two steps.
    const auto command = "timeout 30 " + quoted(binary.string()) + " --container web --read " + quoted(fifo.string()) +
                         " --output " + quoted(out.string()) + " 2>/dev/null &";
    ASSERT_EQ(std::system(command.c_str()), 0);
    const int writer = open_fifo_writer(fifo);
    ASSERT_GE(writer, 0) << "the tool never opened the capture";
    const auto lines_within = [&](std::size_t count) {
        for (int attempt = 0; attempt < 500 && lines_of(read_text(out)).size() < count; ++attempt)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return lines_of(read_text(out));
    };

    ASSERT_EQ(::write(writer, whole.data(), first_record_end), static_cast<ssize_t>(first_record_end));
    EXPECT_EQ(lines_within(1), std::vector<std::string>(nflog_lines.begin(), nflog_lines.begin() + 1))
        << "the first record's line comes while the capture is still open";
    const auto rest = whole.size() - first_record_end;
    ASSERT_EQ(::write(writer, whole.data() + first_record_end, rest), static_cast<ssize_t>(rest));
    ::close(writer);
    EXPECT_EQ(lines_within(nflog_lines.size()), nflog_lines);
}

// nflog-watch started in the background (see `child_process`), standard
// output and error onto the given descriptors. With `sigint_ignored` it
// starts as a background job of a script does.
class background_watch : public child_process {
public:
    background_watch(const std::vector<std::string>& arguments, int out_fd, int err_fd, bool sigint_ignored = false,
                     void (*prepare)() = nullptr)
        : child_process(command_line(arguments), {.stdout_fd = out_fd,
                                                  .stderr_fd = err_fd,
                                                  .sigint_ignored = sigint_ignored,
                                                  .prepare = prepare})
    {
    }

    // The raw wait status, or -1 when it had not ended within ten seconds.
    int wait_status() { return wait_for(std::chrono::seconds(10)).value_or(-1); }

private:
    static std::vector<std::string> command_line(const std::vector<std::string>& arguments)
    {
        std::vector<std::string> words{binary.string()};
        words.insert(words.end(), arguments.begin(), arguments.end());
        return words;
    }
};

// Polls (bounded) until the pipe whose reading end is `read_end` holds
// nearly all it can (64 KiB): its writer waits for room, or is about to.
bool fills_its_pipe(int read_end)
{
    for (int attempt = 0; attempt < 500; ++attempt) {
        int queued = 0;
        if (::ioctl(read_end, FIONREAD, &queued) != 0)
            return false;
        if (queued >= 60000)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
}

// A capture still arriving ends when the user stops the tool: the record
// (or the file header) the stop cut is not damage, and every line before
// it is out whole.
TEST_F(nflog_watch_read, a_stop_signal_ends_a_capture_still_arriving)
{
    for (const int stop_signal : {SIGINT, SIGTERM}) {
        SCOPED_TRACE(strsignal(stop_signal));
        const auto fifo = scratch_ / ("capture-" + std::to_string(stop_signal) + ".fifo");
        ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
        const auto out = scratch_ / ("events-" + std::to_string(stop_signal));
        const auto err = scratch_ / ("errors-" + std::to_string(stop_signal));
        const int err_fd = open_for_writing(err);
        ASSERT_GE(err_fd, 0);
        background_watch watch({"--container", "web", "--read", fifo.string(), "--output", out.string()}, err_fd,
                               err_fd);
        ::close(err_fd);
        ASSERT_TRUE(watch.started());
        // The tool opens the capture with its stop signals already in hand.
        const int writer = open_fifo_writer(fifo);
        ASSERT_GE(writer, 0) << "the tool never opened the capture";

        // With SIGINT, the first record whole and the second cut in its
        // data; with SIGTERM, not even the capture's header. The writer stays.
        const auto whole = nflog_pcap();
        const auto first_record_end = end_of_first_record();
        const auto sent = stop_signal == SIGINT ? first_record_end + 16 + 6 : 0;
        ASSERT_EQ(::write(writer, whole.data(), sent), static_cast<ssize_t>(sent));
        for (int attempt = 0; sent > 0 && attempt < 500 && lines_of(read_text(out)).empty(); ++attempt)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        watch.signal(stop_signal);
        const int status = watch.wait_status();
        ::close(writer);
        ASSERT_NE(status, -1) << "the tool did not stop";
        ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        EXPECT_EQ(WEXITSTATUS(status), 0);
        EXPECT_EQ(read_text(out), sent > 0 ? nflog_lines[0] + "\n" : "");
        EXPECT_EQ(read_text(err), "");
    }
}

// A reader that went away while SIGPIPE is ignored (as systemd starts
// services): the first failed write ends the read, although the capture is
// still arriving and might never end.
TEST_F(nflog_watch_read, an_output_that_fails_ends_a_capture_still_arriving)
{
    const auto fifo = scratch_ / "capture.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto err = scratch_ / "errors";
    const int err_fd = open_for_writing(err);
    ASSERT_GE(err_fd, 0);
    std::array<int, 2> output{};
    ASSERT_EQ(::pipe2(output.data(), O_CLOEXEC), 0);
    ::close(output[0]);
    const auto ignore_sigpipe = [] { std::signal(SIGPIPE, SIG_IGN); };
    background_watch watch({"--read", fifo.string()}, output[1], err_fd, false, +ignore_sigpipe);
    ::close(output[1]);
    ::close(err_fd);
    ASSERT_TRUE(watch.started());
    const int writer = open_fifo_writer(fifo);
    ASSERT_GE(writer, 0) << "the tool never opened the capture";
    // One whole record, and the capture stays open.
    const auto one_record = end_of_first_record();
    ASSERT_EQ(::write(writer, nflog_pcap().data(), one_record), static_cast<ssize_t>(one_record));
    const int status = watch.wait_status();
    ::close(writer);
    ASSERT_NE(status, -1) << "the tool read on after its output failed";
    ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 5);
    EXPECT_EQ(read_text(err), "nflog-watch: cannot write the output: Broken pipe\n");
}

// Opening a FIFO waits for a writer that may never come: a stop ends that
// wait too, also when the tool started with it blocked (a supervisor's
// mask leaked into what it starts).
TEST_F(nflog_watch_read, a_stop_signal_ends_the_wait_for_a_capture_writer)
{
    const auto block_sigterm = [] {
        sigset_t stop;
        sigemptyset(&stop);
        sigaddset(&stop, SIGTERM);
        ::sigprocmask(SIG_BLOCK, &stop, nullptr);
    };
    for (const bool blocked : {false, true}) {
        SCOPED_TRACE(blocked ? "SIGTERM blocked from the start" : "SIGTERM");
        const auto fifo = scratch_ / (blocked ? "blocked.fifo" : "capture.fifo");
        ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
        const auto err = scratch_ / "errors";
        const int err_fd = open_for_writing(err);
        ASSERT_GE(err_fd, 0);
        background_watch watch({"--read", fifo.string()}, err_fd, err_fd, false,
                               blocked ? +block_sigterm : nullptr);
        ::close(err_fd);
        ASSERT_TRUE(watch.started());
        // Its stop signals are in hand before it opens the capture.
        const auto descriptors = fs::path("/proc") / std::to_string(watch.pid()) / "fd";
        const auto holds_the_fifo = [&] {
            std::error_code ignored;
            for (const auto& entry : fs::directory_iterator(descriptors, ignored))
                if (fs::read_symlink(entry.path(), ignored) == fifo)
                    return true;
            return false;
        };
        bool opened = false;
        for (int attempt = 0; attempt < 500 && !(opened = holds_the_fifo()); ++attempt)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        ASSERT_TRUE(opened) << "the tool never opened the capture";
        watch.signal(SIGTERM);
        const int status = watch.wait_status();
        ASSERT_NE(status, -1) << "the tool did not stop";
        ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        EXPECT_EQ(WEXITSTATUS(status), 0);
        EXPECT_EQ(read_text(err), "");
    }
}

// A stop that comes while the output blocks (a reader that is not reading)
// waits for that write: the output holds whole lines, in order, and the
// tool ends at a record soon after instead of reading the rest. A job
// started with SIGINT ignored (in the background of a script) reads on.
TEST_F(nflog_watch_read, a_stop_signal_never_cuts_a_line_of_the_output)
{
    constexpr std::size_t record_count = 20000;
    const auto record = at(1, capture::nflog_record(denied_ssh(), std::endian::native));
    const auto path = scratch_ / "many.pcap";
    write_bytes(path, capture::pcap_file(link_type_nflog, std::vector<capture::record>(record_count, record)));
    for (const bool sigint_ignored : {false, true}) {
        SCOPED_TRACE(sigint_ignored ? "SIGINT ignored from the start" : "SIGINT");
        std::array<int, 2> output{};
        ASSERT_EQ(::pipe2(output.data(), O_CLOEXEC), 0);
        background_watch watch({"--container", "web", "--read", path.string()}, output[1], STDERR_FILENO,
                               sigint_ignored);
        ::close(output[1]);
        ASSERT_TRUE(watch.started());

        // The pipe full: the tool waits for room, or is about to.
        ASSERT_TRUE(fills_its_pipe(output[0])) << "the output never filled the pipe";
        watch.signal(SIGINT);
        std::string printed;
        std::array<char, 65536> chunk{};
        for (ssize_t got; (got = ::read(output[0], chunk.data(), chunk.size())) != 0;) {
            if (got < 0 && errno == EINTR)
                continue;
            ASSERT_GT(got, 0) << std::strerror(errno);
            printed.append(chunk.data(), static_cast<std::size_t>(got));
        }
        ::close(output[0]);
        const int status = watch.wait_status();
        ASSERT_NE(status, -1) << "the tool did not stop";
        ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        EXPECT_EQ(WEXITSTATUS(status), 0);
        ASSERT_TRUE(printed.ends_with('\n')) << "the last line is whole";
        const auto lines = lines_of(printed);
        if (sigint_ignored)
            EXPECT_EQ(lines.size(), record_count) << "the ignored signal changed nothing";
        else
            EXPECT_LT(lines.size(), record_count) << "the stop ended the read before the end of the capture";
        EXPECT_EQ(lines, std::vector<std::string>(lines.size(), line_denied_ssh_web));
    }
}

// A reader that stopped reading for good: the stop gives it a second, then
// the tool ends with the output failed instead of waiting forever.
TEST_F(nflog_watch_read, a_stop_gives_up_on_a_reader_that_stopped_reading)
{
    constexpr std::size_t record_count = 20000;
    const auto record = at(1, capture::nflog_record(denied_ssh(), std::endian::native));
    const auto path = scratch_ / "many.pcap";
    write_bytes(path, capture::pcap_file(link_type_nflog, std::vector<capture::record>(record_count, record)));
    std::array<int, 2> output{};
    ASSERT_EQ(::pipe2(output.data(), O_CLOEXEC), 0);
    const auto err = scratch_ / "errors";
    const int err_fd = open_for_writing(err);
    ASSERT_GE(err_fd, 0);
    background_watch watch({"--container", "web", "--read", path.string()}, output[1], err_fd);
    ::close(output[1]);
    ::close(err_fd);
    ASSERT_TRUE(watch.started());
    ASSERT_TRUE(fills_its_pipe(output[0])) << "the output never filled the pipe";
    watch.signal(SIGINT);
    const int status = watch.wait_status();
    ASSERT_NE(status, -1) << "the tool did not stop";
    ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 5);
    const auto diagnostic = read_text(err);
    EXPECT_TRUE(diagnostic.starts_with(
        "nflog-watch: cannot write the output: its reader took nothing for a second after the stop; "))
        << diagnostic;
    EXPECT_TRUE(std::regex_search(diagnostic, std::regex("; (1 event|([02-9]|[1-9][0-9]+) events) not written\n$")))
        << diagnostic;
    std::string printed;
    std::array<char, 65536> chunk{};
    for (ssize_t got; (got = ::read(output[0], chunk.data(), chunk.size())) > 0;)
        printed.append(chunk.data(), static_cast<std::size_t>(got));
    ::close(output[0]);
    const auto lines = lines_of(printed.substr(0, printed.rfind('\n') + 1));
    EXPECT_LT(lines.size(), record_count);
    EXPECT_EQ(lines, std::vector<std::string>(lines.size(), line_denied_ssh_web));
}

// Waiting for the reader of an --output FIFO ends at a stop too, before
// anything was read.
TEST_F(nflog_watch_read, a_stop_ends_the_wait_for_an_output_fifo_reader)
{
    const auto fifo = scratch_ / "events.fifo";
    ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
    const auto err = scratch_ / "errors";
    const int err_fd = open_for_writing(err);
    ASSERT_GE(err_fd, 0);
    const auto capture_path = scratch_ / "one.pcap";
    write_bytes(capture_path, nflog_pcap());
    background_watch watch({"--read", capture_path.string(), "--output", fifo.string()}, err_fd, err_fd);
    ::close(err_fd);
    ASSERT_TRUE(watch.started());
    const auto syscall_path = fs::path("/proc") / std::to_string(watch.pid()) / "syscall";
    bool waiting = false;
    for (int attempt = 0; attempt < 500 && !(waiting = read_text(syscall_path).starts_with(
                                                  std::to_string(SYS_poll) + " "));
         ++attempt)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    ASSERT_TRUE(waiting) << "the tool never waited for the FIFO's reader";
    watch.signal(SIGTERM);
    const int status = watch.wait_status();
    ASSERT_NE(status, -1) << "the tool did not stop";
    ASSERT_TRUE(WIFEXITED(status)) << "ended by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    EXPECT_EQ(WEXITSTATUS(status), 0);
    EXPECT_EQ(read_text(err), "");
}

TEST_F(nflog_watch_read, wrong_command_lines)
{
    const auto none = run("");
    EXPECT_EQ(none.status, 2);
    EXPECT_EQ(none.out, "");
    EXPECT_EQ(none.err, "nflog-watch: nothing to do: give --group N to watch live, or --read FILE (see --help)\n");

    const auto unknown = run("--read x --frobnicate");
    EXPECT_EQ(unknown.status, 2);
    EXPECT_EQ(unknown.err, "nflog-watch: unknown option --frobnicate (see --help)\n");

    const auto missing_value = run("--read");
    EXPECT_EQ(missing_value.status, 2);
    EXPECT_EQ(missing_value.err, "nflog-watch: --read needs a value (see --help)\n");
}

TEST_F(nflog_watch_read, help_documents_the_exit_statuses)
{
    const auto result = run("--help");
    EXPECT_EQ(result.status, 0);
    EXPECT_EQ(result.err, "");
    for (const char* text : {"--read FILE", "--container NAME", "Exit status:", "\n  0  the capture was read to its end",
                             "\n  1  the file cannot be opened", "\n  3  unsupported link type",
                             "\n  4  the capture is damaged"})
        EXPECT_NE(result.out.find(text), std::string::npos) << text;
}

TEST_F(nflog_watch_read, help_that_cannot_be_written_is_an_output_failure)
{
    const auto err = scratch_ / "stderr";
    const auto command = "timeout 30 " + quoted(binary.string()) + " --help >/dev/full 2>" + quoted(err.string());
    const int raw = std::system(command.c_str());
    ASSERT_TRUE(WIFEXITED(raw));
    EXPECT_EQ(WEXITSTATUS(raw), 5);
    EXPECT_EQ(read_text(err), "nflog-watch: cannot write the help: No space left on device\n");
}

TEST_F(nflog_watch_read, damaged_bytes_never_crash_or_hang)
{
    // Deterministic mutations of every capture: bytes overwritten after the
    // file header, sometimes a cut. Whatever comes out must be a documented
    // exit status with JSON lines, never a signal or the timeout.
    std::mt19937 random(20240501);
    std::string all_output;
    int runs = 0;
    for (const auto& source : {fixture_dir / "nflog.pcap", fixture_dir / "nflog-big-endian.pcapng",
                               fixture_dir / "netlink.pcapng", data_dir / "nflog-netlink.pcap",
                               data_dir / "nflog-linktype.pcap"}) {
        const auto original = read_text(source);
        ASSERT_GT(original.size(), 64u) << source;
        for (int round = 0; round < 30; ++round) {
            auto mutant = original;
            const int changes = 1 + static_cast<int>(random() % 8);
            for (int i = 0; i < changes; ++i) {
                const auto position = 24 + random() % (mutant.size() - 24);
                mutant[position] = static_cast<char>(random() % 4 == 0 ? 0xff : random());
            }
            if (round % 5 == 4)
                mutant.resize(24 + random() % (mutant.size() - 24));
            const auto path = scratch_ / "mutant";
            std::ofstream(path, std::ios::binary | std::ios::trunc) << mutant;
            const auto result = run("--read " + quoted(path.string()));
            ++runs;
            EXPECT_TRUE(result.status >= 0 && result.status <= 4)
                << source << " round " << round << ": status " << result.status << ", " << result.err;
            EXPECT_LE(lines_of(result.err).size(), 1u) << source << " round " << round << ": " << result.err;
            all_output += result.out;
        }
    }
    EXPECT_EQ(runs, 150);
    EXPECT_TRUE(every_line_parses_as_json(all_output));
}

// ---------------------------------------------------------------------------
// The kernel recordings: every expectation of scripts/record-fixtures must be
// in nflog-watch's output, in order.

const json_value* find(const json_object& object, std::string_view key)
{
    const auto it = object.find(key);
    return it == object.end() ? nullptr : &it->second;
}

std::string to_text(const json_value* value)
{
    if (!value)
        return "(absent)";
    if (std::holds_alternative<std::nullptr_t>(*value))
        return "null";
    if (const auto* b = std::get_if<bool>(value))
        return *b ? "true" : "false";
    if (const auto* i = std::get_if<std::int64_t>(value))
        return std::to_string(*i);
    return '"' + std::get<std::string>(*value) + '"';
}

// Compares an expectation that may be null ("must not be sent") with a member
// that must then be absent.
void expect_member(const json_object& line, std::string_view key, const json_value* expected, const std::string& where)
{
    if (!expected)
        return;
    const auto* actual = find(line, key);
    if (std::holds_alternative<std::nullptr_t>(*expected))
        EXPECT_EQ(actual, nullptr) << where << key << " = " << to_text(actual);
    else
        EXPECT_EQ(to_text(actual), to_text(expected)) << where << key;
}

json_value family_name(std::int64_t family)
{
    switch (family) {
    case NFPROTO_IPV4: return std::string("ipv4");
    case NFPROTO_IPV6: return std::string("ipv6");
    case NFPROTO_BRIDGE: return std::string("bridge");
    case NFPROTO_ARP: return std::string("arp");
    case NFPROTO_NETDEV: return std::string("netdev");
    default: return family;
    }
}

std::string colon_separated(const std::string& hex)
{
    std::string out;
    for (std::size_t i = 0; i < hex.size(); i += 2) {
        if (!out.empty())
            out += ':';
        out += hex.substr(i, 2);
    }
    return out;
}

void expect_packet(const json_object& line, const json_object& expected, const std::string& where)
{
    EXPECT_EQ(find(line, "error"), nullptr) << where << "an error line where a packet was expected";
    EXPECT_EQ(to_text(find(line, "source")), "\"nflog\"") << where;
    EXPECT_EQ(to_text(find(line, "container")), "\"recorded\"") << where;
    for (const char* key : {"group", "hook", "hw_protocol", "mark", "indev", "outdev", "uid", "gid", "seq", "seq_global",
                            "l3", "src", "icmp_type", "icmp_code"})
        expect_member(line, key, find(expected, key), where);
    expect_member(line, "dest", find(expected, "dst"), where);
    expect_member(line, "sport", find(expected, "src_port"), where);
    expect_member(line, "dport", find(expected, "dst_port"), where);
    expect_member(line, "port", find(expected, "dst_port"), where);

    const auto family = std::get<std::int64_t>(*find(expected, "family"));
    const auto family_value = family_name(family);
    expect_member(line, "family", &family_value, where);

    const auto prefix = std::get<std::string>(*find(expected, "prefix"));
    EXPECT_EQ(to_text(find(line, "prefix")), '"' + prefix + '"') << where;
    EXPECT_EQ(to_text(find(line, "detail")), '"' + prefix + '"') << where;
    EXPECT_EQ(to_text(find(line, "action")), '"' + std::string(nflog::action_from_prefix(prefix)) + '"') << where;

    const bool kernel_time = std::get<bool>(*find(expected, "timestamp"));
    EXPECT_EQ(to_text(find(line, "ts_source")), kernel_time ? "\"kernel\"" : "\"capture\"") << where;

    if (const auto* hwaddr = find(expected, "hwaddr"); hwaddr && std::holds_alternative<std::string>(*hwaddr)) {
        const json_value colons = colon_separated(std::get<std::string>(*hwaddr));
        expect_member(line, "hwaddr", &colons, where);
    } else {
        expect_member(line, "hwaddr", hwaddr, where);
    }

    // Copy mode "meta" sends no payload attribute at all: nothing to count.
    const auto payload_length = std::get<std::int64_t>(*find(expected, "payload_len"));
    if (payload_length == 0)
        EXPECT_EQ(find(line, "payload_len"), nullptr) << where;
    else
        EXPECT_EQ(to_text(find(line, "payload_len")), std::to_string(payload_length)) << where;

    if (const auto* protocol = find(expected, "protocol"))
        expect_member(line, "proto", protocol, where);
    if (const auto* truncated = find(expected, "truncated")) {
        if (std::get<bool>(*truncated))
            EXPECT_EQ(to_text(find(line, "truncated")), "true") << where;
        else
            EXPECT_EQ(find(line, "truncated"), nullptr) << where;
    }
}

void expect_recording(const run_result& result, const std::vector<json_object>& expectations)
{
    EXPECT_EQ(result.status, 0) << result.err;
    EXPECT_EQ(result.err, "");
    const auto lines = result.lines();
    std::string as_array = "[";
    for (const auto& line : lines)
        as_array += (as_array.size() > 1 ? "," : "") + line;
    const auto parsed = parse_flat_json(as_array + "]");

    std::size_t next = 0;
    std::size_t packets_expected = 0;
    for (const auto& expected : expectations) {
        const auto type = std::get<std::string>(*find(expected, "type"));
        const auto where = "expectation " + std::to_string(&expected - expectations.data()) + ", line " +
                           std::to_string(next + 1) + ": ";
        if (type == "packet") {
            ++packets_expected;
            ASSERT_LT(next, parsed.size()) << where << "missing line";
            expect_packet(parsed[next++], expected, where);
        } else if (type == "record" && std::get<std::string>(*find(expected, "kind")) == "error") {
            ASSERT_LT(next, parsed.size()) << where << "missing error line";
            const auto& line = parsed[next++];
            EXPECT_EQ(to_text(find(line, "record")), std::to_string(std::get<std::int64_t>(*find(expected, "record")) + 1))
                << where;
            EXPECT_EQ(to_text(find(line, "errno")), to_text(find(expected, "errno"))) << where;
            EXPECT_EQ(std::get<std::string>(*find(line, "error")).rfind("kernel error reply: ", 0), 0u) << where;
        }
    }
    EXPECT_GT(packets_expected, 0u);
    EXPECT_EQ(next, parsed.size()) << "lines nothing expected";
}

TEST_F(nflog_watch_read, recorded_netlink_capture)
{
    const auto result = run("--container recorded --read " + quoted((data_dir / "nflog-netlink.pcap").string()));
    expect_recording(result, read_flat_json((data_dir / "nflog-netlink.expect.json").string()));
    EXPECT_TRUE(every_line_parses_as_json(result.out));
}

TEST_F(nflog_watch_read, recorded_nflog_capture)
{
    const auto result = run("--container recorded --read " + quoted((data_dir / "nflog-linktype.pcap").string()));
    expect_recording(result, read_flat_json((data_dir / "nflog-linktype.expect.json").string()));
    EXPECT_TRUE(every_line_parses_as_json(result.out));
}

} // namespace
