#ifndef NFLOG_SOURCE_ID_HPP
#define NFLOG_SOURCE_ID_HPP

#include <cstdint>

namespace nflog {

/// Identifies the watcher (socket, namespace) an event came from, so that a
/// consumer of one channel fed by several of them can tell them apart. The
/// values are the application's: for example an index into its own table of
/// namespace names.
using source_id = std::uint32_t;

} // namespace nflog

#endif
