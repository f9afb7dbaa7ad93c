#ifndef NFLOG_WATCH_READ_CAPTURE_HPP
#define NFLOG_WATCH_READ_CAPTURE_HPP

#include "options.hpp"

#include <cstdio>
#include <functional>

namespace nflog::watch {

class stop_request;

/// Prints every NFLOG packet of the capture `opts.read_path` to the
/// descriptor `out`, one JSON line each, and an error line in place of each
/// message that cannot be parsed. Problems with the file itself go to `diagnostics` as one line.
/// Returns an `exit_status`.
/// `inputs_ready` runs once the capture is open and of a known link type,
/// before anything is written: a capture that cannot be read leaves the
/// output of an earlier run as it was.
/// With `stop`, a stop request ends the read after the last whole record,
/// as the end of the capture does; the lines printed by then are written
/// out unless their reader takes nothing for a second (see `output_stream`).
int read_capture(const options& opts, int out, std::FILE* diagnostics, const std::function<void()>& inputs_ready = {},
                 const stop_request* stop = nullptr);

} // namespace nflog::watch

#endif
