// Input: a whole capture file, pcap or pcapng in either byte order, as
// `nflog-watch --read` meets it (seeds: the captures under test/data). The
// reader must end with one of the statuses a capture can give. Whatever it
// printed must be complete lines of strict JSON, each with its source and
// the container label, and an error line must name its record, in order.
// A failure must be exactly one line on the diagnostics stream, and a file
// read to its end none at all.

#include "exit_status.hpp"
#include "options.hpp"
#include "read_capture.hpp"

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "fuzz_checks.hpp"
#include "json_line.hpp"

namespace {

using namespace nflog;
using fuzz::require;
using fuzz::required;

const std::string container = "box \"7\" caf\xc3\xa9";

// A memory file the tool writes into (its output through the descriptor,
// its diagnostics through a stdio stream over it), read back as a string.
// Made once and emptied for each input.
class memory_file {
public:
    explicit memory_file(const char* name)
        : fd_(memfd_create(name, MFD_CLOEXEC)), stream_(fd_ >= 0 ? fdopen(dup(fd_), "w") : nullptr)
    {
        require(fd_ >= 0 && stream_ != nullptr, "a memory file opens");
    }
    memory_file(const memory_file&) = delete;
    memory_file& operator=(const memory_file&) = delete;

    int fd() const noexcept { return fd_; }
    std::FILE* stream() const noexcept { return stream_; }

    void empty()
    {
        require(std::fflush(stream_) == 0 && ftruncate(fd_, 0) == 0 && lseek(fd_, 0, SEEK_SET) == 0 &&
                    std::fseek(stream_, 0, SEEK_SET) == 0,
                "the memory file empties");
    }

    const std::string& contents()
    {
        require(std::fflush(stream_) == 0, "the stream's buffer reaches the memory file");
        contents_.clear();
        char chunk[4096];
        for (off_t at = 0;;) {
            const auto n = pread(fd_, chunk, sizeof chunk, at);
            require(n >= 0, "the memory file reads back");
            if (n == 0)
                break;
            contents_.append(chunk, static_cast<std::size_t>(n));
            at += n;
        }
        return contents_;
    }

private:
    int fd_;
    std::FILE* stream_;
    std::string contents_;
};

// The capture as a file libpcap can open by name, without touching a disk.
const std::string& capture_path(const std::uint8_t* data, std::size_t size)
{
    static const int fd = memfd_create("capture", 0);
    static const std::string path = "/proc/self/fd/" + std::to_string(fd);
    require(fd >= 0, "a memory file opens");
    require(ftruncate(fd, 0) == 0, "the memory file empties");
    for (std::size_t written = 0; written < size;) {
        const auto n = pwrite(fd, data + written, size - written, static_cast<off_t>(written));
        require(n > 0, "the capture is written into the memory file");
        written += static_cast<std::size_t>(n);
    }
    return path;
}

void check_output(std::string_view out)
{
    require(out.empty() || out.back() == '\n', "the output ends with a whole line");
    std::uint64_t last_record = 0;
    while (!out.empty()) {
        const auto end = out.find('\n');
        const std::string line(out.substr(0, end));
        out.remove_prefix(end + 1);
        const auto members = fuzz::json_line_parser(line).object();
        require(required(members, "source") == "nflog", "every line says its source");
        require(required(members, "container") == container, "the container label comes back as it was given");
        if (members.contains("error")) {
            const auto record = std::stoull(required(members, "record"));
            require(record >= 1 && record >= last_record, "error lines name their records in order");
            last_record = record;
        } else {
            required(members, "group");
            required(members, "ts");
        }
    }
}

void check_diagnostics(int status, std::string_view diagnostics)
{
    if (status == watch::exit_ok) {
        require(diagnostics.empty(), "a capture read to its end leaves nothing on the diagnostics stream");
        return;
    }
    require(diagnostics.starts_with("nflog-watch: "), "a failure is told by the tool's name");
    require(diagnostics.find('\n') == diagnostics.size() - 1, "a failure is one line");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    watch::options opts;
    opts.read_path = capture_path(data, size);
    opts.container = container;

    static memory_file out("events");
    static memory_file diagnostics("diagnostics");
    out.empty();
    diagnostics.empty();
    const int status = watch::read_capture(opts, out.fd(), diagnostics.stream());
    require(status == watch::exit_ok || status == watch::exit_cannot_open ||
                status == watch::exit_unsupported_link_type || status == watch::exit_damaged_capture,
            "a capture ends with one of the statuses a capture can give");
    const auto& printed = out.contents();
    if (status == watch::exit_cannot_open || status == watch::exit_unsupported_link_type)
        require(printed.empty(), "a capture that cannot be read prints no line");
    check_output(printed);
    check_diagnostics(status, diagnostics.contents());
    return 0;
}
