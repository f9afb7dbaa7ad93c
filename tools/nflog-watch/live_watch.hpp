#ifndef NFLOG_WATCH_LIVE_WATCH_HPP
#define NFLOG_WATCH_LIVE_WATCH_HPP

#include "options.hpp"

#include <cstdio>

namespace nflog::watch {

/// Binds `opts.groups` in each namespace of `opts.netns` (or in this one)
/// and writes one JSON line per logged packet to `out`, flushed after every
/// received batch, until `--count` or `--idle-exit` is reached, SIGINT or
/// SIGTERM arrives, or something fails. Closing unbinds the groups. Problems
/// go to `diagnostics` as one line each, and so does the `--stats` line.
/// Returns an `exit_status`.
int watch_live(const options& opts, std::FILE* out, std::FILE* diagnostics);

} // namespace nflog::watch

#endif
