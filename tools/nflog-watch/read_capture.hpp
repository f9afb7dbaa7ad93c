#ifndef NFLOG_WATCH_READ_CAPTURE_HPP
#define NFLOG_WATCH_READ_CAPTURE_HPP

#include "options.hpp"

#include <cstdio>

namespace nflog::watch {

/// Prints every NFLOG packet of the capture `opts.read_path` to `out`, one JSON
/// line each, and an error line in place of each message that cannot be
/// parsed. Problems with the file itself go to `diagnostics` as one line.
/// Returns an `exit_status`.
int read_capture(const options& opts, std::FILE* out, std::FILE* diagnostics);

} // namespace nflog::watch

#endif
