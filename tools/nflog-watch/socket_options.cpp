#include "socket_options.hpp"

namespace nflog::watch {

nflog::options socket_options(const options& opts, const std::string& netns)
{
    nflog::options out;
    out.groups = opts.groups;
    out.netns = netns;
    if (opts.copy_range) {
        // The kernel takes a copy range of 0 in packet mode as "everything":
        // metadata-only is a mode of its own.
        if (*opts.copy_range == 0)
            out.mode = nflog::copy_mode::meta;
        else
            out.copy_range = *opts.copy_range;
    }
    if (opts.kernel.receive_buffer)
        out.receive_buffer_size = *opts.kernel.receive_buffer;
    if (opts.kernel.queue_threshold)
        out.queue_threshold = *opts.kernel.queue_threshold;
    if (opts.kernel.timeout)
        out.flush_timeout = *opts.kernel.timeout;
    if (opts.kernel.nlbufsiz)
        out.nlbufsiz = *opts.kernel.nlbufsiz;
    return out;
}

} // namespace nflog::watch
