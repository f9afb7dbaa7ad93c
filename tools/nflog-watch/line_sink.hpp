#ifndef NFLOG_WATCH_LINE_SINK_HPP
#define NFLOG_WATCH_LINE_SINK_HPP

#include <cerrno>
#include <cstdio>
#include <string_view>

namespace nflog::watch {

/// Writes lines to a stdio stream. A failure is remembered instead of being
/// reported each time, so that a closed pipe costs one diagnostic, not one
/// per event.
class line_sink {
public:
    explicit line_sink(std::FILE* out) noexcept : out_(out) {}

    /// Writes `line` and a newline into the stream's buffer.
    void write(std::string_view line) noexcept
    {
        if (std::fwrite(line.data(), 1, line.size(), out_) != line.size() || std::fputc('\n', out_) == EOF)
            fail();
    }

    /// Hands everything written so far to the system; false once anything failed.
    bool flush() noexcept
    {
        if (std::fflush(out_) != 0 || std::ferror(out_))
            fail();
        return error_ == 0;
    }

    /// A write or a flush failed: later lines cannot reach the reader either.
    bool failed() const noexcept { return error_ != 0; }

    /// The errno of the first failure, 0 when there was none.
    int error() const noexcept { return error_; }

private:
    void fail() noexcept
    {
        if (error_ == 0)
            error_ = errno != 0 ? errno : EIO;
    }

    std::FILE* out_;
    int error_ = 0;
};

} // namespace nflog::watch

#endif
