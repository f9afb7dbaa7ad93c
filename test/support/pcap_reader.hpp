#ifndef NFLOG_TEST_SUPPORT_PCAP_READER_HPP
#define NFLOG_TEST_SUPPORT_PCAP_READER_HPP

#include <nflog/detail/bytes.hpp>

#include <cstddef>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace nflog::test {

/// One captured packet: its bytes as recorded and the length it had on the wire.
struct pcap_record {
    std::uint32_t seconds = 0;
    std::uint32_t fraction = 0; ///< micro- or nanoseconds, as the file's magic says
    std::uint32_t original_length = 0;
    std::vector<std::byte> data;
};

struct pcap_file {
    std::uint32_t linktype = 0;
    std::uint32_t snaplen = 0;
    std::vector<pcap_record> records;
};

/// Reads a classic pcap file (not pcapng) in either byte order, with micro- or
/// nanosecond time stamps. Fixtures are trusted but not blindly: a header or a
/// record that runs past the end throws `std::runtime_error`, so a damaged
/// file fails the test that reads it instead of feeding it garbage.
inline pcap_file parse_pcap(std::span<const std::byte> bytes)
{
    constexpr std::size_t file_header = 24;
    constexpr std::size_t record_header = 16;
    if (bytes.size() < file_header)
        throw std::runtime_error("pcap: shorter than its file header");
    const auto magic = detail::load<std::uint32_t>(bytes.data());
    bool swap = false;
    switch (magic) {
    case 0xa1b2c3d4u:
    case 0xa1b23c4du:
        break;
    case 0xd4c3b2a1u:
    case 0x4d3cb2a1u:
        swap = true;
        break;
    default:
        throw std::runtime_error("pcap: unknown magic (pcapng is not supported)");
    }
    const auto u32 = [&](std::size_t at) {
        const auto value = detail::load<std::uint32_t>(bytes.data() + at);
        return swap ? detail::byteswap(value) : value;
    };

    pcap_file out;
    out.snaplen = u32(16);
    // The upper bits carry FCS information that classic readers ignore too.
    out.linktype = u32(20) & 0x0fffffffu;
    std::size_t at = file_header;
    while (at < bytes.size()) {
        if (bytes.size() - at < record_header)
            throw std::runtime_error("pcap: record header cut at offset " + std::to_string(at));
        pcap_record record;
        record.seconds = u32(at);
        record.fraction = u32(at + 4);
        const std::size_t captured = u32(at + 8);
        record.original_length = u32(at + 12);
        at += record_header;
        if (captured > bytes.size() - at)
            throw std::runtime_error("pcap: record data cut at offset " + std::to_string(at));
        record.data.assign(bytes.begin() + static_cast<std::ptrdiff_t>(at),
                           bytes.begin() + static_cast<std::ptrdiff_t>(at + captured));
        at += captured;
        out.records.push_back(std::move(record));
    }
    return out;
}

inline pcap_file read_pcap(const std::string& path)
{
    std::ifstream file(path, std::ios::binary);
    if (!file)
        throw std::runtime_error("cannot open " + path);
    const std::vector<char> chars{std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>()};
    return parse_pcap(std::as_bytes(std::span(chars)));
}

} // namespace nflog::test

#endif
