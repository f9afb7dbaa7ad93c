// Input: one netlink datagram as received (the same seeds as fuzz_packet_view).
// Runs it through what a socket and a watcher do with what they receive:
// `receive_state::accept` (the walk with a remembered layout, the counters,
// sequence gaps, refusals of batching changes, the batching controllers) and
// the three cursors (what each kind of watcher sends). The datagram is received
// whole, again (its packets then continue the sequences it left), from its
// middle (framing that starts on arbitrary bytes), and cut by a receive
// buffer half its size. Each time the socket's view must match packet_range,
// its counters and losses a model of the sequence rules, and the watcher's
// messages the batch: an event made fresh for every packet, a report for
// every error, in order.

#include <nflog/batch.hpp>
#include <nflog/detail/batch_cursor.hpp>
#include <nflog/detail/datagram_cursor.hpp>
#include <nflog/detail/event_cursor.hpp>
#include <nflog/detail/receive_state.hpp>
#include <nflog/error.hpp>
#include <nflog/event.hpp>
#include <nflog/netlink/message.hpp>
#include <nflog/options.hpp>
#include <nflog/packet.hpp>

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <map>
#include <optional>
#include <set>
#include <ranges>
#include <span>
#include <utility>
#include <vector>

#include "fuzz_checks.hpp"

