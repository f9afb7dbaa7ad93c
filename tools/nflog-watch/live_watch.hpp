#ifndef NFLOG_WATCH_LIVE_WATCH_HPP
#define NFLOG_WATCH_LIVE_WATCH_HPP

#include "options.hpp"

#include <cstdio>
#include <functional>

namespace nflog::watch {

class stop_request;

/// Binds `opts.groups` in each namespace of `opts.netns` (or in this one)
/// and writes one JSON line per logged packet to the descriptor `out`,
/// flushed after every received batch, until `--count` or `--idle-exit` is
/// reached, `stop` is requested (without it, nothing stops a watch from
/// outside), or something fails. Closing unbinds the groups. Problems
/// go to `diagnostics` as one line each, and so does the `--stats` line.
/// The `--pcap` file is created once every socket is bound, and
/// `inputs_ready` runs once it is, before anything is written: a watch that
/// cannot start leaves the files of an earlier run as they were. Returns an
/// `exit_status`.
int watch_live(const options& opts, int out, std::FILE* diagnostics, const std::function<void()>& inputs_ready = {},
               const stop_request* stop = nullptr);

} // namespace nflog::watch

#endif
