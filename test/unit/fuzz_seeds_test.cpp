// The fuzzers' seed corpora are the packet fixtures and the recorded kernel
// datagrams (test/data/nflog-netlink.pcap), committed under
// test/fuzz/seeds/<target>/<name> (fuzz_inet and fuzz_inet_paths get the
// recorded packets' payloads, fuzz_read_capture the capture files). This test fails when one of them has no
// identical seed file, so the seeds cannot drift from their sources.
// After changing the fixtures or recording again, regenerate them with
//   NFLOG_WRITE_FUZZ_SEEDS=1 <build>/test/nflog_unit_tests --gtest_filter='fuzz_seeds.*'
// Extra files in those folders (for example inputs that once crashed a
// fuzzer) are left alone.
#include <nflog/packet.hpp>

#include "support/packet_fixtures.hpp"
#include "support/pcap_reader.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>

namespace {

using namespace nflog::test;

const std::filesystem::path seeds_root = std::filesystem::path(NFLOG_TEST_DATA_DIR).parent_path() / "fuzz" / "seeds";
// Every target whose input is one datagram.
constexpr const char* targets_fed_by_fixtures[] = {"fuzz_message_walk", "fuzz_packet_view", "fuzz_receive",
                                                   "fuzz_event_json"};

bytes read_file(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    const std::vector<char> chars{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    bytes out(chars.size());
    if (!chars.empty())
        std::memcpy(out.data(), chars.data(), chars.size());
    return out;
}

void write_file(const std::filesystem::path& path, const bytes& content)
{
    std::filesystem::create_directories(path.parent_path());
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(content.data()), static_cast<std::streamsize>(content.size()));
}

// Checks that each input is committed as test/fuzz/seeds/<target>/<name>;
// with NFLOG_WRITE_FUZZ_SEEDS set, writes it there first.
void expect_committed(const char* target, const std::vector<fixture>& inputs, const char* source)
{
    const bool write = std::getenv("NFLOG_WRITE_FUZZ_SEEDS") != nullptr;
    for (const auto& [name, input] : inputs) {
        const auto path = seeds_root / target / name;
        if (write)
            write_file(path, input);
        ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: regenerate the seeds (see the top of this file)";
        EXPECT_EQ(read_file(path), input) << path << " differs from its " << source;
    }
}

// The fixtures, then every recorded datagram as "kernel-<record>".
std::vector<fixture> seeds()
{
    auto out = packet_fixtures();
    // Each record starts with the 16-byte cooked header libpcap writes for nlmon.
    constexpr std::size_t cooked_header = 16;
    const auto capture = read_pcap(std::string(NFLOG_TEST_DATA_DIR) + "/nflog-netlink.pcap");
    for (std::size_t i = 0; i < capture.records.size(); ++i) {
        const auto& data = capture.records[i].data;
        if (data.size() <= cooked_header)
            throw std::runtime_error("nflog-netlink.pcap: record " + std::to_string(i) + " holds no datagram");
        out.push_back({"kernel-" + std::to_string(i), bytes(data.begin() + cooked_header, data.end())});
    }
    return out;
}

TEST(fuzz_seeds, seed_names_are_unique_file_names)
{
    std::set<std::string> seen;
    for (const auto& [name, datagram] : seeds()) {
        EXPECT_TRUE(seen.insert(name).second) << name << " twice";
        EXPECT_FALSE(name.empty());
        EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos) << name;
        EXPECT_FALSE(datagram.empty()) << name;
    }
}

TEST(fuzz_seeds, every_fixture_and_recorded_datagram_is_a_committed_seed)
{
    for (const auto* target : targets_fed_by_fixtures)
        expect_committed(target, seeds(), "fixture");
}

// fuzz_inet and fuzz_inet_paths read hw_protocol (big-endian) and the family
// from their first three bytes, then the payload: one seed per recorded packet.
std::vector<fixture> inet_seeds()
{
    std::vector<fixture> out;
    for (const auto& [name, datagram] : seeds()) {
        if (name.rfind("kernel-", 0) != 0)
            continue;
        std::size_t index = 0;
        for (const auto& item : nflog::packet_range(datagram)) {
            if (!item || item.value().payload().empty())
                continue;
            const auto& packet = item.value();
            bytes input;
            append_be<std::uint16_t>(input, packet.hw_protocol());
            append_host<std::uint8_t>(input, packet.family());
            append(input, packet.payload().data(), packet.payload().size());
            out.push_back({name + "-" + std::to_string(index++), std::move(input)});
        }
    }
    return out;
}

TEST(fuzz_seeds, every_recorded_payload_is_an_inet_seed)
{
    const auto inputs = inet_seeds();
    EXPECT_GE(inputs.size(), 20u) << "the recording should hold IPv4 and IPv6 payloads";
    for (const auto* target : {"fuzz_inet", "fuzz_inet_paths"})
        expect_committed(target, inputs, "recorded packet");
}

// fuzz_read_capture reads whole capture files: every capture under
// test/data is one of its seeds, "watch-<name>" for those in test/data/watch.
std::vector<fixture> capture_seeds()
{
    std::vector<fixture> out;
    const std::filesystem::path data(NFLOG_TEST_DATA_DIR);
    for (const auto& [folder, prefix] : {std::pair{data, std::string()}, std::pair{data / "watch", std::string("watch-")}}) {
        for (const auto& entry : std::filesystem::directory_iterator(folder)) {
            const auto extension = entry.path().extension();
            if (entry.is_regular_file() && (extension == ".pcap" || extension == ".pcapng"))
                out.push_back({prefix + entry.path().filename().string(), read_file(entry.path())});
        }
    }
    return out;
}

TEST(fuzz_seeds, every_capture_is_a_read_capture_seed)
{
    const auto captures = capture_seeds();
    EXPECT_GE(captures.size(), 9u) << "test/data and test/data/watch hold pcap and pcapng captures of both link types";
    expect_committed("fuzz_read_capture", captures, "capture");
}

} // namespace
