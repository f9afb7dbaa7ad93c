#include "nflog/detail/setup.hpp"

#include "nflog/detail/config_request.hpp"
#include "nflog/detail/netns.hpp"
#include "nflog/error.hpp"
#include "nflog/netlink/attribute.hpp"
#include "nflog/netlink/message.hpp"

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <new>
#include <cstdio>
#include <optional>
#include <string>
#include <utility>

namespace nflog::detail {
namespace {

boost::system::error_code from_errno(int error) { return {error, boost::system::generic_category()}; }

// The kernel answers a request while handling sendmsg, so the reply is
// queued before send returns. The limit is for the whole wait: an answer the
// kernel dropped in an overrun never comes, and a flooding group must not
// keep the wait going.
constexpr std::chrono::milliseconds reply_timeout{2000};

// nfnetlink checks CAP_NET_ADMIN before it looks at the message, and NFLOG's
// own EPERM means "another socket owns the group". A message type that
// nfnetlink_log does not define tells the two apart: EPERM without the
// capability, a different error with it.
constexpr std::uint16_t permission_probe_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_MAX;

// Sends requests on a bound socket and reads until each one's answer. A
// group bound earlier may log meanwhile: its datagrams, and an overrun
// among them, are kept in order for the socket's next receives.
class request_channel {
public:
    request_channel(int fd, std::span<std::byte> buffer, request_state& requests, std::string* diagnostic)
        : fd_(fd), buffer_(buffer), requests_(requests), diagnostic_(diagnostic)
    {
        // What the caller finds there afterwards is this call's text or nothing.
        if (diagnostic_ != nullptr)
            diagnostic_->clear();
    }

    /// Sends one request and waits for its ACK; 0 or the kernel's errno.
    result<int> transact(const config_request& request)
    {
        alignas(nlmsghdr) std::array<std::byte, config_message_capacity> message{};
        const auto sequence = next_sequence();
        const auto length = build_config_message(message, request, sequence);
        return exchange(std::span(message).first(length), sequence);
    }

    /// Whether a request reached the kernel.
    bool sent() const noexcept { return sent_; }
    /// Whether the kernel refused one.
    bool refused() const noexcept { return refused_; }

    /// What an EPERM answer meant: `errc::permission_denied` (no
    /// CAP_NET_ADMIN) or `errc::group_busy` (another socket owns the group).
    boost::system::error_code classify_permission_error()
    {
        alignas(nlmsghdr) std::array<std::byte, NLMSG_LENGTH(sizeof(nfgenmsg))> message{};
        const auto sequence = next_sequence();
        nlmsghdr header{};
        header.nlmsg_len = static_cast<std::uint32_t>(message.size());
        header.nlmsg_type = permission_probe_type;
        header.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
        header.nlmsg_seq = sequence;
        std::memcpy(message.data(), &header, sizeof header);
        // The refused request's text is the one to keep, not the probe's.
        const auto text = std::exchange(diagnostic_, nullptr);
        const auto answer = exchange(message, sequence);
        diagnostic_ = text;
        return make_error_code(answer && answer.value() != EPERM ? errc::group_busy : errc::permission_denied);
    }

private:
    std::uint32_t next_sequence() noexcept
    {
        auto& last = requests_.last_sequence;
        last = last + 1 < batching_sequence_base ? last + 1 : 1;
        return last;
    }

    result<int> exchange(std::span<const std::byte> message, std::uint32_t sequence)
    {
        if (::send(fd_, message.data(), message.size(), 0) < 0)
            return from_errno(errno);
        sent_ = true;
        return await_answer(sequence);
    }

