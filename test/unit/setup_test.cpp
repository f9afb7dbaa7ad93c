// Synchronous requests against a stand-in for the kernel: one end of a
// datagram socket pair is the netlink socket, and a thread at the other end
// reads each request and answers as the test scripts it (data first, the
// answer later, an answer of an earlier request, ...).
#include <nflog/detail/receive_state.hpp>
#include <nflog/detail/setup.hpp>
#include <nflog/error.hpp>

#include "support/counting_allocator.hpp"
#include "support/message_builder.hpp"

#include <gtest/gtest.h>

#include <linux/netlink.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <iterator>
#include <mutex>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;

// What the stand-in read: each request's type and sequence number.
struct request_seen {
    std::uint16_t type = 0;
    std::uint32_t sequence = 0;
};

class fake_kernel {
public:
    // `script` runs on the kernel's thread with each request as it arrives;
    // it answers through `send`.
    explicit fake_kernel(std::function<void(fake_kernel&, const request_seen&)> script) : script_(std::move(script))
    {
        int ends[2];
        if (::socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, ends) != 0)
            throw std::system_error(errno, std::generic_category(), "socketpair");
        socket_ = ends[0];
        kernel_ = ends[1];
        // Room for datagrams as large as the kernel's largest batches.
        const int room = 4 << 20;
        ::setsockopt(kernel_, SOL_SOCKET, SO_SNDBUF, &room, sizeof room);
        ::setsockopt(socket_, SOL_SOCKET, SO_RCVBUF, &room, sizeof room);
        thread_ = std::thread([this] { serve(); });
    }
    fake_kernel(const fake_kernel&) = delete;
    fake_kernel& operator=(const fake_kernel&) = delete;
    ~fake_kernel()
    {
        ::shutdown(socket_, SHUT_RDWR);
        ::shutdown(kernel_, SHUT_RDWR);
        thread_.join();
        ::close(socket_);
        ::close(kernel_);
    }

    int socket() const noexcept { return socket_; }
    std::vector<request_seen> requests() const
    {
        std::lock_guard lock(mutex_);
        return seen_;
    }

    void send(const bytes& datagram) const
    {
        ASSERT_EQ(::send(kernel_, datagram.data(), datagram.size(), 0), static_cast<ssize_t>(datagram.size()));
    }

    // For a request that ended before all its script sent: waits (bounded)
    // until the script answered `count` requests, so that it never sends
    // into a socket already shut down.
    void wait_for_answers(std::size_t count) const
    {
        for (int wait = 0; wait < 2000 && answered_ < count; ++wait)
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }

    // Nothing is left for the socket to read.
    bool drained() const noexcept
    {
        std::byte probe[1];
        return ::recv(socket_, probe, sizeof probe, MSG_DONTWAIT) < 0 && errno == EAGAIN;
    }

private:
    void serve()
    {
        std::vector<std::byte> request(4096);
        for (;;) {
            const auto received = ::recv(kernel_, request.data(), request.size(), 0);
            if (received < static_cast<ssize_t>(sizeof(nlmsghdr)))
                return;
            nlmsghdr header;
            std::memcpy(&header, request.data(), sizeof header);
            const request_seen seen{header.nlmsg_type, header.nlmsg_seq};
            {
                std::lock_guard lock(mutex_);
                seen_.push_back(seen);
            }
            script_(*this, seen);
            ++answered_;
        }
    }

    std::function<void(fake_kernel&, const request_seen&)> script_;
    std::atomic<std::size_t> answered_{0};
    mutable std::mutex mutex_;
    std::vector<request_seen> seen_;
    int socket_ = -1;
    int kernel_ = -1;
    std::thread thread_;
};

// The kernel's answer to the request numbered `sequence`: 0 is an ACK.
bytes answer(int error, std::uint32_t sequence)
{
    auto out = error_message(error);
    // After the outer header and the error number: the request's header.
    std::memcpy(out.data() + sizeof(nlmsghdr) + sizeof(std::int32_t) + offsetof(nlmsghdr, nlmsg_seq), &sequence,
                sizeof sequence);
    return out;
}

