#include "nflog/options.hpp"

#include "nflog/detail/batching_controller.hpp"
#include "nflog/error.hpp"

#include <unistd.h>

#include <algorithm>

namespace nflog {

namespace {

// The kernel refuses (but still ACKs) an nlbufsiz below NLMSG_GOODSIZE, a
// page minus skb bookkeeping; one page is the smallest value that is safe on
// every page size up to 8 KiB.
std::uint32_t smallest_nlbufsiz() noexcept
{
    const long page = ::sysconf(_SC_PAGESIZE);
    return static_cast<std::uint32_t>(std::min<long>(page > 0 ? page : 4096, 8192));
}

// One message never exceeds the copy plus its metadata; the kernel
// allocates max(nlbufsiz, message) and rounds the allocation up, which can
// nearly double it (plus skb bookkeeping). Page-round the result.
std::size_t capacity_for(copy_mode mode, std::uint32_t copy_range, std::uint32_t nlbufsiz) noexcept
{
    constexpr std::size_t metadata = 1024;
    const std::size_t message = (mode == copy_mode::packet ? copy_range : 0) + metadata;
    const std::size_t bytes = 2 * std::max<std::size_t>(nlbufsiz, message) + 4096;
    return (bytes + 4095) & ~std::size_t{4095};
}

} // namespace

std::string_view invalid_option_reason(const options& opts) noexcept
{
    for (std::size_t i = 0; i < opts.groups.size(); ++i)
        for (std::size_t j = i + 1; j < opts.groups.size(); ++j)
            if (opts.groups[i] == opts.groups[j])
                return "groups: a group is listed twice";
    group_settings settings;
    settings.mode = opts.mode;
    settings.copy_range = opts.copy_range;
    settings.nlbufsiz = opts.nlbufsiz;
    settings.flush_timeout = opts.flush_timeout;
    settings.queue_threshold = opts.queue_threshold;
    if (const auto reason = invalid_option_reason(settings); !reason.empty())
        return reason;
    if (opts.receive_buffer_size > static_cast<std::size_t>(0x7fffffff))
        return "receive_buffer_size: at most 2147483647 bytes";
    // Below -1 is no descriptor and not "unused" either: most likely a failed
    // open() whose -1 was mangled, which must not mean the caller's namespace.
    if (opts.netns_fd < -1)
        return "netns_fd: a descriptor, or -1 for none";
    if (!opts.netns.empty() && opts.netns_fd >= 0)
        return "netns and netns_fd: one of them at most";
    if (opts.batching_delay.count() < 0 || opts.batching_delay > std::chrono::seconds(1))
        return "batching_delay: 0 to 1 s";
    if (opts.batching_rate == 0)
        return "batching_rate: at least 1 event per second";
    return {};
}

std::string_view invalid_option_reason(const group_settings& settings) noexcept
{
    if (settings.mode) {
        const auto mode = *settings.mode;
        if (mode != copy_mode::none && mode != copy_mode::meta && mode != copy_mode::packet)
            return "mode: none, meta or packet";
        if (mode == copy_mode::packet && (settings.copy_range == 0 || settings.copy_range > options::max_copy_range))
            return "copy_range: 1 to 65531 bytes when copying packets";
    }
    if (settings.nlbufsiz && (*settings.nlbufsiz < smallest_nlbufsiz() || *settings.nlbufsiz > options::max_nlbufsiz))
        return "nlbufsiz: one page to 131072 bytes";
    if (settings.flush_timeout &&
        (settings.flush_timeout->count() < 0 || *settings.flush_timeout > options::max_flush_timeout))
        return "flush_timeout: 0 to 42949670 ms";
    if (settings.queue_threshold && *settings.queue_threshold == 0)
        return "queue_threshold: at least 1";
    return {};
}

result<void> validate(const options& opts) noexcept
{
    if (opts.groups.empty())
        return make_error_code(errc::no_group);
    if (!invalid_option_reason(opts).empty())
        return make_error_code(errc::invalid_option);
    return boost::outcome_v2::success();
}

result<void> validate(const group_settings& settings) noexcept
{
    if (!invalid_option_reason(settings).empty())
        return make_error_code(errc::invalid_option);
    return boost::outcome_v2::success();
}

namespace detail {

batching_limits batching_limits_for(const options& opts) noexcept
{
    batching_limits limits;
    limits.max_queue_threshold = opts.queue_threshold;
    limits.max_nlbufsiz = opts.nlbufsiz;
    limits.min_nlbufsiz = std::min(smallest_nlbufsiz(), opts.nlbufsiz);
    limits.batching_rate = opts.batching_rate;
    limits.delay_ns = static_cast<std::uint64_t>(std::chrono::nanoseconds(opts.batching_delay).count());
    return limits;
}

} // namespace detail

std::size_t datagram_capacity(const options& opts) noexcept
{
    return capacity_for(opts.mode, opts.copy_range, opts.nlbufsiz);
}

std::size_t datagram_capacity(const group_settings& settings) noexcept
{
    return capacity_for(settings.mode.value_or(copy_mode::none), settings.copy_range, settings.nlbufsiz.value_or(0));
}

} // namespace nflog