    result<int> await_answer(std::uint32_t sequence)
    {
        const auto deadline = std::chrono::steady_clock::now() + reply_timeout;
        bool overrun = false;
        for (;;) {
            const auto left =
                std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count();
            pollfd waiting{fd_, POLLIN, 0};
            const int ready = left > 0 ? ::poll(&waiting, 1, static_cast<int>(left)) : 0;
            if (ready == 0)
                // An overrun may have taken the answer with it.
                return overrun ? make_error_code(errc::kernel_overrun) : from_errno(ETIMEDOUT);
            if (ready < 0) {
                if (errno == EINTR)
                    continue;
                return from_errno(errno);
            }
            const auto received = ::recv(fd_, buffer_.data(), buffer_.size(), MSG_TRUNC | MSG_DONTWAIT);
            if (received < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                if (errno != ENOBUFS)
                    return from_errno(errno);
                // The kernel dropped datagrams (or the answer itself): the
                // socket reports the overrun at its place, and the answer
                // is still awaited.
                overrun = true;
                requests_.early.keep_overrun();
                continue;
            }
            const auto length = static_cast<std::size_t>(received);
            const auto datagram = std::span<const std::byte>(buffer_).first(std::min(length, buffer_.size()));
            if (auto answer = find_answer(datagram, sequence))
                return *answer;
            requests_.early.keep(datagram, length);
        }
    }

    std::optional<int> find_answer(std::span<const std::byte> datagram, std::uint32_t sequence)
    {
        for (const auto& item : netlink::message_range(datagram)) {
            if (!item || !item.value().is_error())
                continue;
            const auto reply = netlink::parse_error(item.value());
            if (!reply || reply.value().request_sequence != sequence)
                continue;
            if (reply.value().error != 0) {
                refused_ = true; // before anything that may throw
                keep_diagnostic(reply.value().extended_ack);
            }
            return reply.value().error;
        }
        return std::nullopt;
    }

    void keep_diagnostic(std::span<const std::byte> extended_ack)
    {
        if (diagnostic_ == nullptr)
            return;
        for (const auto& attribute : netlink::attribute_range(extended_ack))
            if (attribute && attribute.value().type() == NLMSGERR_ATTR_MSG)
                *diagnostic_ = std::string(attribute.value().as_string());
    }

    int fd_;
    std::span<std::byte> buffer_;
    request_state& requests_;
    std::string* diagnostic_;
    bool sent_ = false;
    bool refused_ = false;
};

// The kernel says only "busy" for a group another socket owns; of several
// groups the caller cannot tell which, so the diagnostic names it unless the
// kernel wrote one.
void name_the_busy_group(std::string* diagnostic, std::uint16_t group, const boost::system::error_code& error) noexcept
{
    if (diagnostic == nullptr || !diagnostic->empty() || error != errc::group_busy)
        return;
    std::array<char, 48> text{};
    const int length = std::snprintf(text.data(), text.size(), "group %u is bound by another socket",
                                     static_cast<unsigned>(group));
    write_diagnostic(diagnostic, std::string_view(text.data(), static_cast<std::size_t>(length)));
}

boost::system::error_code bind_error(int error, request_channel& channel)
{
    switch (error) {
    case EPERM: return channel.classify_permission_error();
    case EBUSY: return make_error_code(errc::group_already_bound);
    case ENODEV: return make_error_code(errc::group_not_bound);
    default: return from_errno(error);
    }
}

void set_receive_buffer(int fd, std::size_t bytes)
{
    if (bytes == 0)
        return;
    const int value = static_cast<int>(bytes);
    // FORCE ignores net.core.rmem_max but needs CAP_NET_ADMIN; without it the
    // plain option still gives as much as the system allows.
    if (::setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof value) != 0)
        ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &value, sizeof value);
}

} // namespace

void write_diagnostic(std::string* diagnostic, std::string_view text) noexcept
{
    if (diagnostic == nullptr)
        return;
    try {
        diagnostic->assign(text);
    }
    catch (const std::bad_alloc&) {
        diagnostic->clear();
    }
}