// The same with the kernel's text for it (an extended ACK, request capped).
bytes answer_with_text(int error, std::uint32_t sequence, std::string_view text)
{
    bytes body;
    append_host<std::int32_t>(body, -error);
    auto request = message((NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_CONFIG, {}, NLM_F_REQUEST | NLM_F_ACK);
    std::memcpy(request.data() + offsetof(nlmsghdr, nlmsg_seq), &sequence, sizeof sequence);
    body = concat({body, request, attribute(NLMSGERR_ATTR_MSG, nul_terminated(text))});
    return message(NLMSG_ERROR, body, NLM_F_CAPPED | NLM_F_ACK_TLVS);
}

bytes packets(std::uint16_t group, std::uint32_t first_sequence, std::size_t count, std::size_t payload_size)
{
    bytes out;
    const bytes payload(payload_size, std::byte{0x45});
    for (std::size_t i = 0; i < count; ++i)
        out = concat({out, packet_message(2, group,
                                          concat({attribute(NFULA_PACKET_HDR, packet_header(0x0800, 3)),
                                                  attribute(NFULA_SEQ, be<std::uint32_t>(first_sequence + i)),
                                                  attribute(NFULA_PAYLOAD, payload)}))});
    return out;
}

detail::config_request threshold_request(std::uint16_t group)
{
    group_settings settings;
    settings.queue_threshold = 4;
    return detail::settings_request(group, settings);
}

// A request answered with an ACK, `datagram` arriving first; what the
// request kept for the receives, read with a buffer of `buffer_size`.
detail::request_state configure_while_data_arrives(const bytes& datagram, std::size_t buffer_size)
{
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        k.send(datagram);
        k.send(answer(0, request.sequence));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(buffer_size);
    EXPECT_TRUE(detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr).outcome);
    return requests;
}

// The `index`th datagram a request kept.
const detail::early_datagram& kept(const detail::early_store& store, std::size_t index)
{
    return *std::next(store.begin(), static_cast<std::ptrdiff_t>(index));
}

constexpr std::uint16_t permission_probe_type = (NFNL_SUBSYS_ULOG << 8) | NFULNL_MSG_MAX;

TEST(setup, a_datagram_that_arrives_before_the_answer_is_kept_whole_for_the_next_receive)
{
    // Larger than 64 KiB, as batches are with a large nlbufsiz.
    const auto datagram = packets(7, 0, 100, 1000);
    ASSERT_GT(datagram.size(), 65536u);
    auto requests = configure_while_data_arrives(datagram, 256 * 1024);

    ASSERT_EQ(requests.early.size(), 1u);
    EXPECT_EQ(kept(requests.early, 0).length, datagram.size());
    EXPECT_EQ(kept(requests.early, 0).bytes, datagram);
    detail::receive_state state(256 * 1024, {7}, std::move(requests));
    const auto received = state.take_early_datagram();
    ASSERT_TRUE(received);
    EXPECT_EQ(received.value().packet_count(), 100u);
    EXPECT_EQ(received.value().malformed(), 0u);
    EXPECT_FALSE(received.value().truncated());
    EXPECT_EQ(state.counters().lost, 0u);
    EXPECT_FALSE(state.has_early_datagram());
}

TEST(setup, a_datagram_larger_than_the_buffer_is_kept_as_cut_with_its_real_length)
{
    const auto datagram = packets(7, 0, 100, 1000);
    auto requests = configure_while_data_arrives(datagram, 64 * 1024);

    ASSERT_EQ(requests.early.size(), 1u);
    EXPECT_EQ(kept(requests.early, 0).length, datagram.size());
    EXPECT_EQ(kept(requests.early, 0).bytes.size(), 64u * 1024);
    // A socket with larger buffers still sees the datagram as the receive
    // cut it, not as a shorter whole one.
    detail::receive_state state(256 * 1024, {7}, std::move(requests));
    const auto received = state.take_early_datagram();
    ASSERT_TRUE(received);
    EXPECT_TRUE(received.value().truncated());
    EXPECT_EQ(state.counters().truncated, 1u);
}