namespace {

using namespace nflog;

using fuzz::require;
using fuzz::same_element;
using fuzz::same_event;

const auto received_at = std::chrono::system_clock::time_point(std::chrono::seconds(1'700'000'000));
constexpr source_id source = 3;

// What `accept` must find, worked out from packet_range and the sequence rules
// the socket documents: per bound group the next expected number starts at 0
// and follows the last one seen; a forward gap is that many lost events, a
// backward one (reordering, a rebind) none.
class model {
public:
    explicit model(const std::set<std::uint16_t>& bound)
    {
        for (const auto group : bound)
            expected_[group] = 0;
    }

    std::uint64_t lost_in(std::span<const std::byte> datagram)
    {
        std::uint64_t lost = 0;
        for (const auto& item : packet_range(datagram)) {
            if (!item)
                continue;
            const auto found = expected_.find(item.value().group());
            const auto seq = item.value().seq();
            if (found == expected_.end() || !seq)
                continue;
            const std::uint32_t gap = *seq - found->second;
            found->second = *seq + 1;
            lost += gap < 0x80000000u ? gap : 0;
        }
        return lost;
    }

private:
    std::map<std::uint16_t, std::uint32_t> expected_;
};

struct expected_message {
    boost::system::error_code error;
    std::optional<event> made;
};

// What a watcher must send for `received`, in order.
std::vector<expected_message> expected_messages(const batch& received)
{
    std::vector<expected_message> out;
    auto lost = received.lost_before();
    for (const auto& item : received) {
        if (!item) {
            out.push_back({item.error(), std::nullopt});
            continue;
        }
        auto made = make_event(item.value(), received_at, source);
        made.lost_before = std::exchange(lost, 0);
        out.push_back({{}, made});
    }
    if (received.truncated())
        out.push_back({make_error_code(errc::datagram_truncated), std::nullopt});
    return out;
}

// A watcher of owned event batches: its events in batches, each report alone.
void check_event_batches(const batch& received, const std::vector<expected_message>& expected)
{
    detail::batch_cursor cursor;
    cursor.reset(received, received_at, source);
    require(cursor.remaining() == expected.size(), "the batch cursor holds every message of the batch");
    std::size_t at = 0;
    boost::system::error_code error;
    event_batch sent;
    while (cursor.next(error, sent)) {
        require(sent.source() == source, "every message carries the watcher's source");
        if (error) {
            require(sent.empty(), "a report comes with an empty batch");
            require(at < expected.size() && expected[at].error == error, "reports come at their place");
            ++at;
            continue;
        }
        require(!sent.empty() && sent.size() <= event_batch::max_size, "an event batch holds 1..max_size events");
        for (const auto& got : sent) {
            require(at < expected.size() && expected[at].made, "events come at their place");
            require(same_event(got, *expected[at].made), "each event is the one made fresh from its packet");
            ++at;
        }
    }
    require(at == expected.size(), "the watcher sends every event and report of the batch");
    require(cursor.remaining() == 0, "nothing is left once next says so");
}

// A watcher of single events: one message per event or report.
void check_events(const batch& received, const std::vector<expected_message>& expected)
{
    detail::event_cursor cursor;
    cursor.reset(received, received_at, source);
    require(cursor.remaining() == expected.size(), "the event cursor holds every message of the batch");
    std::size_t at = 0;
    boost::system::error_code error;
    event sent;
    while (cursor.next(error, sent)) {
        require(at < expected.size(), "no more messages than the batch holds");
        if (error) {
            require(expected[at].error == error, "reports come at their place");
            require(same_event(sent, detail::event_cursor::report(source, received_at)),
                    "a report's event says only where and when");
        } else {
            require(expected[at].made && same_event(sent, *expected[at].made), "each event is the one made fresh from its packet");
        }
        ++at;
    }
    require(at == expected.size() && cursor.remaining() == 0, "the watcher sends every event and report of the batch");
}

// A watcher of datagrams: the batch itself, sent when it carries anything.
void check_datagrams(const batch& received, const std::vector<expected_message>& expected)
{
    detail::datagram_cursor cursor;
    cursor.reset(received, received_at, source);
    require(cursor.remaining() == expected.size(), "the datagram cursor counts every message of the batch");
    boost::system::error_code error;
    batch sent;
    const bool any = cursor.next(error, sent);
    require(any == !expected.empty(), "a datagram is sent exactly when it carries an event or a report");
    if (any)
        require(!error && sent.source() == source && sent.begin() == received.begin() && sent.end() == received.end(),
                "the datagram goes as it is, marked with the watcher's source");
    require(!cursor.next(error, sent) && cursor.remaining() == 0, "a datagram is sent once");
}

void check_watcher_messages(const batch& received)
{
    const auto expected = expected_messages(received);
    check_event_batches(received, expected);
    check_events(received, expected);
    check_datagrams(received, expected);
}

// The groups whose refusal of a batching change this datagram carries: an
// NLMSG_ERROR with an errno, echoing the sequence number of a group's slot.
std::set<std::uint16_t> refused_groups(std::span<const std::byte> datagram, const std::vector<std::uint16_t>& groups)
{
    std::set<std::uint16_t> out;
    for (const auto& item : netlink::message_range(datagram)) {
        if (!item || !item.value().is_error())
            continue;
        const auto reply = netlink::parse_error(item.value());
        if (!reply || reply.value().error == 0)
            continue;
        // The low 16 bits of the offset name the slot, the bits above the change.
        const auto slot = (static_cast<std::uint64_t>(reply.value().request_sequence) -
                           detail::receive_state::batching_sequence_base) &
                          0xffffu;
        if (reply.value().request_sequence >= detail::receive_state::batching_sequence_base && slot < groups.size())
            out.insert(groups[slot]);
    }
    return out;
}

// One socket's life over `datagrams`, with a receive buffer of `capacity`.
void check_socket(const std::vector<std::span<const std::byte>>& datagrams, std::size_t capacity,
                  const std::set<std::uint16_t>& bound)
{
    const std::vector<std::uint16_t> groups(bound.begin(), bound.end());
    options opts;
    detail::receive_state state(capacity, groups, {}, detail::batching_setup_for(opts));
    model expected(bound);
    stats totals;
    bool send_succeeds = false;
    for (const auto datagram : datagrams) {
        auto lease = state.acquire();
        const auto kept = std::min(datagram.size(), lease.bytes().size());
        if (kept != 0)
            std::memcpy(lease.bytes().data(), datagram.data(), kept);
        auto received = state.accept(std::move(lease), datagram.size());
        // The batch's views point into the socket's buffer, so that is
        // where packet_range must walk for the views to compare equal.
        const auto in_hand = received.bytes();
        require(in_hand.size() <= kept && std::equal(in_hand.begin(), in_hand.end(), datagram.begin()),
                "the batch holds the bytes received, up to the buffer's size");
        if (in_hand.size() < kept) {
            // Only a cut datagram ends early: where the message the cut fell in starts.
            const auto rest = std::span(datagram).subspan(in_hand.size(), kept - in_hand.size());
            std::uint32_t length = 0;
            if (rest.size() >= sizeof length)
                std::memcpy(&length, rest.data(), sizeof length);
            require(datagram.size() > capacity && (rest.size() < 16 || (length >= 16 && length > rest.size())),
                    "a batch ends before the bytes received only at the message a cut fell in");
        }

        const packet_range packets(in_hand);
        auto element = packets.begin();
        std::size_t parsed = 0;
        std::size_t malformed = 0;
        for (const auto& item : received) {
            require(element != packets.end(), "the socket yields no more elements than packet_range");
            require(same_element(item, *element), "the socket yields what packet_range yields");
            if (item)
                ++parsed;
            else if (item.error() == condition::malformed)
                ++malformed;
            ++element;
        }
        require(element == packets.end(), "the socket yields every element of packet_range");
        require(received.packet_count() == parsed && received.malformed() == malformed,
                "the batch counts what it holds");
        require(std::ranges::size(received) == static_cast<std::size_t>(received.end() - received.begin()),
                "a batch's size as a range is its element count");
        require(received.truncated() == (datagram.size() > capacity), "a cut datagram is flagged");
        require(received.lost_before() == expected.lost_in(in_hand), "losses follow the sequence rules");

        totals.datagrams += 1;
        totals.packets += parsed;
        totals.malformed += malformed;
        totals.lost += received.lost_before();
        totals.truncated += received.truncated() ? 1 : 0;
        const auto& counters = state.counters();
        require(counters.datagrams == totals.datagrams && counters.packets == totals.packets &&
                    counters.malformed == totals.malformed && counters.lost == totals.lost &&
                    counters.truncated == totals.truncated && counters.overruns == 0,
                "the socket's counters add up its batches");

        for (const auto group : refused_groups(in_hand, groups)) {
            const auto status = state.batching(group);
            require(!status.adaptive && status.error, "a refused group stops adapting and keeps the kernel's answer");
        }
        state.send_batching([&](std::uint16_t group, std::uint32_t sequence, detail::batching_target target) {
            require(bound.contains(group), "changes go to bound groups only");
            require(((sequence - detail::receive_state::batching_sequence_base) & 0xffffu) < groups.size(),
                    "changes name their slot");
            require(target.queue_threshold >= 1 && target.nlbufsiz <= options::max_nlbufsiz,
                    "changes stay within the kernel's limits");
            send_succeeds = !send_succeeds;
            return send_succeeds;
        });
        check_watcher_messages(received);
    }
    state.count_overrun();
    require(state.counters().overruns == 1, "an overrun is counted");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const auto datagram = std::as_bytes(std::span(data, size));
    // Every group the datagram names is bound but its highest, so that runs
    // of bound and of foreign groups both occur.
    std::set<std::uint16_t> bound;
    for (const auto& item : packet_range(datagram))
        if (item)
            bound.insert(item.value().group());
    if (bound.size() > 1)
        bound.erase(std::prev(bound.end()));

    const std::vector<std::span<const std::byte>> whole_then_more{datagram, datagram, datagram.subspan(size / 2)};
    check_socket(whole_then_more, std::max<std::size_t>(size, 1), bound);
    check_socket({datagram}, std::max<std::size_t>(size / 2, 1), bound);
    return 0;
}