result<bound_socket> open_and_bind(const options& opts, std::string* diagnostic)
try {
    if (auto valid = validate(opts); !valid) {
        if (valid.error() == errc::invalid_option)
            write_diagnostic(diagnostic, invalid_option_reason(opts));
        return valid.error();
    }
    // Made before the descriptor exists, so that running out of memory here
    // leaves nothing to clean up.
    bound_socket bound;
    std::vector<std::byte> buffer(datagram_capacity(opts));
    std::vector<std::uint16_t> bound_groups;
    bound_groups.reserve(opts.groups.size());
    BOOST_OUTCOME_TRY(const int fd, open_netlink_socket(NETLINK_NETFILTER, opts.netns, opts.netns_fd));
    bound.fd = fd;
    auto fail = [&](boost::system::error_code error) -> result<bound_socket> {
        unbind_groups(fd, bound_groups);
        ::close(fd);
        return error;
    };

    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
        return fail(from_errno(errno));
    // Connected to the kernel (port 0), the socket takes datagrams from the
    // kernel alone: another process with CAP_NET_ADMIN in the namespace, such
    // as the root of a container whose namespace is watched, could otherwise
    // send it forged events and forged replies to its requests.
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (::connect(fd, reinterpret_cast<const sockaddr*>(&kernel), sizeof kernel) != 0)
        return fail(from_errno(errno));
    const int on = 1;
    // Both are optional refinements of error replies; old kernels lack them.
    ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    set_receive_buffer(fd, opts.receive_buffer_size);

    try {
        if (auto binding = bind_groups(fd, opts, buffer, bound.requests, diagnostic, bound_groups); !binding)
            return fail(binding.error());
    }
    catch (const std::bad_alloc&) {
        // Keeping an early datagram or the kernel's diagnostic text.
        return fail(from_errno(ENOMEM));
    }
    return bound;
}
catch (const std::bad_alloc&) {
    return from_errno(ENOMEM);
}

result<void> bind_groups(int fd, const options& opts, std::span<std::byte> buffer, request_state& requests,
                         std::string* diagnostic, std::vector<std::uint16_t>& bound)
{
    request_channel channel(fd, buffer, requests, diagnostic);
    for (const auto group : opts.groups) {
        // nfnetlink replays a request itself when the kernel asks to try
        // again (a module it just loaded, such as conntrack's).
        BOOST_OUTCOME_TRY(const int answer, channel.transact(bind_request(opts, group)));
        switch (answer) {
        case 0: break;
        // nfnetlink's answer when no nfnetlink_log subsystem is registered
        // and none could be loaded. The library's requests are well formed,
        // so it means nothing else here.
        case EINVAL: return make_error_code(errc::nflog_unavailable);
        // Only the conntrack flag makes a bind "not supported": say which.
        case EOPNOTSUPP:
            if (opts.conntrack)
                return make_error_code(errc::conntrack_unavailable);
            [[fallthrough]];
        default: {
            const auto error = bind_error(answer, channel);
            name_the_busy_group(diagnostic, group, error);
            return error;
        }
        }
        bound.push_back(group);
    }
    return boost::outcome_v2::success();
}

configure_answer configure_group(int fd, const config_request& request, std::span<std::byte> buffer,
                                 request_state& requests, std::string* diagnostic)
{
    request_channel channel(fd, buffer, requests, diagnostic);
    configure_answer out;
    try {
        auto answer = channel.transact(request);
        if (!answer)
            out.outcome = answer.error();
        else if (answer.value() != 0)
            out.outcome = bind_error(answer.value(), channel);
    }
    catch (const std::bad_alloc&) {
        // A datagram that could not be kept is gone: its events count as lost
        // at the next datagram of their group.
        out.outcome = from_errno(ENOMEM);
    }
    // Sent, the request may have been applied unless the kernel refused it;
    // an answer lost or unread leaves that open.
    out.may_have_applied = channel.sent() && !channel.refused();
    return out;
}

bool send_batching(int fd, std::uint16_t group, std::uint32_t sequence, const batching_target& target) noexcept
{
    config_request request;
    request.group = group;
    request.queue_threshold = target.queue_threshold;
    request.nlbufsiz = target.nlbufsiz;
    // Read among the data, the answer tells from which datagram on the
    // change is in force (see `receive_state`).
    request.acknowledge = true;
    alignas(nlmsghdr) std::array<std::byte, config_message_capacity> message{};
    const auto length = build_config_message(message, request, sequence);
    return ::send(fd, message.data(), length, MSG_DONTWAIT) == static_cast<ssize_t>(length);
}

void unbind_groups(int fd, std::span<const std::uint16_t> groups) noexcept
{
    for (const auto group : groups) {
        config_request request;
        request.group = group;
        request.cmd = config_request::command::unbind;
        request.acknowledge = false;
        alignas(nlmsghdr) std::array<std::byte, config_message_capacity> message{};
        const auto length = build_config_message(message, request, 0);
        ::send(fd, message.data(), length, MSG_DONTWAIT);
    }
}

} // namespace nflog::detail