TEST(setup, a_refusal_for_a_group_another_socket_owns_keeps_the_data_around_the_probe)
{
    const auto first = packets(7, 0, 3, 100);
    const auto second = packets(7, 3, 2, 100);
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        if (request.type != permission_probe_type) {
            k.send(first);
            k.send(answer(EPERM, request.sequence));
            return;
        }
        // With CAP_NET_ADMIN nfnetlink refuses the unknown type otherwise.
        k.send(second);
        k.send(answer(EOPNOTSUPP, request.sequence));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    const auto configured =
        detail::configure_group(kernel.socket(), threshold_request(9), buffer, requests, nullptr).outcome;

    ASSERT_FALSE(configured);
    EXPECT_EQ(configured.error(), errc::group_busy);
    ASSERT_EQ(requests.early.size(), 2u);
    EXPECT_EQ(kept(requests.early, 0).bytes, first);
    EXPECT_EQ(kept(requests.early, 1).bytes, second);
    EXPECT_TRUE(kernel.drained()) << "the probe's answer was left for a receive";
    const auto seen = kernel.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_NE(seen[1].sequence, seen[0].sequence);
}

TEST(setup, the_kernel_text_kept_is_the_refused_requests_not_the_probes)
{
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        k.send(answer_with_text(request.type == permission_probe_type ? EOPNOTSUPP : EPERM, request.sequence,
                                request.type == permission_probe_type ? "unknown message" : "instance owned"));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    std::string diagnostic;
    const auto configured =
        detail::configure_group(kernel.socket(), threshold_request(9), buffer, requests, &diagnostic).outcome;

    ASSERT_FALSE(configured);
    EXPECT_EQ(configured.error(), errc::group_busy);
    EXPECT_EQ(diagnostic, "instance owned");
}

TEST(setup, a_refusal_that_the_probe_meets_too_is_a_missing_capability)
{
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) { k.send(answer(EPERM, request.sequence)); });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    const auto configured =
        detail::configure_group(kernel.socket(), threshold_request(9), buffer, requests, nullptr).outcome;

    ASSERT_FALSE(configured);
    EXPECT_EQ(configured.error(), errc::permission_denied);
    EXPECT_TRUE(requests.early.empty());
    EXPECT_TRUE(kernel.drained());
}

TEST(setup, an_answer_to_an_earlier_request_is_not_taken_for_the_next_ones)
{
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        // The refusal of the request before this one arrives late, first.
        k.send(answer(ENODEV, request.sequence - 1));
        k.send(answer(0, request.sequence));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    ASSERT_TRUE(detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr).outcome);
    ASSERT_TRUE(detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr).outcome);

    const auto seen = kernel.requests();
    ASSERT_EQ(seen.size(), 2u);
    EXPECT_EQ(seen[1].sequence, seen[0].sequence + 1);
    EXPECT_EQ(requests.last_sequence, seen[1].sequence);
    // The late answers go to the receives, like anything else that is not
    // the awaited answer.
    EXPECT_EQ(requests.early.size(), 2u);
}

TEST(setup, request_numbers_wrap_below_those_of_batching_changes)
{
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) { k.send(answer(0, request.sequence)); });
    detail::request_state requests;
    requests.last_sequence = detail::batching_sequence_base - 1;
    std::vector<std::byte> buffer(64 * 1024);
    ASSERT_TRUE(detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr).outcome);

    const auto seen = kernel.requests();
    ASSERT_EQ(seen.size(), 1u);
    EXPECT_EQ(seen[0].sequence, 1u);
}

TEST(setup, an_overrun_met_while_waiting_is_reported_at_its_place_and_counted)
{
    detail::request_state requests;
    const auto before_overrun = packets(7, 0, 2, 100);
    const auto after_overrun = packets(7, 5, 1, 100);
    requests.early.keep(before_overrun, before_overrun.size());
    requests.early.keep_overrun();
    requests.early.keep(after_overrun, after_overrun.size());
    detail::receive_state state(64 * 1024, {7}, std::move(requests));

    const auto before = state.take_early_datagram();
    ASSERT_TRUE(before);
    EXPECT_EQ(before.value().packet_count(), 2u);
    const auto overrun = state.take_early_datagram();
    ASSERT_FALSE(overrun);
    EXPECT_EQ(overrun.error(), errc::kernel_overrun);
    EXPECT_EQ(state.counters().overruns, 1u);
    const auto after = state.take_early_datagram();
    ASSERT_TRUE(after);
    EXPECT_EQ(after.value().lost_before(), 3u);
    EXPECT_FALSE(state.has_early_datagram());
}

