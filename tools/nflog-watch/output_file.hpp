#ifndef NFLOG_WATCH_OUTPUT_FILE_HPP
#define NFLOG_WATCH_OUTPUT_FILE_HPP

#include "unique_fd.hpp"

#include <string>

namespace nflog::watch {

class stop_request;

/// What `open_output_file` got: a descriptor, or the errno of the failure,
/// or neither when a stop came first.
struct opened_output {
    unique_fd fd;
    int error = 0;
};

/// Opens `path` for writing, creating it if need be, emptied when
/// `truncate` says so. The descriptor is non-blocking (an `output_stream`
/// waits for room itself, and a stop must be able to end that wait).
///
/// A FIFO nobody reads yet is waited for, as opening it blocking would, but
/// in short sleeps that a stop (with `stop`) ends: a blocking open cannot
/// be interrupted for good, since the stop signals restart what they
/// interrupt.
opened_output open_output_file(const std::string& path, bool truncate, const stop_request* stop);

} // namespace nflog::watch

#endif
