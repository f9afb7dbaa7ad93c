// The fuzzers' seed corpora are the packet fixtures, committed under
// test/fuzz/seeds/<target>/<fixture name>. This test fails when a fixture has
// no identical seed file, so the seeds cannot drift from the fixtures.
// After changing the fixtures, regenerate them with
//   NFLOG_WRITE_FUZZ_SEEDS=1 <build>/test/nflog_unit_tests --gtest_filter='fuzz_seeds.*'
// Extra files in those folders (for example inputs that once crashed a
// fuzzer) are left alone.
#include "support/packet_fixtures.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace {

using namespace nflog::test;

const std::filesystem::path seeds_root = std::filesystem::path(NFLOG_TEST_DATA_DIR).parent_path() / "fuzz" / "seeds";
constexpr const char* targets_fed_by_fixtures[] = {"fuzz_message_walk", "fuzz_packet_view"};

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

TEST(fuzz_seeds, fixture_names_are_unique_file_names)
{
    std::set<std::string> seen;
    for (const auto& [name, datagram] : packet_fixtures()) {
        EXPECT_TRUE(seen.insert(name).second) << name << " twice";
        EXPECT_FALSE(name.empty());
        EXPECT_EQ(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-"), std::string::npos) << name;
        EXPECT_FALSE(datagram.empty()) << name;
    }
}

TEST(fuzz_seeds, every_fixture_is_a_committed_seed)
{
    const bool write = std::getenv("NFLOG_WRITE_FUZZ_SEEDS") != nullptr;
    for (const auto* target : targets_fed_by_fixtures) {
        for (const auto& [name, datagram] : packet_fixtures()) {
            const auto path = seeds_root / target / name;
            if (write)
                write_file(path, datagram);
            ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: regenerate the seeds (see the top of this file)";
            EXPECT_EQ(read_file(path), datagram) << path << " differs from its fixture";
        }
    }
}

} // namespace