// Data that keeps coming must not keep the wait going: a request whose
// answer was lost ends by itself while a group floods.
TEST(setup, the_wait_for_an_answer_ends_while_data_keeps_arriving)
{
    constexpr int most_datagrams = 3000; // 15 s at one per 5 ms: far beyond the wait
    std::atomic<bool> returned{false};
    std::atomic<int> sent{0};
    const auto datagram = packets(7, 0, 1, 100);
    fake_kernel kernel([&](fake_kernel& k, const request_seen&) {
        for (int i = 0; i < most_datagrams && !returned; ++i) {
            k.send(datagram);
            ++sent;
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
        }
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    const auto configured = detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr);
    returned = true;
    kernel.wait_for_answers(1);

    ASSERT_FALSE(configured.outcome);
    EXPECT_EQ(configured.outcome.error(), boost::system::error_code(ETIMEDOUT, boost::system::generic_category()));
    EXPECT_TRUE(configured.may_have_applied) << "a request without an answer may still have been applied";
    EXPECT_LT(sent.load(), most_datagrams) << "the wait lasted as long as the data";
    EXPECT_GT(requests.early.size(), 0u);
}

TEST(setup, the_store_of_early_datagrams_is_bounded_and_marks_what_it_drops_once)
{
    detail::early_store store;
    const bytes megabyte(1u << 20, std::byte{0x45});
    const auto fit = detail::early_store::capacity_bytes / megabyte.size();
    for (std::size_t i = 0; i < fit; ++i)
        store.keep(megabyte, megabyte.size());
    ASSERT_EQ(store.size(), fit);
    EXPECT_EQ(store.bytes_kept(), detail::early_store::capacity_bytes);

    store.keep(megabyte, megabyte.size());
    store.keep(megabyte, megabyte.size());
    ASSERT_EQ(store.size(), fit + 1) << "two drops in a row are one overrun";
    EXPECT_TRUE(kept(store, fit).overrun);
    EXPECT_EQ(store.bytes_kept(), detail::early_store::capacity_bytes);

    // Once the receives took some, there is room again, after the mark.
    EXPECT_FALSE(store.take().overrun);
    store.keep(megabyte, 3u << 20);
    ASSERT_EQ(store.size(), fit + 1);
    EXPECT_FALSE(kept(store, fit).overrun);
    EXPECT_EQ(kept(store, fit).length, 3u << 20);
    EXPECT_TRUE(kept(store, fit - 1).overrun);
}

TEST(setup, a_datagram_that_cannot_be_kept_ends_the_request_as_one_that_may_have_been_applied)
{
    const auto datagram = packets(7, 0, 1, 333);
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        k.send(datagram);
        k.send(answer(0, request.sequence));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    failing_allocations no_copy(datagram.size());
    const auto configured = detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr);
    kernel.wait_for_answers(1);

    EXPECT_EQ(no_copy.failed(), 1u);
    ASSERT_FALSE(configured.outcome);
    EXPECT_EQ(configured.outcome.error(), boost::system::error_code(ENOMEM, boost::system::generic_category()));
    EXPECT_TRUE(configured.may_have_applied);
}

