#include "options.hpp"
#include "read_capture.hpp"

#include <cstdio>
#include <new>
#include <span>

int main(int argc, char** argv)
{
    using namespace nflog::watch;
    try {
        const std::span<const char* const> arguments(argv + (argc > 0 ? 1 : 0), argc > 0 ? argc - 1 : 0);
        const auto parsed = parse_options(arguments);
        if (!parsed.error.empty()) {
            std::fprintf(stderr, "nflog-watch: %s (see --help)\n", parsed.error.c_str());
            return exit_usage;
        }
        if (parsed.values.help) {
            const auto text = help_text();
            std::fwrite(text.data(), 1, text.size(), stdout);
            return std::fflush(stdout) == 0 ? exit_ok : exit_output_failed;
        }
        return read_capture(parsed.values, stdout, stderr);
    } catch (const std::bad_alloc&) {
        // The only exception the tool can meet: report it rather than abort.
        std::fputs("nflog-watch: out of memory\n", stderr);
        return exit_out_of_memory;
    }
}
