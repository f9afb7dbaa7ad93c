#include <nflog/detail/batching_controller.hpp>

#include "support/message_builder.hpp"
#include "support/packet_builder.hpp"

#include <nflog/detail/receive_state.hpp>

#include <gtest/gtest.h>

#include <linux/if_ether.h>
#include <linux/netfilter.h>
#include <netinet/in.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <vector>

namespace {

using namespace nflog;
using namespace nflog::test;
using namespace nflog::test::packets;
using detail::batching_controller;
using detail::batching_limits;
using detail::batching_target;

constexpr std::uint64_t ms = 1'000'000;
constexpr std::uint64_t us = 1'000;

batching_limits defaults() { return {}; }

/// Feeds a steady stream: `rate` events per second for `duration_ns`, in
/// datagrams of `per_datagram` events of `event_bytes` bytes each, starting
/// at `start_ns`. Commits every proposal (as a socket whose sends succeed
/// does) and returns them all.
struct stream_result {
    std::vector<batching_target> proposals;
    std::uint64_t end_ns = 0;
};

stream_result feed(batching_controller& controller, std::uint64_t start_ns, std::uint64_t duration_ns, double rate,
                   std::uint64_t per_datagram = 0, std::uint64_t event_bytes = 160)
{
    stream_result out;
    for (std::uint64_t now = start_ns; now < start_ns + duration_ns;) {
        // The batch the kernel would flush at this rate and the current threshold.
        const auto batch = per_datagram != 0 ? per_datagram : controller.current().queue_threshold;
        now += static_cast<std::uint64_t>(static_cast<double>(batch) * 1e9 / rate);
        if (auto change = controller.observe(now, batch, batch * event_bytes)) {
            controller.commit(*change);
            out.proposals.push_back(*change);
        }
        out.end_ns = now;
    }
    return out;
}

TEST(batching_controller, starts_with_one_event_per_datagram_and_the_smallest_buffer)
{
    const batching_controller controller(defaults());
    EXPECT_EQ(controller.initial().queue_threshold, 1u);
    EXPECT_EQ(controller.initial().nlbufsiz, defaults().min_nlbufsiz);
    EXPECT_EQ(controller.current(), controller.initial());
}

TEST(batching_controller, rare_events_keep_one_event_per_datagram)
{
    batching_controller controller(defaults());
    std::uint64_t now = 0;
    for (const double rate : {1.0, 100.0, 1000.0, 10000.0, 50000.0, 55000.0}) {
        const auto run = feed(controller, now, 2000 * ms, rate);
        EXPECT_TRUE(run.proposals.empty()) << rate << " events/s";
        now = run.end_ns;
    }
}

TEST(batching_controller, the_level_grows_with_the_fourth_power_of_the_rate)
{
    const batching_controller reference(defaults());
    // (rate / 50k)^4, at most rate * 8 ms, rounded down to a power of two, at most 2048.
    EXPECT_EQ(reference.level(50'000), 1u);
    EXPECT_EQ(reference.level(60'000), 2u);
    EXPECT_EQ(reference.level(100'000), 16u);
    EXPECT_EQ(reference.level(200'000), 256u);
    EXPECT_EQ(reference.level(300'000), 1024u);
    EXPECT_EQ(reference.level(350'000), 2048u);
    EXPECT_EQ(reference.level(5'000'000), 2048u);
    // A steady rate settles where rate / 1.15 (the margin) puts it.
    const std::vector<std::pair<double, std::uint32_t>> expected = {
        {70'000, 2},    {100'000, 8},   {130'000, 16},  {150'000, 32},
        {200'000, 128}, {250'000, 256}, {300'000, 512}, {350'000, 1024}, {400'000, 2048},
        {2'000'000, 2048}};
    for (const auto& [rate, level] : expected) {
        batching_controller controller(defaults());
        // Long enough for the busy spell to earn 2048 (262144 events) at 400k/s.
        feed(controller, 0, 1000 * ms, rate);
        EXPECT_EQ(controller.current().queue_threshold, level) << rate << " events/s";
    }
}

TEST(batching_controller, the_fill_time_caps_the_level)
{
    auto limits = defaults();
    limits.delay_ns = 100 * us; // a batch must fill within 100 us
    batching_controller controller(limits);
    feed(controller, 0, 500 * ms, 620'000);
    // 620k/s (less the margin: 539k/s) * 100 us = 54 events: 32.
    EXPECT_EQ(controller.current().queue_threshold, 32u);
}

TEST(batching_controller, the_ceiling_caps_the_level)
{
    auto limits = defaults();
    limits.max_queue_threshold = 100;
    batching_controller controller(limits);
    feed(controller, 0, 500 * ms, 2'000'000);
    EXPECT_EQ(controller.current().queue_threshold, 64u);
}

TEST(batching_controller, a_flood_is_met_within_its_first_window)
{
    batching_controller controller(defaults());
    std::optional<batching_target> change;
    std::uint64_t now = 0;
    std::uint64_t events = 0;
    // 600k events/s, one per datagram: the early close comes after 256 events.
    while (!change && now < defaults().window_ns) {
        now += 1'667;
        ++events;
        change = controller.observe(now, 1, 160);
    }
    ASSERT_TRUE(change.has_value());
    EXPECT_EQ(events, defaults().early_events);
    // 256 events in 0.4 ms, counted over at least 2 ms: 128k/s, which asks
    // for 16; a spell of 256 events has earned 2.
    EXPECT_EQ(change->queue_threshold, 2u);
    controller.commit(*change);
    // Every step up is taken early, as soon as the spell has earned it.
    while (now < defaults().window_ns) {
        const auto batch = controller.current().queue_threshold;
        now += batch * 1'667;
        events += batch;
        if (auto next = controller.observe(now, batch, batch * 160)) {
            EXPECT_GT(next->queue_threshold, controller.current().queue_threshold);
            controller.commit(*next);
        }
    }
    // About 12000 events in the first 20 ms: 64 is earned (8192), 128 is not.
    EXPECT_EQ(controller.current().queue_threshold, 64u);
}

TEST(batching_controller, a_level_is_earned_by_a_spell_of_128_events_for_each_event_of_a_batch)
{
    batching_controller controller(defaults());
    std::uint64_t now = 0;
    std::uint64_t events = 0;
    std::vector<std::pair<std::uint64_t, std::uint32_t>> steps; // events seen, level taken
    // 600k events/s for a second, in the batches the kernel would flush.
    while (now < 1000 * ms) {
        const auto batch = controller.current().queue_threshold;
        now += batch * 1'667;
        events += batch;
        if (auto next = controller.observe(now, batch, batch * 160)) {
            controller.commit(*next);
            steps.emplace_back(events, next->queue_threshold);
        }
    }
    ASSERT_FALSE(steps.empty());
    for (const auto& [seen, level] : steps)
        EXPECT_GE(seen, std::uint64_t{level} * 128) << "level " << level;
    EXPECT_EQ(steps.back().second, 2048u);
    // Each step comes within an early window of the events that earn it.
    EXPECT_LT(steps.back().first, 2048u * 128 + 2048 + defaults().early_events);
}

TEST(batching_controller, a_burst_leaves_few_of_its_events_waiting_for_the_flush_timer)
{
    batching_controller controller(defaults());
    std::uint64_t now = 0;
    std::uint64_t events = 0;
    std::uint64_t waiting = 0;
    std::uint32_t highest = 1;
    const auto arrive = [&](std::uint64_t count) {
        if (auto next = controller.observe(now, count, count * 160)) {
            controller.commit(*next);
            highest = std::max(highest, next->queue_threshold);
        }
    };
    // 1000 events at 300k/s every 100 ms: the kernel batches at the
    // threshold in force, and a burst's last partial batch waits for its
    // timer (8 ms).
    for (int burst = 0; burst < 30; ++burst) {
        now = std::max(now, static_cast<std::uint64_t>(burst) * 100 * ms);
        std::uint64_t left = 1000;
        while (left > 0) {
            const auto threshold = controller.current().queue_threshold;
            if (left < threshold) {
                waiting += left;
                now += 8 * ms;
                arrive(left);
                break;
            }
            now += threshold * 3'333;
            left -= threshold;
            arrive(threshold);
        }
        events += 1000;
    }
    EXPECT_LT(waiting * 128, events) << waiting << " of " << events << " events waited for the timer";
    // 1000 / 128 = 7.8: every burst earns 4, and no burst more.
    EXPECT_EQ(highest, 4u);
}

/// Bursts of `burst` events at 300k/s every `period_ns`, read as the kernel
/// would batch them: a burst's last partial batch waits for the flush timer
/// (8 ms), and is reported as such when `tell_timer` says so.
struct bursts_result {
    std::uint64_t events = 0;
    std::uint64_t waiting = 0;
    std::uint32_t highest = 1;
    std::uint32_t last = 1;
};

bursts_result close_bursts(batching_controller& controller, int bursts, std::uint64_t burst, std::uint64_t period_ns,
                           bool tell_timer)
{
    bursts_result out;
    std::uint64_t now = 0;
    const auto take = [&](std::optional<batching_target> next) {
        if (next) {
            controller.commit(*next);
            out.highest = std::max(out.highest, next->queue_threshold);
        }
    };
    for (int i = 0; i < bursts; ++i) {
        now = std::max(now, static_cast<std::uint64_t>(i) * period_ns);
        std::uint64_t left = burst;
        while (left > 0) {
            const auto threshold = controller.current().queue_threshold;
            if (left < threshold) {
                out.waiting += left;
                now += 8 * ms;
                take(controller.observe(now, left, left * 160));
                if (tell_timer)
                    take(controller.flushed_by_timer(now, left));
                break;
            }
            now += threshold * 3'333;
            left -= threshold;
            take(controller.observe(now, threshold, threshold * 160));
        }
        out.events += burst;
    }
    out.last = controller.current().queue_threshold;
    return out;
}

// 3000 events every 25 ms: no quiet window between the bursts, so the spell
// never ends and would earn ever larger batches, whose last partial one
// waits at every burst's end (13 % of the events here). Told of those
// waits, the controller keeps them under the earning rule's share, one in
// 128 (one in 188 here).
TEST(batching_controller, close_bursts_keep_the_events_left_for_the_flush_timer_in_budget)
{
    batching_controller blind(defaults());
    const auto unchecked = close_bursts(blind, 200, 3000, 25 * ms, false);
    EXPECT_GT(unchecked.waiting * 128, unchecked.events)
        << "without the timer's reports the bursts overdraw: " << unchecked.waiting << " of " << unchecked.events;

    batching_controller told(defaults());
    const auto checked = close_bursts(told, 200, 3000, 25 * ms, true);
    EXPECT_LT(checked.waiting * 128, checked.events)
        << checked.waiting << " of " << checked.events << " events waited for the timer";
    EXPECT_GT(checked.last, 1u) << "the bursts still batch";
    EXPECT_LT(checked.last, unchecked.last);
}

TEST(batching_controller, a_flood_whose_sender_paused_keeps_its_level)
{
    batching_controller controller(defaults());
    auto flood = feed(controller, 0, 1000 * ms, 600'000);
    ASSERT_EQ(controller.current().queue_threshold, 2048u);
    // The sender stopped for a moment: 700 events waited for the timer.
    EXPECT_EQ(controller.flushed_by_timer(flood.end_ns + 8 * ms, 700), std::nullopt);
    feed(controller, flood.end_ns + 8 * ms, 100 * ms, 600'000);
    EXPECT_EQ(controller.current().queue_threshold, 2048u);
}

TEST(batching_controller, an_overdrawn_budget_halves_the_level_and_the_spell_earns_it_again)
{
    batching_controller controller(defaults());
    // 250k events/s asks for 256: earned after 32,768 events.
    const auto first = feed(controller, 0, 400 * ms, 250'000);
    ASSERT_EQ(controller.current().queue_threshold, 256u);
    // The budget is one waiting event in 256 of the spell: about 390 here.
    auto lower = controller.flushed_by_timer(first.end_ns, 500);
    ASSERT_TRUE(lower.has_value());
    EXPECT_EQ(lower->queue_threshold, 128u);
    controller.commit(*lower);
    // The spell starts over: 256 needs 32,768 new events.
    const auto again = feed(controller, first.end_ns, 120 * ms, 250'000);
    EXPECT_EQ(controller.current().queue_threshold, 128u) << "30,000 events earn nothing yet";
    feed(controller, again.end_ns, 20 * ms, 250'000);
    EXPECT_EQ(controller.current().queue_threshold, 256u);
}

TEST(batching_controller, a_quiet_window_clears_what_waited)
{
    batching_controller controller(defaults());
    const auto first = feed(controller, 0, 400 * ms, 250'000);
    ASSERT_EQ(controller.current().queue_threshold, 256u);
    ASSERT_EQ(controller.flushed_by_timer(first.end_ns, 300), std::nullopt);
    // Quiet for longer than a window: the spell ends, and with it what it owed.
    auto quiet = feed(controller, first.end_ns + 30 * ms, 100 * ms, 1'000, 1);
    ASSERT_EQ(controller.current().queue_threshold, 1u);
    const auto second = feed(controller, quiet.end_ns, 400 * ms, 250'000);
    ASSERT_EQ(controller.current().queue_threshold, 256u);
    EXPECT_EQ(controller.flushed_by_timer(second.end_ns, 300), std::nullopt)
        << "300 of a new spell's 100,000 events are within its budget";
}

TEST(batching_controller, events_drained_back_to_back_count_over_at_least_the_early_span)
{
    // 1100 events read within 110 us: over 2 ms that is 550k/s, not 10M/s.
    // A rate scale of 200k keeps the first below the ceiling, and a spell
    // of one event per level lets the second through.
    auto limits = defaults();
    limits.max_queue_threshold = 1u << 20;
    limits.delay_ns = 1'000'000'000;
    limits.early_events = 1024;
    limits.batching_rate = 200'000;
    limits.spell_events_per_level = 1;
    batching_controller uncapped(limits);
    std::optional<batching_target> change;
    for (std::uint64_t i = 1; i <= 11 && !change; ++i)
        change = uncapped.observe(i * 10 * us, 100, 100 * 160);
    ASSERT_TRUE(change.has_value());
    // (550k / 1.15 / 200k)^4 = 32.7: 32. Counted over 100 us it would be
    // what the spell of 1100 events earned: 1024.
    EXPECT_EQ(change->queue_threshold, 32u);
}

TEST(batching_controller, large_batches_ride_out_a_dip_in_the_rate)
{
    batching_controller controller(defaults());
    auto flood = feed(controller, 0, 300 * ms, 250'000);
    ASSERT_EQ(controller.current().queue_threshold, 256u);
    // 170k/s asks for 128 (with the margin): one step down, not worth losing full batches for.
    const auto dip = feed(controller, flood.end_ns, 300 * ms, 170'000);
    EXPECT_TRUE(dip.proposals.empty());
    // 120k/s asks for 32, less than a quarter: that is a new regime.
    const auto lower = feed(controller, dip.end_ns, 300 * ms, 120'000);
    ASSERT_FALSE(lower.proposals.empty());
    EXPECT_EQ(controller.current().queue_threshold, 32u);
}

TEST(batching_controller, small_batches_follow_the_rate_down_step_by_step)
{
    batching_controller controller(defaults());
    auto busy = feed(controller, 0, 300 * ms, 105'000);
    ASSERT_EQ(controller.current().queue_threshold, 8u);
    feed(controller, busy.end_ns, 300 * ms, 67'000);
    EXPECT_EQ(controller.current().queue_threshold, 4u);
}

TEST(batching_controller, a_rate_jittering_around_an_edge_does_not_flap)
{
    batching_controller controller(defaults());
    // 100k/s settles at 8; 100k/s +- 10 % crosses the edge of 16 (95k/s)
    // back and forth, but never by the margin.
    auto settle = feed(controller, 0, 300 * ms, 100'000);
    ASSERT_EQ(controller.current().queue_threshold, 8u);
    std::uint64_t now = settle.end_ns;
    for (int i = 0; i < 20; ++i) {
        const auto run = feed(controller, now, 40 * ms, i % 2 == 0 ? 90'000 : 110'000);
        EXPECT_TRUE(run.proposals.empty()) << "window pair " << i;
        now = run.end_ns;
    }
}

TEST(batching_controller, a_burst_shorter_than_a_window_does_not_count_as_a_flood)
{
    batching_controller controller(defaults());
    feed(controller, 0, 100 * ms, 1000);
    // A sender that was held up catches up with 200 events at once.
    EXPECT_FALSE(controller.observe(100 * ms + 10 * us, 200, 200 * 160));
    const auto after = feed(controller, 100 * ms + 10 * us, 200 * ms, 1000);
    EXPECT_TRUE(after.proposals.empty());
    EXPECT_EQ(controller.current().queue_threshold, 1u);
}

TEST(batching_controller, shrinking_waits_until_the_rate_stayed_low)
{
    batching_controller controller(defaults());
    auto flood = feed(controller, 0, 300 * ms, 250'000);
    ASSERT_EQ(controller.current().queue_threshold, 256u);
    // 53k/s from now on, in batches of 16 (partial, flushed by the timer).
    std::uint64_t now = flood.end_ns;
    const auto low_start = now;
    std::optional<batching_target> change;
    while (!change) {
        now += 300 * us;
        change = controller.observe(now, 16, 16 * 160);
        ASSERT_LT(now - low_start, 200 * ms);
    }
    // The spell counts from the start of the first window that saw it, which
    // may have begun up to a window before the flood ended.
    EXPECT_GE(now - low_start, defaults().shrink_after_ns - defaults().window_ns);
    // 53k/s plus the margin: level 2.
    EXPECT_EQ(change->queue_threshold, 2u);
}

TEST(batching_controller, a_stalled_reader_draining_its_backlog_keeps_its_batches)
{
    batching_controller controller(defaults());
    auto flood = feed(controller, 0, 300 * ms, 250'000);
    ASSERT_EQ(controller.current().queue_threshold, 256u);
    // The reader was descheduled for 25 ms; the kernel queued 6000 events,
    // which it now reads back to back, then the flood goes on.
    std::uint64_t now = flood.end_ns + 25 * ms;
    for (int i = 0; i < 20; ++i) {
        now += 5 * us;
        const auto change = controller.observe(now, 256, 256 * 160);
        EXPECT_TRUE(!change || change->queue_threshold >= 256u);
    }
    const auto after = feed(controller, now, 300 * ms, 250'000);
    for (const auto& change : after.proposals)
        EXPECT_GE(change.queue_threshold, 256u);
    EXPECT_GE(controller.current().queue_threshold, 256u);
}

TEST(batching_controller, the_first_event_after_a_quiet_spell_shrinks_at_once)
{
    batching_controller controller(defaults());
    auto flood = feed(controller, 0, 300 * ms, 620'000);
    ASSERT_GT(controller.current().queue_threshold, 1u);
    // Two seconds of nothing, then one event (flushed by the kernel's timer).
    const auto change = controller.observe(flood.end_ns + 2000 * ms, 1, 160);
    ASSERT_TRUE(change.has_value());
    EXPECT_EQ(change->queue_threshold, 1u);
    EXPECT_EQ(change->nlbufsiz, defaults().min_nlbufsiz);
}

TEST(batching_controller, an_overrun_asks_for_the_largest_batches)
{
    batching_controller controller(defaults());
    const auto change = controller.overrun();
    ASSERT_TRUE(change.has_value());
    EXPECT_EQ(change->queue_threshold, defaults().max_queue_threshold);
    EXPECT_EQ(change->nlbufsiz, defaults().max_nlbufsiz);
    controller.commit(*change);
    EXPECT_FALSE(controller.overrun()) << "nothing left to grow";
}

TEST(batching_controller, an_overrun_keeps_one_event_per_datagram_when_no_delay_is_allowed)
{
    auto limits = defaults();
    limits.delay_ns = 0;
    batching_controller controller(limits);
    EXPECT_FALSE(controller.overrun());
    EXPECT_EQ(controller.current().queue_threshold, 1u);
}

TEST(batching_controller, a_change_that_never_reached_the_kernel_is_proposed_again)
{
    batching_controller controller(defaults());
    std::uint64_t now = 0;
    int proposals = 0;
    for (int window = 0; window < 5; ++window) {
        for (int i = 0; i < 100; ++i) {
            now += 200 * us;
            // 40 events per 200 us: 200k/s. Never committed.
            if (controller.observe(now, 40, 40 * 160))
                ++proposals;
        }
    }
    EXPECT_GE(proposals, 5);
    EXPECT_EQ(controller.current(), controller.initial());
}

TEST(batching_controller, the_buffer_holds_the_batch_at_the_sizes_seen)
{
    batching_controller controller(defaults());
    feed(controller, 0, 500 * ms, 125'000, 0, 200);
    // 16 events of 200 bytes, plus a quarter: 4000 bytes, one page.
    EXPECT_EQ(controller.current().queue_threshold, 16u);
    EXPECT_EQ(controller.current().nlbufsiz, 4096u);

    batching_controller big(defaults());
    feed(big, 0, 500 * ms, 125'000, 0, 1500);
    // 16 * 1500 * 1.25 = 30000: 32 KiB.
    EXPECT_EQ(big.current().nlbufsiz, 32768u);

    auto limits = defaults();
    limits.max_nlbufsiz = 16384;
    batching_controller capped(limits);
    feed(capped, 0, 500 * ms, 125'000, 0, 1500);
    EXPECT_EQ(capped.current().nlbufsiz, 16384u);
}

TEST(batching_controller, larger_packets_at_the_same_rate_get_more_room)
{
    batching_controller controller(defaults());
    auto small = feed(controller, 0, 300 * ms, 125'000, 0, 100);
    const auto before = controller.current();
    ASSERT_EQ(before.queue_threshold, 16u);
    feed(controller, small.end_ns, 300 * ms, 125'000, 0, 1400);
    EXPECT_EQ(controller.current().queue_threshold, 16u);
    EXPECT_GT(controller.current().nlbufsiz, before.nlbufsiz);
}

TEST(batching_controller, nonsense_limits_are_made_safe)
{
    batching_limits limits;
    limits.max_queue_threshold = 0;
    limits.batching_rate = 0;
    limits.window_ns = 0;
    limits.early_events = 0;
    limits.max_nlbufsiz = 1;
    batching_controller controller(limits);
    EXPECT_EQ(controller.limits().max_queue_threshold, 1u);
    EXPECT_GT(controller.limits().batching_rate, 0.0);
    EXPECT_EQ(controller.limits().max_nlbufsiz, controller.limits().min_nlbufsiz);
    feed(controller, 0, 100 * ms, 1'000'000);
    EXPECT_EQ(controller.current().queue_threshold, 1u);
}

// The socket's side: receive_state counts the events of each group, asks its
// controllers, and hands the changes to whoever sends them.

constexpr std::uint16_t group = 41;

bytes flood_packet(std::uint32_t sequence)
{
    return packet_message(NFPROTO_IPV4, group,
                          concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT), prefix_attribute("flood"),
                                  payload_attribute(ipv4("127.0.0.1", "127.0.0.1", IPPROTO_UDP, udp(5000, 9))),
                                  be32_attribute(NFULA_SEQ, sequence)}));
}

struct sent_change {
    std::uint16_t group;
    std::uint32_t sequence;
    batching_target target;
};

class adaptive_state : public ::testing::Test {
protected:
    // Limits under which any arrival at all is a flood: a window of one
    // nanosecond and a rate scale of one event per second. What the test
    // sees then does not depend on how fast it runs.
    static detail::batching_setup eager()
    {
        detail::batching_setup setup;
        setup.adaptive = true;
        setup.limits.window_ns = 1;
        setup.limits.early_events = 1;
        setup.limits.batching_rate = 1;
        setup.limits.delay_ns = 1'000'000'000;
        setup.limits.max_queue_threshold = 512;
        setup.limits.spell_events_per_level = 0;
        return setup;
    }

    batch receive(detail::receive_state& state, const bytes& datagram)
    {
        auto lease = state.acquire();
        std::memcpy(lease.bytes().data(), datagram.data(), datagram.size());
        return state.accept(std::move(lease), datagram.size());
    }

    std::vector<sent_change> send(detail::receive_state& state, bool reaches_kernel = true)
    {
        std::vector<sent_change> out;
        state.send_batching([&](std::uint16_t to, std::uint32_t sequence, const batching_target& target) {
            out.push_back({to, sequence, target});
            return reaches_kernel;
        });
        return out;
    }

    bytes refusal(int error, std::uint32_t sequence)
    {
        auto reply = error_message(error);
        // Outer header (16), errno (4), then the echoed request's header: its sequence at +8.
        std::memcpy(reply.data() + 16 + 4 + 8, &sequence, sizeof sequence);
        return reply;
    }
};

TEST_F(adaptive_state, a_flood_datagram_asks_for_bigger_batches_with_the_groups_sequence_number)
{
    detail::receive_state state(64 * 1024, {7, group}, {}, eager());
    EXPECT_EQ(state.batching(group).queue_threshold, 1u);
    EXPECT_TRUE(state.batching(group).adaptive);
    receive(state, concat({flood_packet(0), flood_packet(1), done_message()}));
    ASSERT_TRUE(state.batching_pending());
    const auto sent = send(state);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].group, group);
    EXPECT_EQ(sent[0].sequence, detail::receive_state::batching_sequence_base + 1);
    EXPECT_EQ(sent[0].target.queue_threshold, 512u);
    EXPECT_FALSE(state.batching_pending());
    EXPECT_EQ(state.batching(group).queue_threshold, 512u);
    EXPECT_EQ(state.batching(group).changes, 1u);
    EXPECT_EQ(state.batching(7).changes, 0u) << "the other group saw nothing";
}

TEST_F(adaptive_state, lost_events_count_as_arrivals)
{
    // Only an early close can fire (the window is 1000 s), and only for at
    // least 100 events, which then count as a flood.
    auto setup = eager();
    setup.limits.early_events = 100;
    setup.limits.window_ns = 1'000'000'000'000;
    setup.limits.batching_rate = 1e-6;
    setup.limits.delay_ns = 10'000'000'000'000;
    detail::receive_state state(64 * 1024, {group}, {}, setup);
    // Sequence 0, then 200: 199 lost in between, 201 events reached the kernel.
    receive(state, flood_packet(0));
    EXPECT_FALSE(state.batching_pending());
    receive(state, flood_packet(200));
    EXPECT_EQ(state.counters().lost, 199u);
    EXPECT_TRUE(state.batching_pending());
}

TEST_F(adaptive_state, a_change_the_kernel_did_not_take_is_not_believed)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    receive(state, flood_packet(0));
    ASSERT_EQ(send(state, false).size(), 1u);
    EXPECT_EQ(state.batching(group).queue_threshold, 1u);
    EXPECT_EQ(state.batching(group).changes, 0u);
    receive(state, flood_packet(1));
    ASSERT_EQ(send(state).size(), 1u);
    EXPECT_EQ(state.batching(group).queue_threshold, 512u);
}

TEST_F(adaptive_state, a_refusal_among_the_data_stops_adapting_that_group)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    receive(state, flood_packet(0));
    ASSERT_EQ(send(state).size(), 1u);
    const auto received = receive(state, refusal(EPERM, detail::receive_state::batching_sequence_base));
    EXPECT_EQ(received.packet_count(), 0u);
    EXPECT_EQ(received.malformed(), 0u) << "a kernel answer is not a malformed message";
    const auto status = state.batching(group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.error, boost::system::error_code(EPERM, boost::system::generic_category()));
    EXPECT_EQ(status.queue_threshold, 1u) << "the refused change's settings never took effect";
    EXPECT_EQ(status.nlbufsiz, eager().limits.min_nlbufsiz);
    EXPECT_EQ(status.changes, 1u);
    receive(state, flood_packet(1));
    state.count_overrun();
    EXPECT_TRUE(send(state).empty());
}

// The sequence number of a change names its group's slot (low 16 bits) and
// its number among that group's changes (above): a refusal of a change that
// was never sent, or of one too far back, changes no setting.
TEST_F(adaptive_state, a_refusal_of_no_recent_change_keeps_the_settings)
{
    detail::receive_state state(64 * 1024, {7, group}, {}, eager());
    receive(state, flood_packet(0));
    const auto sent = send(state);
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_NE(sent[0].target.queue_threshold, 1u);
    receive(state, refusal(EPERM, detail::receive_state::batching_sequence_base + (5u << 16 | 1u)));
    const auto status = state.batching(group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.error, boost::system::error_code(EPERM, boost::system::generic_category()));
    EXPECT_EQ(status.queue_threshold, sent[0].target.queue_threshold);
    EXPECT_TRUE(state.batching(7).adaptive) << "slot 0 was not named";
}

// Once the application set the batching itself, a late refusal of an
// adaptive change must not put older settings over the application's.
TEST_F(adaptive_state, a_late_refusal_keeps_the_settings_the_application_chose)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    receive(state, flood_packet(0));
    ASSERT_EQ(send(state).size(), 1u);
    state.take_over_batching(group, 64u, std::nullopt);
    receive(state, refusal(EPERM, detail::receive_state::batching_sequence_base));
    const auto status = state.batching(group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 64u);
    EXPECT_EQ(status.error, boost::system::error_code(EPERM, boost::system::generic_category()));
}

TEST_F(adaptive_state, an_error_answering_someone_else_is_ignored)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    receive(state, refusal(EPERM, 1));
    receive(state, refusal(EPERM, detail::receive_state::batching_sequence_base + 5));
    EXPECT_TRUE(state.batching(group).adaptive);
    EXPECT_FALSE(state.batching(group).error);
}

// The kernel answers each adaptive change: from that answer on, the
// threshold in force is known, and a datagram short of it was sent by the
// flush timer. Before the answer, datagrams may obey the older settings.
TEST_F(adaptive_state, a_short_batch_after_the_acknowledgement_was_sent_by_the_timer)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    receive(state, concat({flood_packet(0), flood_packet(1)}));
    const auto sent = send(state);
    ASSERT_EQ(sent.size(), 1u);
    ASSERT_EQ(sent[0].target.queue_threshold, 512u);
    receive(state, concat({flood_packet(2), flood_packet(3)}));
    EXPECT_EQ(state.batching(group).timer_flushes, 0u) << "the change is on its way";
    const auto datagrams = state.counters().datagrams;
    const auto answer = receive(state, refusal(0, sent[0].sequence));
    EXPECT_EQ(answer.begin(), answer.end());
    EXPECT_EQ(state.counters().datagrams, datagrams + 1);
    // The buffer the kernel was filling when the change came: judged by the
    // old threshold, 1, which no batch is short of.
    receive(state, concat({flood_packet(4), flood_packet(5)}));
    EXPECT_EQ(state.batching(group).timer_flushes, 0u);
    receive(state, concat({flood_packet(6), flood_packet(7)}));
    EXPECT_EQ(state.batching(group).timer_flushes, 1u);
    EXPECT_TRUE(state.batching(group).adaptive) << "an acknowledgement is no refusal";
}

TEST_F(adaptive_state, a_batch_with_a_gap_or_short_of_room_is_no_timer_flush)
{
    detail::receive_state state(128 * 1024, {group}, {}, eager());
    receive(state, concat({flood_packet(0), flood_packet(1)}));
    const auto sent = send(state);
    ASSERT_EQ(sent.size(), 1u);
    receive(state, refusal(0, sent[0].sequence));
    receive(state, flood_packet(2));
    const auto room = state.batching(group).nlbufsiz;
    // Events the kernel dropped may have been what filled the batch.
    receive(state, concat({flood_packet(3), flood_packet(9)}));
    EXPECT_EQ(state.batching(group).timer_flushes, 0u);
    // Without the gap, the same batch is judged.
    receive(state, flood_packet(10));
    ASSERT_EQ(state.batching(group).timer_flushes, 1u);
    // More than half the buffer: the next message may not have fitted.
    const bytes large(4000, std::byte{0x45});
    bytes datagram;
    std::size_t packets = 0;
    for (std::uint32_t sequence = 11; datagram.size() <= room / 2; ++sequence, ++packets) {
        const auto message = packet_message(NFPROTO_IPV4, group,
                                            concat({header_attribute(ETH_P_IP, NF_INET_LOCAL_OUT),
                                                    payload_attribute(large), be32_attribute(NFULA_SEQ, sequence)}));
        datagram.insert(datagram.end(), message.begin(), message.end());
    }
    ASSERT_LT(packets, std::size_t{512});
    ASSERT_LE(datagram.size(), std::size_t{128 * 1024});
    receive(state, datagram);
    EXPECT_EQ(state.batching(group).timer_flushes, 1u);
}

// Limits that earn one level per event, so that each datagram below asks
// for a larger threshold than the one before.
TEST_F(adaptive_state, only_the_latest_changes_acknowledgement_tells_the_threshold)
{
    auto setup = eager();
    setup.limits.spell_events_per_level = 1;
    detail::receive_state state(64 * 1024, {group}, {}, setup);
    receive(state, concat({flood_packet(0), flood_packet(1)}));
    const auto first = send(state);
    ASSERT_EQ(first.size(), 1u);
    ASSERT_EQ(first[0].target.queue_threshold, 2u);
    receive(state, concat({flood_packet(2), flood_packet(3), flood_packet(4), flood_packet(5)}));
    const auto second = send(state);
    ASSERT_EQ(second.size(), 1u);
    ASSERT_EQ(second[0].target.queue_threshold, 4u);
    receive(state, refusal(0, first[0].sequence));
    receive(state, flood_packet(6));
    EXPECT_EQ(state.batching(group).timer_flushes, 0u) << "the second change is on its way";
    receive(state, refusal(0, second[0].sequence));
    // The buffer from before is judged by the smaller of both thresholds: 2.
    receive(state, flood_packet(7));
    EXPECT_EQ(state.batching(group).timer_flushes, 1u);
}

TEST_F(adaptive_state, an_overrun_asks_for_the_largest_batches)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    state.count_overrun();
    const auto sent = send(state);
    ASSERT_EQ(sent.size(), 1u);
    EXPECT_EQ(sent[0].target.queue_threshold, 512u);
    EXPECT_EQ(state.counters().overruns, 1u);
}

TEST_F(adaptive_state, configuring_the_batching_by_hand_ends_the_adaptation)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    receive(state, flood_packet(0));
    state.take_over_batching(group, 8u, std::nullopt);
    EXPECT_FALSE(state.batching_pending()) << "the waiting change is dropped";
    EXPECT_TRUE(send(state).empty());
    receive(state, flood_packet(1));
    EXPECT_TRUE(send(state).empty());
    const auto status = state.batching(group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 8u);
}

TEST_F(adaptive_state, a_copy_mode_change_leaves_the_adaptation_alone)
{
    detail::receive_state state(64 * 1024, {group}, {}, eager());
    state.take_over_batching(group, std::nullopt, std::nullopt);
    EXPECT_TRUE(state.batching(group).adaptive);
}

TEST_F(adaptive_state, fixed_batching_never_changes)
{
    detail::batching_setup fixed;
    fixed.fixed = {32, 65536};
    detail::receive_state state(64 * 1024, {group}, {}, fixed);
    for (std::uint32_t i = 0; i < 10; ++i)
        receive(state, flood_packet(i));
    state.count_overrun();
    EXPECT_FALSE(state.batching_pending());
    const auto status = state.batching(group);
    EXPECT_FALSE(status.adaptive);
    EXPECT_EQ(status.queue_threshold, 32u);
    EXPECT_EQ(status.nlbufsiz, 65536u);
}

TEST(batching_setup, follows_the_options)
{
    options opts;
    opts.groups = {1};
    const auto adaptive = detail::batching_setup_for(opts);
    EXPECT_TRUE(adaptive.adaptive);
    EXPECT_EQ(adaptive.limits.max_queue_threshold, opts.queue_threshold);
    EXPECT_EQ(adaptive.limits.max_nlbufsiz, opts.nlbufsiz);
    EXPECT_EQ(adaptive.limits.delay_ns, 8'000'000u);
    EXPECT_EQ(adaptive.limits.batching_rate, 50000.0);

    opts.adaptive_batching = false;
    opts.queue_threshold = 7;
    const auto fixed = detail::batching_setup_for(opts);
    EXPECT_FALSE(fixed.adaptive);
    EXPECT_EQ(fixed.fixed.queue_threshold, 7u);
}

TEST(batching_setup, the_options_are_validated)
{
    options opts;
    opts.groups = {1};
    EXPECT_TRUE(validate(opts));
    opts.batching_rate = 0;
    EXPECT_FALSE(validate(opts));
    opts.batching_rate = 1;
    opts.batching_delay = std::chrono::seconds(2);
    EXPECT_FALSE(validate(opts));
    opts.batching_delay = std::chrono::microseconds(-1);
    EXPECT_FALSE(validate(opts));
    opts.batching_delay = std::chrono::microseconds(0);
    EXPECT_TRUE(validate(opts));
}

} // namespace