// Memory that runs out after the refusal (here while the probe that reads
// an EPERM waits) does not make a refused request one that may have been
// applied.
TEST(setup, a_refusal_stays_a_refusal_when_memory_runs_out_after_it)
{
    const auto datagram = packets(7, 0, 1, 333);
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        if (request.type == permission_probe_type)
            k.send(datagram);
        k.send(answer(request.type == permission_probe_type ? EOPNOTSUPP : EPERM, request.sequence));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    failing_allocations no_copy(datagram.size());
    const auto configured = detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr);
    kernel.wait_for_answers(2);

    EXPECT_EQ(no_copy.failed(), 1u);
    ASSERT_FALSE(configured.outcome);
    EXPECT_EQ(configured.outcome.error(), boost::system::error_code(ENOMEM, boost::system::generic_category()));
    EXPECT_FALSE(configured.may_have_applied);
}

TEST(setup, a_refused_request_was_not_applied_and_an_acknowledged_one_was)
{
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        k.send(answer(request.sequence % 2 == 1 ? EINVAL : 0, request.sequence));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    const auto refused = detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr);
    const auto taken = detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, nullptr);

    ASSERT_FALSE(refused.outcome);
    // Only a bind's EINVAL means a missing subsystem.
    EXPECT_EQ(refused.outcome.error(), boost::system::error_code(EINVAL, boost::system::generic_category()));
    EXPECT_FALSE(refused.may_have_applied);
    EXPECT_TRUE(taken.outcome);
    EXPECT_TRUE(taken.may_have_applied);
}

TEST(setup, the_diagnostic_holds_this_calls_refusal_or_nothing)
{
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        // A warning on an acceptance: not a refusal's text.
        k.send(answer_with_text(0, request.sequence, "a warning"));
    });
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    std::string diagnostic = "from an earlier call";
    ASSERT_TRUE(
        detail::configure_group(kernel.socket(), threshold_request(7), buffer, requests, &diagnostic).outcome);
    EXPECT_EQ(diagnostic, "");
}

// Binds groups 10, 11 and 12, the kernel answering each bind with the
// next of `answers`; what bind_groups said and which groups it bound.
std::pair<result<void>, std::vector<std::uint16_t>> bind_answered(std::vector<int> answers, bool conntrack = false)
{
    std::size_t next = 0;
    fake_kernel kernel([&](fake_kernel& k, const request_seen& request) {
        k.send(answer(next < answers.size() ? answers[next++] : 0, request.sequence));
    });
    options opts;
    opts.groups = {10, 11, 12};
    opts.conntrack = conntrack;
    detail::request_state requests;
    std::vector<std::byte> buffer(64 * 1024);
    std::vector<std::uint16_t> bound;
    auto out = detail::bind_groups(kernel.socket(), opts, buffer, requests, nullptr, bound);
    return {std::move(out), std::move(bound)};
}

TEST(setup, a_bind_that_nfnetlink_finds_no_subsystem_for_means_nflog_is_unavailable)
{
    // nfnetlink's answer when nfnetlink_log is neither built in nor loadable.
    const auto [bound, groups] = bind_answered({EINVAL});
    ASSERT_FALSE(bound);
    EXPECT_EQ(bound.error(), errc::nflog_unavailable);
    EXPECT_EQ(bound.error(), condition::unavailable);
    EXPECT_TRUE(groups.empty());
}

TEST(setup, binding_stops_at_the_first_refusal_and_says_which_groups_are_bound)
{
    const auto [bound, groups] = bind_answered({0, EBUSY});
    ASSERT_FALSE(bound);
    EXPECT_EQ(bound.error(), errc::group_already_bound);
    EXPECT_EQ(groups, std::vector<std::uint16_t>{10});

    const auto [all, every_group] = bind_answered({});
    EXPECT_TRUE(all);
    EXPECT_EQ(every_group, (std::vector<std::uint16_t>{10, 11, 12}));
}

TEST(setup, not_supported_names_conntrack_only_when_it_was_asked_for)
{
    const auto [with_conntrack, none] = bind_answered({EOPNOTSUPP}, true);
    ASSERT_FALSE(with_conntrack);
    EXPECT_EQ(with_conntrack.error(), errc::conntrack_unavailable);

    const auto [without, no_group] = bind_answered({EOPNOTSUPP}, false);
    ASSERT_FALSE(without);
    EXPECT_EQ(without.error(), boost::system::error_code(EOPNOTSUPP, boost::system::generic_category()));
}

} // namespace
