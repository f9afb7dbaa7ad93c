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

#include <array>
#include <cerrno>

namespace nflog::detail {
namespace {

boost::system::error_code from_errno(int error) { return {error, boost::system::generic_category()}; }

// The kernel answers a request while handling sendmsg, so the reply is
// already queued; the timeout only guards against a kernel that never does.
constexpr int reply_timeout_ms = 2000;
constexpr std::size_t reply_buffer_size = 64 * 1024;

class request_channel {
public:
    request_channel(int fd, std::deque<std::vector<std::byte>>& early, std::string* diagnostic)
        : fd_(fd), early_(early), diagnostic_(diagnostic), buffer_(reply_buffer_size)
    {
    }

    /// Sends one request and waits for its ACK; 0 or the kernel's errno.
    result<int> transact(const config_request& request)
    {
        alignas(nlmsghdr) std::array<std::byte, config_message_capacity> message{};
        const auto sequence = ++sequence_;
        const auto length = build_config_message(message, request, sequence);
        if (::send(fd_, message.data(), length, 0) < 0)
            return from_errno(errno);
        return await_ack(sequence);
    }

private:
    result<int> await_ack(std::uint32_t sequence)
    {
        for (;;) {
            pollfd waiting{fd_, POLLIN, 0};
            const int ready = ::poll(&waiting, 1, reply_timeout_ms);
            if (ready == 0)
                return from_errno(ETIMEDOUT);
            if (ready < 0) {
                if (errno == EINTR)
                    continue;
                return from_errno(errno);
            }
            const auto received = ::recv(fd_, buffer_.data(), buffer_.size(), MSG_TRUNC);
            if (received < 0) {
                if (errno == EINTR || errno == EAGAIN)
                    continue;
                // ENOBUFS: packets of an already bound group overflowed the
                // buffer; the ACK itself may be gone with them, so ask again
                // by failing this attempt loudly rather than guessing.
                return from_errno(errno);
            }
            const auto size = std::min<std::size_t>(static_cast<std::size_t>(received), buffer_.size());
            const std::span<const std::byte> datagram(buffer_.data(), size);
            if (auto answer = find_ack(datagram, sequence))
                return *answer;
            early_.emplace_back(datagram.begin(), datagram.end());
        }
    }

    std::optional<int> find_ack(std::span<const std::byte> datagram, std::uint32_t sequence)
    {
        for (const auto& item : netlink::message_range(datagram)) {
            if (!item || !item.value().is_error())
                continue;
            const auto reply = netlink::parse_error(item.value());
            if (!reply || reply.value().request_sequence != sequence)
                continue;
            keep_diagnostic(reply.value().extended_ack);
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
    std::deque<std::vector<std::byte>>& early_;
    std::string* diagnostic_;
    std::vector<std::byte> buffer_;
    std::uint32_t sequence_ = 0;
};

// nfnetlink checks CAP_NET_ADMIN before it looks at the message, and NFLOG's
// own EPERM means "another socket owns the group". A message type that
// nfnetlink_log does not define tells the two apart: EPERM without the
// capability, a different error with it.
boost::system::error_code classify_permission_error(int fd)
{
    alignas(nlmsghdr) std::array<std::byte, 64> message{};
    auto* header = reinterpret_cast<nlmsghdr*>(message.data());
    header->nlmsg_len = NLMSG_LENGTH(sizeof(nfgenmsg));
    header->nlmsg_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_MAX;
    header->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    header->nlmsg_seq = 0x7e57ca9u;
    if (::send(fd, message.data(), header->nlmsg_len, 0) < 0)
        return make_error_code(errc::permission_denied);
    std::array<std::byte, 1024> reply{};
    pollfd waiting{fd, POLLIN, 0};
    if (::poll(&waiting, 1, reply_timeout_ms) <= 0)
        return make_error_code(errc::permission_denied);
    const auto received = ::recv(fd, reply.data(), reply.size(), 0);
    if (received <= 0)
        return make_error_code(errc::permission_denied);
    for (const auto& item : netlink::message_range(std::span(reply.data(), static_cast<std::size_t>(received)))) {
        if (!item || !item.value().is_error())
            continue;
        const auto answer = netlink::parse_error(item.value());
        if (answer && answer.value().request_sequence == header->nlmsg_seq)
            return make_error_code(answer.value().error == EPERM ? errc::permission_denied : errc::group_busy);
    }
    return make_error_code(errc::permission_denied);
}

boost::system::error_code bind_error(int error, int fd)
{
    switch (error) {
    case EPERM: return classify_permission_error(fd);
    case EBUSY: return make_error_code(errc::group_already_bound);
    case ENODEV: return make_error_code(errc::group_not_bound);
    // nfnetlink answers these when no nfnetlink_log subsystem is registered.
    case EPROTONOSUPPORT:
    case ENOENT: return make_error_code(errc::nflog_unavailable);
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

result<bound_socket> open_and_bind(const options& opts, std::string* diagnostic)
{
    BOOST_OUTCOME_TRY(validate(opts));
    BOOST_OUTCOME_TRY(const int fd, open_netlink_socket(NETLINK_NETFILTER, opts.netns, opts.netns_fd));

    bound_socket bound;
    bound.fd = fd;
    std::vector<std::uint16_t> bound_groups;
    auto fail = [&](boost::system::error_code error) -> result<bound_socket> {
        unbind_groups(fd, bound_groups);
        ::close(fd);
        return error;
    };

    sockaddr_nl local{};
    local.nl_family = AF_NETLINK;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0)
        return fail(from_errno(errno));
    const int on = 1;
    // Both are optional refinements of error replies; old kernels lack them.
    ::setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &on, sizeof on);
    ::setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &on, sizeof on);
    set_receive_buffer(fd, opts.receive_buffer_size);

    request_channel channel(fd, bound.early_datagrams, diagnostic);
    for (const auto group : opts.groups) {
        auto answer = channel.transact(bind_request(opts, group));
        // Asking for conntrack data makes the kernel load its module and ask
        // the caller to try again.
        if (answer && answer.value() == EAGAIN)
            answer = channel.transact(bind_request(opts, group));
        if (!answer)
            return fail(answer.error());
        if (answer.value() != 0)
            // Only the conntrack flag makes a bind "not supported": say which.
            return fail(answer.value() == EOPNOTSUPP && opts.conntrack ? make_error_code(errc::conntrack_unavailable)
                                                                       : bind_error(answer.value(), fd));
        bound_groups.push_back(group);
    }
    return bound;
}

result<void> configure_group(int fd, const config_request& request, std::deque<std::vector<std::byte>>& early,
                             std::string* diagnostic)
{
    request_channel channel(fd, early, diagnostic);
    BOOST_OUTCOME_TRY(const int answer, channel.transact(request));
    if (answer != 0)
        return bind_error(answer, fd);
    return boost::outcome_v2::success();
}

bool send_batching(int fd, std::uint16_t group, std::uint32_t sequence, const batching_target& target) noexcept
{
    config_request request;
    request.group = group;
    request.queue_threshold = target.queue_threshold;
    request.nlbufsiz = target.nlbufsiz;
    request.acknowledge = false;
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
