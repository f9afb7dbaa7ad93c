#include "diagnostic_lines.hpp"

#include <cstdarg>
#include <string>

namespace nflog::watch {
namespace {

constexpr std::size_t diagnostic_capacity = 4096;

} // namespace

diagnostic_lines::diagnostic_lines(std::FILE* file, const stop_request* stop)
    : file_(file), stream_(::fileno(file), stop, diagnostic_capacity)
{
}

void diagnostic_lines::problem(const char* format, ...)
{
    std::string text = "nflog-watch: ";
    std::va_list arguments;
    va_start(arguments, format);
    std::va_list measuring;
    va_copy(measuring, arguments);
    const int length = std::vsnprintf(nullptr, 0, format, measuring);
    va_end(measuring);
    if (length > 0) {
        const auto prefix = text.size();
        text.resize(prefix + static_cast<std::size_t>(length) + 1);
        std::vsnprintf(text.data() + prefix, static_cast<std::size_t>(length) + 1, format, arguments);
        text.resize(prefix + static_cast<std::size_t>(length));
    }
    va_end(arguments);
    line(text);
}

void diagnostic_lines::line(std::string_view line)
{
    std::fflush(file_);
    stream_.write_line(line, false);
    stream_.flush();
}

} // namespace nflog::watch
