#ifndef NFLOG_WATCH_DIAGNOSTIC_LINES_HPP
#define NFLOG_WATCH_DIAGNOSTIC_LINES_HPP

#include "output_stream.hpp"

#include <cstdio>
#include <string_view>

namespace nflog::watch {

class stop_request;

/// Problems and counters, one line each, written out at once through an
/// `output_stream`: a reader of standard error that stopped reading cannot
/// hold a stopped tool either, and one that is merely slow still gets them.
class diagnostic_lines {
public:
    /// Writes to `file`'s descriptor, after what `file` still buffers.
    diagnostic_lines(std::FILE* file, const stop_request* stop);

    /// One line: "nflog-watch: " and `format` filled in.
    [[gnu::format(printf, 2, 3)]] void problem(const char* format, ...);

    /// `line` as it is.
    void line(std::string_view line);

private:
    std::FILE* file_;
    output_stream stream_;
};

} // namespace nflog::watch

#endif
