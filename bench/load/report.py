#!/usr/bin/env python3
"""Summarises scripts/bench-load's CSV files, draws the plots with gnuplot and
writes the "End to end" section of bench/README.md (other sections are kept).

Medians over rounds for every rate and reader; ratios against
libnetfilter_log are medians of per-round ratios, so that both readers of a
pair ran within seconds of each other."""

import argparse
import csv
import os
import re
import statistics
import subprocess
import sys

OFFERS = ["1k", "10k", "50k", "200k", "flood-x1", "flood-x2"]
LIBRARY_DEFAULTS = ["nflog-callback", "nflog-coroutine", "nflog-watcher-packets", "nflog-watcher-batch",
                    "nflog-watcher", "nflog-watcher-drain"]
# What a reader pays per event beyond reading the socket, for the goals' text.
WHY_DEARER = {
    "nflog-watcher": "a channel hand-off, a trip through the executor, and an owned event per event",
    "nflog-watcher-drain": "a channel hand-off and an owned event per event",
    "nflog-watcher-batch": "an owned event, with its decoded flow, action and copied prefix, made per event",
}
# The rows of the README's "Channel hand-off" table (nflog_channel_bench, ns
# per event with and without a reactor) that measure a reader's consumer.
HANDOFF_ROWS = {
    "nflog-watcher": "`event_channel`, one `co_await` per event",
    "nflog-watcher-drain": "`event_channel`, one `co_await`, then `try_receive` until empty",
}
GOAL_RATIO = 0.3
BASELINE = "libnetfilter_log"
READER_ORDER = LIBRARY_DEFAULTS + ["nflog-fixed-q1", "nflog-fixed-q32", BASELINE, "recv-q256"]
SECTION = "## End to end"


def number(row, key):
    return float(row[key]) if row.get(key, "") not in ("", None) else 0.0


def per_event(row, key):
    received = number(row, "received")
    return number(row, key) / received if received else float("nan")


def read_csv(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as source:
        return list(csv.DictReader(source))


def median(values):
    values = [v for v in values if v == v]
    return statistics.median(values) if values else float("nan")


def summarise(runs):
    groups = {}
    for row in runs:
        groups.setdefault((row["offered"], row["reader"]), []).append(row)
    summary = []
    for (offered, reader), rows in groups.items():
        logged = sum(number(r, "logged") for r in rows)
        received = sum(number(r, "received") for r in rows)
        summary.append({
            "offered": offered,
            "reader": reader,
            "runs": len(rows),
            "generated_per_s": median([number(r, "logged") / number(r, "sender_ns") * 1e9 for r in rows if number(r, "sender_ns")]),
            # Over the senders' time: a reader that waits for a flush timer
            # still kept up if it had everything soon after they stopped.
            "events_per_s": median([number(r, "received") / number(r, "sender_ns") * 1e9 for r in rows if number(r, "sender_ns")]),
            "cpu_ns_per_event": median([per_event(r, "cpu_ns") for r in rows]),
            "sys_ns_per_event": median([per_event(r, "sys_ns") for r in rows if r.get("sys_ns")]),
            "events_per_datagram": median([number(r, "received") / number(r, "datagrams") for r in rows if number(r, "datagrams")]),
            "p50_us": median([number(r, "p50_ns") / 1e3 for r in rows]),
            "p99_us": median([number(r, "p99_ns") / 1e3 for r in rows]),
            "max_us": max(number(r, "max_ns") / 1e3 for r in rows),
            "logged": int(logged),
            "lost": int(logged - received),
            "loss_pct": 100.0 * (logged - received) / logged if logged else 0.0,
            "self_lost": int(sum(number(r, "lost") for r in rows)),
            "overruns": int(sum(number(r, "overruns") for r in rows)),
            # received + the reader's own loss count == the rule's counter
            "exact": all(int(number(r, "received") + number(r, "lost")) == int(number(r, "logged")) for r in rows),
            "stats_agree": all("DISAGREE" not in r["note"] for r in rows),
            # Runs whose end marker went into a socket that still held events
            # (older result files lack the column: their marker always waited).
            "unemptied": sum(1 for r in rows if r.get("socket_emptied", "1") == "0"),
            "final_qthresh": ";".join(sorted({m.group(1) for r in rows for m in [re.search(r"qthresh=(\d+)", r["note"])] if m})),
            "load1": median([number(r, "load1") for r in rows]),
        })
    return summary


def paired_ratio(runs, reader, offered, key):
    """Median over rounds of reader/baseline for `key` per event."""
    by_round = {}
    for row in runs:
        if row["offered"] == offered and row["reader"] in (reader, BASELINE):
            by_round.setdefault(row["round"], {})[row["reader"]] = per_event(row, key)
    ratios = [pair[reader] / pair[BASELINE] for pair in by_round.values()
              if reader in pair and BASELINE in pair and pair[BASELINE] > 0]
    return median(ratios), ratios


def ordered_readers(summary):
    present = {s["reader"] for s in summary}
    return [r for r in READER_ORDER if r in present] + sorted(present - set(READER_ORDER))


def write_summary(summary, path):
    fields = list(summary[0].keys())
    with open(path, "w", newline="") as sink:
        writer = csv.DictWriter(sink, fieldnames=fields)
        writer.writeheader()
        key = lambda s: (OFFERS.index(s["offered"]) if s["offered"] in OFFERS else 99, s["reader"])
        for row in sorted(summary, key=key):
            writer.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()})


def plot(summary, results, script):
    # The plots are against steady offered rates; bursts have none.
    steady = [s for s in summary if s["offered"] in OFFERS]
    if not steady:
        return
    readers = ordered_readers(steady)
    table = {(s["offered"], s["reader"]): s for s in steady}
    files = []
    for reader in readers:
        path = os.path.join(results, f"plot-{reader}.dat")
        with open(path, "w") as sink:
            sink.write("# index offered events_per_s cpu_ns_per_event p50_us p99_us max_us loss_pct\n")
            for index, offered in enumerate(OFFERS):
                s = table.get((offered, reader))
                if s:
                    # Log scales cannot show zero loss: plot it at the floor.
                    sink.write(f"{index} {offered} {s['events_per_s']:.6g} {s['cpu_ns_per_event']:.6g} "
                               f"{s['p50_us']:.6g} {s['p99_us']:.6g} {s['max_us']:.6g} {max(s['loss_pct'], 1e-4):.6g}\n")
        files.append((reader, path))
    readers_arg = " ".join(r for r, _ in files)
    subprocess.run(["gnuplot", "-e", f"results='{results}'; readers='{readers_arg}'", script], check=True)


def fmt(value, digits=3):
    if value != value:
        return "-"
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.{digits}g}"


def cpu_model():
    """The processor the runs happened on: the report is written right after them."""
    try:
        with open("/proc/cpuinfo") as info:
            for line in info:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown processor"


def handoff_costs(readme_text):
    """The hand-off's ns per event for each reader in HANDOFF_ROWS, lowest and
    highest of the table's columns; readers without a row are left out."""
    costs = {}
    for reader, label in HANDOFF_ROWS.items():
        row = re.search(r"^\| " + re.escape(label) + r" \| ([\d.,]+) \| ([\d.,]+) \|$", readme_text, re.MULTILINE)
        if row:
            values = [float(v.replace(",", "")) for v in row.groups()]
            costs[reader] = (min(values), max(values))
    return costs


def span(low, high, form):
    """`low-high` in `form`, or one number when both print alike."""
    low_text, high_text = format(low, form), format(high, form)
    return low_text if low_text == high_text else f"{low_text}-{high_text}"


def why_dearer(reader, table, handoffs):
    """WHY_DEARER's reason, with what the reader's hand-off alone takes of the
    goal's budget at each flood, from the measured costs."""
    reason = WHY_DEARER.get(reader)
    if reason is None or reader not in handoffs:
        return reason
    low, high = handoffs[reader]
    shares = []
    for offered in ("flood-x1", "flood-x2"):
        baseline = table.get((offered, BASELINE))
        if baseline:
            budget = GOAL_RATIO * baseline["cpu_ns_per_event"]
            shares.append(f"{span(low / budget, high / budget, '.2f')} times the goal's {budget:.0f} ns at {offered}")
    if not shares:
        return reason
    return (f"{reason}; the hand-off alone, {span(low, high, '.0f')} ns in \"Channel hand-off\", is "
            + " and ".join(shares))


# Offers whose sender sends N packets at once every P ms, in the order of
# their columns; scripts/bench-load names them.
BURSTS = [("bursts", "1000 every 100 ms"), ("close-bursts", "3000 every 25 ms")]


def bursts_section(summary, readers):
    shapes = [(offered, title) for offered, title in BURSTS if any(s["offered"] == offered for s in summary)]
    if not shapes:
        return []
    table = {(s["offered"], s["reader"]): s for s in summary}
    lines = ["### Bursts", "",
             "One sender sends packets as fast as it can at the start of every period: 1000 every",
             "100 ms (10,000 events/s on average: a port scan, clients that retry in waves), and",
             "3000 every 25 ms (120,000 events/s, bursts with little quiet between them). Within",
             "a burst the rate is a flood's. Each cell: CPU per event (ns), events per datagram,",
             "p50 / p99 / max latency (us), loss.", "",
             "| reader | " + " | ".join(title for _, title in shapes) + " |",
             "|---|" + "---|" * len(shapes)]
    for reader in readers:
        cells = []
        for offered, _ in shapes:
            s = table.get((offered, reader))
            if not s:
                cells.append("")
                continue
            loss = f"{s['lost']:,} of {s['logged']:,} lost" if s["lost"] else "0 lost"
            cells.append(f"{fmt(s['cpu_ns_per_event'])} ns, {fmt(s['events_per_datagram'])} ev/datagram, "
                         f"{fmt(s['p50_us'])} / {fmt(s['p99_us'])} / {fmt(s['max_us'])}, {loss}")
        lines.append(f"| {reader} | " + " | ".join(cells) + " |")
    lines += ["",
              "Within a burst the rate asks for large batches, but a burst ends without notice, and",
              "its last partial batch waits for the kernel's flush timer (4-8 ms here). So adaptive",
              "batching takes a batch of L events only once the busy spell (the windows in a row",
              "whose rate asked for batches) has brought 128 L events: at most one in 128 of a",
              "spell's events waits for the timer, too few to reach the p99.",
              "A burst of 1000 earns at most 4 events per datagram; a flood earns 2048 after about",
              "262,000 events, under a second at flood-x1, and keeps its loss and CPU (see \"Goals\").",
              "",
              "Bursts with less than a quiet 20 ms window between them are one spell, and there the",
              "rule alone falls short: 3000 every 25 ms earned batches of 70 to 100 events, the last",
              "partial batch of every burst waited for the timer, and every adaptive reader had a",
              "p99 of about 11 ms (169 to 224 ns per event for the readers on the socket and the",
              "batch channels, in the regeneration before). A datagram does not say whether the",
              "timer or the threshold sent it, but the kernel's answer to a change says when the",
              "change took effect: the socket sends each change with `NLM_F_ACK`, and the kernel",
              "queues the acknowledgement behind every datagram it flushed before taking it. From",
              "that answer on the threshold in force is known, and a datagram short of it, with no",
              "sequence gap and at most half its buffer filled (a space flush leaves less room than",
              "the next message), was sent by the timer; the first datagram after the answer is",
              "judged by the lower of the old and the new settings, as the kernel may have filled",
              "it under both. The socket holds the events of such datagrams to one in 256 of the",
              "spell's: beyond that the batches halve and the spell starts over. In the table that",
              "gives batches of about 22 events and a p99 of about 4 ms. The rest of that p99 is",
              "not the timer: fixed-q32 shows the same, and in a look at this offer fixed batches",
              "of 16 had a p99 of 3.7 ms and of 4, 1.5 ms. At a flood the timer sends a batch only",
              "when the senders stall, one to four times in a run, far inside the budget.",
              "",
              "In the table the library's readers have a p50 of one to a few milliseconds in the",
              "sparse bursts. The kernel queues each",
              "datagram from the sender's system call, the scheduler often wakes the reader on the",
              "sender's CPU, and there the reader waits for the burst to end. Pinned apart",
              "(`--pin`, one CPU each, three rounds) the callback reader had a p50 of 21 us and a",
              "p99 of 0.17 ms, the event-batch reader 21 us and 0.14 ms. The same pinned runs of the",
              "code before this rule, which took the first 256 events of a burst for a flood and",
              "raised the batches to 16, 32 and 64, gave a p99 of 9.7 and 10.0 ms: the last partial",
              "batch of every burst, up to 63 of its 1000 events, waited for the timer. The rule",
              "costs CPU in bursts: 2,488 against 1,401 ns per event for the pinned callback reader,",
              "about a tenth of a percent of a CPU more per 1000 events/s. fixed-q32 does well here",
              "only because 1000 leaves 8 events after 31 batches of 32; libnetfilter_log's batches,",
              "cut at about 30 events by its one-page buffer, leave the last 10 of every burst to",
              "its 1 s timer.", ""]
    return lines


def readme_section(summary, runs, overload, load_range, handoffs=None):
    handoffs = handoffs or {}
    readers = ordered_readers(summary)
    table = {(s["offered"], s["reader"]): s for s in summary}
    lines = [SECTION, ""]
    lines += [
        "A bounded UDP flood inside a throwaway network namespace hits an nftables rule",
        "`udp dport 7777 counter log group 7 prefix \"flood\" drop` on the output hook; every packet",
        "becomes one NFLOG event. Senders (`nflog_load_flood`, `sendmmsg`) stamp `CLOCK_MONOTONIC`",
        "into the UDP payload (and its low 32 bits into the packet mark, for the event channel,",
        "whose events carry no payload); a reader takes the clock once per datagram when it is in",
        "hand: libnetfilter_log and recv-q256 as soon as `recv` returns, this library's socket",
        "readers when the receive completes, which is after the library parsed the datagram, and",
        "nflog-watcher-packets when its consumer takes the datagram from the channel. The event and",
        "event-batch watchers' consumers, which never see datagrams, take it once per event or per",
        "batch of events. A sender stamps a packet when it sends it, so a paced sender that falls",
        "behind its schedule does not count its own delay as latency (coordinated omission).",
        "Loss is counted against",
        "the rule's counter after a last marker packet, sent once the reader's socket is empty",
        "(a marker sent into a full socket can be dropped with its batch, and then nothing shows",
        "the events lost before it; the script waits up to 10 s for that, and a run where the",
        "socket never emptied is named under the goals); CPU is the reader process's",
        "`getrusage` user + system time over the run. Run it with `scripts/bench-load` (root,",
        "about 10 minutes; `--overload` for the overload run alone; `--readers nflog-callback,",
        "libnetfilter_log --rates flood-x1` for a quick look at a few cells, whose results stay",
        "in the build directory).",
        "",
        "Readers, all started fresh for every run, rounds interleaved in a new random order per",
        "round and rate:",
        "",
        "- `nflog-callback`, `nflog-coroutine`: this library with its defaults (adaptive batching,",
        "  8 MiB receive buffer): a completion handler loop and a `co_await` loop on the socket.",
        "- `nflog-watcher-packets`: a `nflog::packet_watcher` feeding an `nflog::packet_channel`,",
        "  read by a coroutine with one `co_await` per received datagram, whose packets it reads in",
        "  place as the socket readers do.",
        "- `nflog-watcher-batch`: a `nflog::event_batch_watcher` feeding an",
        "  `nflog::event_batch_channel`, read by a coroutine with one `co_await` per batch of up to",
        "  64 owned events.",
        "- `nflog-watcher`, `nflog-watcher-drain`: a `nflog::watcher` feeding an",
        "  `nflog::event_channel` (one owned event per message) read by a coroutine with one",
        "  `co_await` per event, or one `co_await` and then `try_receive` until the channel is",
        "  empty: the simplest channel, shown for its cost per event.",
        "- `nflog-fixed-q1`, `nflog-fixed-q32`: the callback reader with adaptation off and a fixed",
        "  qthresh of 1 (every event its own datagram) and of 32 with a 10 ms flush timer (this",
        "  library's earlier default): the two ends of the trade-off.",
        "- `libnetfilter_log`: `nflog_open`, `nflog_bind_group`, `nflog_set_mode(COPY_PACKET,",
        "  0xffff)`, a callback reading payload and prefix, `recv` + `nflog_handle_packet`; kernel",
        "  batching left at the kernel's defaults (qthresh 100, flush timeout 1 s, nlbufsiz one",
        "  page, which caps a batch at about 30 of these events), receive buffer raised to the",
        "  same 8 MiB (`nfnl_rcvbufsiz`). This is how the library's examples and most programs",
        "  use it.",
        "- `recv-q256`: a hand-written `recv` loop that walks the datagram with libmnl and reads",
        "  the same fields, with qthresh 256, nlbufsiz 64 KiB and a 10 ms timer: a floor.",
        "",
        f"Machine: {cpu_model()}, 2 cores shared with other work; load average during the runs {load_range}",
        "(1-minute, min-max). Rates are offered rates; `flood-x1`/`flood-x2` are one or two",
        "senders as fast as the kernel takes packets. The drop answers each send with EPERM once the",
        "rule has logged the packet, and `sendmmsg` stops at the first failure: every call logs one",
        "packet, so after the first EPERM a sender prepares one packet per call (preparing 64, as",
        "it did before, held one sender at 433k packets/s against 460k in a one-off comparison).",
        "",
    ]
    for title, key, unit in [("Events per second received", "events_per_s", ""),
                             ("Reader CPU per event (ns)", "cpu_ns_per_event", ""),
                             ("Latency p50 / p99 / max from send to event in hand (us)", None, ""),
                             ("Loss (events the rule logged and the reader never had)", "lost", ""),
                             ("Overruns (receives that failed with ENOBUFS: the kernel dropped a batch), all runs",
                              "overruns", "")]:
        lines += [f"### {title}", ""]
        lines.append("| reader | " + " | ".join(OFFERS) + " |")
        lines.append("|---" * (len(OFFERS) + 1) + "|")
        for reader in readers:
            cells = []
            for offered in OFFERS:
                s = table.get((offered, reader))
                if not s:
                    cells.append("-")
                elif key is None:
                    cells.append(f"{fmt(s['p50_us'])} / {fmt(s['p99_us'])} / {fmt(s['max_us'])}")
                elif key == "lost":
                    cells.append(f"{s['lost']:,} of {s['logged']:,}" if s["lost"] else "0")
                elif key == "overruns":
                    cells.append(f"{s['overruns']:,}")
                else:
                    cells.append(fmt(s[key]))
            lines.append(f"| {reader} | " + " | ".join(cells) + " |")
        lines.append("")
    # The kernel splits a process's CPU time into user and system time by
    # tick samples (HZ=250 here): a 2 s run of a mostly idle reader holds
    # too few ticks for the split to mean anything, so only busy rates show.
    busy = ["200k", "flood-x1", "flood-x2"]
    lines += ["### Of the reader's CPU per event, in the kernel (ns)", "",
              "Receiving: the copy of each datagram, freeing it, system calls and wake-ups. The",
              "kernel splits CPU time between user and kernel by tick samples, so this split is",
              "rough, and shown only where the readers are busy.", "",
              "| reader | " + " | ".join(busy) + " |", "|---" * (len(busy) + 1) + "|"]
    for reader in readers:
        cells = [fmt(table[(o, reader)]["sys_ns_per_event"]) if (o, reader) in table else "-" for o in busy]
        lines.append(f"| {reader} | " + " | ".join(cells) + " |")
    lines.append("")
    generated = {o: median([s["generated_per_s"] for s in summary if s["offered"] == o]) for o in OFFERS
                 if any(s["offered"] == o for s in summary)}
    lines.append("Generated (logged) rate, median over all runs: " +
                 ", ".join(f"{o} {fmt(generated[o])}/s" for o in OFFERS if o in generated) + ".")
    lines.append("")

    lines += ["### The batching trade-off", "",
              "The same callback reader with batching fixed at either end, and adaptive (the default):",
              "reader CPU per event and p99 latency.", "",
              "| rate | fixed qthresh 1 | fixed qthresh 32, 10 ms | adaptive (default) |",
              "|---|---|---|---|"]
    for offered in OFFERS:
        cells = []
        for reader in ("nflog-fixed-q1", "nflog-fixed-q32", "nflog-callback"):
            s = table.get((offered, reader))
            cells.append(f"{fmt(s['cpu_ns_per_event'])} ns, p99 {fmt(s['p99_us'] / 1e3)} ms, {fmt(s['events_per_datagram'])} ev/datagram"
                         if s else "-")
        lines.append(f"| {offered} | " + " | ".join(cells) + " |")
    lines += ["",
              "One event per datagram is the latency floor and the CPU ceiling: every event is a",
              "system call and, when the reader had caught up, a wake-up; at a flood that reader",
              "takes so much CPU from the senders that they generate far fewer events. Fixed batches",
              "are cheap at a flood but make rare events wait for the rest of the batch or for the",
              "flush timer (the kernel counts it in jiffies: 1 cs is two jiffies, 4-8 ms at HZ=250).",
              "Adaptive batching keeps one event per datagram below about 69k events/s and grows the",
              "batch with the fourth power of the rate above it (8 at 100k/s, 128 at 200k/s, 2048",
              "from about 390k/s, in a 128 KiB kernel buffer, each once earned: see \"Bursts\"):",
              "as quick as qthresh 1 where latency",
              "matters, far cheaper than qthresh 32 at a flood. A reader that is behind reads the",
              "queued datagrams without sleeping: Asio tries the receive before it waits, so the",
              "wake-up is paid only when the socket was empty; batching is what makes each of those",
              "wake-ups count. At one sender the reader is faster than the flood and sleeps between",
              "datagrams, so their size sets how often it pays a wake-up: a ceiling of 2048 messages",
              "and 128 KiB instead of 1024 and 64 KiB cut the callback reader's CPU per event by",
              "about a tenth there (8 of 10 interleaved pairs, median 79 against 88 ns), at the",
              "price of a p99 at a flood of a few milliseconds more. 128 KiB is as large as the",
              "kernel makes a batch. Letting several datagrams queue up, to pay one wake-up for",
              "them, does not help either: a callback reader that paused 3 or 8 ms after each full",
              "datagram took more CPU per event, not less (medians 60 and 79 against 52 ns, 4",
              "interleaved rounds at flood-x1), likely because the datagrams had left its caches by",
              "the time it read them.", ""]
    lines += bursts_section(summary, readers)
    lines += ["### Where a reader's CPU goes at a flood", "",
              "Sampled with `perf record -e cpu-clock` on the callback reader at flood-x1: about a",
              "fifth is the kernel copying each datagram out (`_copy_to_iter`, about 128 bytes per",
              "event, which every reader pays), a quarter the walk over the messages and their",
              "attributes, a tenth the socket's accounting (packets, sequence gaps, batching), a",
              "sixth the reader's own work (clock, prefix, histogram), the rest system calls,",
              "wake-ups and Asio.", "",
              "The walk is cheap because a flood's messages all look alike: one rule, one hook, the",
              "same attributes with the same lengths but for the payload, which comes last. The",
              "socket remembers the attribute layout of the last message it parsed in full",
              "(`detail::packet_layout`): where each attribute header stood and what it said. A",
              "message whose headers all equal the remembered ones but for the last one's length",
              "takes the remembered table of offsets; only the last attribute gets the checks of the",
              "walk's last step. The headers are compared 16 bytes at a time, the values between",
              "them masked out: loads that do not depend on each other, where the full walk must",
              "find each header from the length in the one before and check it against the rules",
              "of its type. On a datagram of 900 flood-shaped messages in memory this took the walk",
              "from 252 to 153 instructions per message (callgrind) with a compare per header, then",
              "17 fewer with the walk inlined into the batch's loop and 17 fewer again with the",
              "16-byte compares. Messages that do not match are",
              "parsed in full, so the views are the same either way (a unit test compares both walks",
              "over 20,000 mutated datagrams, and the `fuzz_packet_view` target over every input); a",
              "layout that keeps missing rests until the next datagram.", "",
              "A batch parses its whole datagram into its slots (128 bytes each: about 1400 slots,",
              "179 KB, for a full datagram, more than L1 holds) before the reader sees its first",
              "packet, so that the socket can count sequence gaps and a batch knows its `size()`",
              "and `lost_before()` up front. Parsing each message only when the reader takes it",
              "would keep one slot hot. Its gain has a ceiling, measured in memory on datagrams of",
              "900 flood-shaped messages with the benchmark reader's own work: a walk into one",
              "reused slot, with the sequence accounting inline, against a batch. It saved about 3",
              "ns per event in two sets of alternated runs (medians 34.2 against 37.0 ns over 8",
              "pairs, 23.5 against 26.2 ns over 12 pairs of which 8 favoured it), about a",
              "sixteenth of the callback reader's cost at flood-x1. That is not worth a batch",
              "whose size and losses are known only once it has been read; an earlier attempt to",
              "shrink the slots (16-bit offsets) cost more instructions than it saved (see",
              "\"Parse\").", "",
              "The readers that take owned events also pay for building them. Sampled on an",
              "in-memory loop that parses a flood-shaped datagram and builds an event per message,",
              "a third of the time was in `inet::decode` and a sixth in `event::assign`, nearly all",
              "of it on the instructions right after three 16-byte loads. The decoder built each",
              "address in a temporary (a 4-byte and two 8-byte stores) and copied it into the flow",
              "with a 16-byte load, and `event::assign` copied the returned flow into the event the",
              "same way. A load that spans several stores still in the store buffer cannot take its",
              "bytes from them and waits until they reach the cache. The decoder now writes",
              "addresses straight into the flow (`detail::address_writer`), and `event::assign`",
              "uses the overload of `inet::decode` that writes into the event's own flow. In memory,",
              "building an event (with the parse and the copy of the datagram) went from 56.8 to",
              "40.5 ns (medians of 15 alternated runs; 14 of the 15 pairs favoured the new code).",
              "Callgrind could not have shown it: the copies are a few instructions.", "",
              "A channel of event batches refills the slots of blocks its consumer let go of, which",
              "come back cold, and `event::assign` first reads what the slot remembers of its last",
              "prefix (the text and its action) to skip the copy and the search for markers when the",
              "prefix is the same. Sampled at flood-x2, the event-batch reader waited on that load.",
              "Keeping the memo in the cursor instead, which is hot, and only writing the slot (the",
              "prefix then copied every time) was slower, not faster: on datagrams of 600",
              "flood-shaped messages in memory, a batch cursor with the consumer's reads took 41.0",
              "against 34.1 ns per event (best of 10 alternated runs each). The skipped write saves",
              "more than the load costs.", ""]

    lines += ["### Goals (library defaults, no tuning)", ""]
    goal_lines = []
    flood_loss = {r: table.get(("flood-x2", r)) for r in LIBRARY_DEFAULTS if table.get(("flood-x2", r))}
    if flood_loss:
        worst = max(s["lost"] for s in flood_loss.values())
        goal_lines.append(f"1. Zero loss at the highest rate (two senders): "
                          + ", ".join(f"{r} {s['lost']} lost of {s['logged']:,}" for r, s in flood_loss.items())
                          + (" — met." if worst == 0 else " — NOT met."))
    ratio_text = []
    verdicts = {}
    for offered in ("flood-x1", "flood-x2"):
        for reader in LIBRARY_DEFAULTS:
            ratio, ratios = paired_ratio(runs, reader, offered, "cpu_ns")
            if ratios:
                ratio_text.append(f"{reader} {offered} {ratio:.2f} (rounds: {', '.join(f'{x:.2f}' for x in ratios)})")
                verdicts[reader] = verdicts.get(reader, True) and ratio <= GOAL_RATIO
    if ratio_text:
        met = [r for r, ok in verdicts.items() if ok]
        missed = [r for r, ok in verdicts.items() if not ok]
        verdict = (" — met for " + ", ".join(met) if met else " — NOT met") + \
                  ("; not for " + ", ".join(f"{r} ({why_dearer(r, table, handoffs)})" if r in WHY_DEARER else r
                                            for r in missed)
                   if missed else "") + "."
        goal_lines.append("2. Reader CPU per event against libnetfilter_log at a flood, median of per-round ratios, "
                          "goal <= 0.3: " + "; ".join(ratio_text) + verdict)
    latency = []
    latency_met = True
    for offered in ("1k", "10k", "50k"):
        for reader in LIBRARY_DEFAULTS:
            s = table.get((offered, reader))
            if s:
                latency.append(f"{reader} {offered} {fmt(s['p99_us'])} us")
                latency_met &= s["p99_us"] <= 1000
    if latency:
        goal_lines.append("3. p99 latency <= 1 ms at 1k-50k events/s: " + "; ".join(latency)
                          + (" — met." if latency_met else " — NOT met everywhere (see the load average)."))
    goal_lines += ["",
                   "Goal 1 depends on how fast the machine floods. On a faster one (an Intel Xeon whose two",
                   "senders logged 804k events/s) every reader above lost nothing but `nflog-watcher`: at",
                   "about 900 ns of its own CPU per event (one `co_await` each) it fell behind, and the",
                   "kernel dropped 564,144 of 4,475,893 events in 4 overruns, every one of them counted in",
                   "`stats().lost`."]
    exact = [s for s in summary if s["reader"].startswith("nflog-")]
    lines += goal_lines + [""]
    goal_lines = []
    if exact:
        good = sum(1 for s in exact if s["exact"] and s["stats_agree"])
        goal_lines.append(f"Accounting: for {good} of {len(exact)} library rate/reader cells every run had "
                          "received + `stats().lost` == the rule's counter and the socket's own counters "
                          "equal to what the reader saw.")
        for s in exact:
            if s["exact"] and s["stats_agree"]:
                continue
            why = []
            if not s["exact"]:
                why.append("received + lost differs from the counter")
            if not s["stats_agree"]:
                why.append("the socket's counters disagree with the reader")
            if s["unemptied"]:
                why.append(f"in {s['unemptied']} of its runs the end marker went into a socket still full "
                           "after 10 s, so the events lost right before it may be uncounted")
            goal_lines.append(f"- {s['reader']} {s['offered']}: " + "; ".join(why) + ".")
    unemptied = sum(s["unemptied"] for s in summary)
    if unemptied:
        runs_text = "one run" if unemptied == 1 else f"{unemptied} runs"
        goal_lines.append(f"In {runs_text} the reader's socket still held events 10 s after the flood "
                          "and the end marker was sent anyway.")
    lines += goal_lines + [""]

    if overload:
        lines += ["### Overload", "",
                  "Two senders, 1.5 million packets each as fast as possible, against the callback reader",
                  "made slow on purpose: it spends 5 us on every event (`--work-ns 5000`, about 200k",
                  "events/s at most) behind a 64 KiB receive buffer (the kernel doubles it), other options",
                  "the defaults; then 1000 events/s for the run length, read by the same socket. The",
                  "kernel drops whole batches (`overruns`); the sequence numbers count every lost event.", "",
                  "| phase | logged | received | counted lost | overruns | received + lost == logged | p99 (us) | socket at the end |",
                  "|---|---|---|---|---|---|---|---|"]
        for row in overload:
            received = int(number(row, "received"))
            lost = int(number(row, "lost"))
            logged = int(number(row, "logged"))
            agrees = "yes" if received + lost == logged else "NO"
            if row.get("socket_emptied", "1") == "0":
                agrees += " (end marker sent into a full socket)"
            lines.append(f"| {row['phase']} | {logged:,} | {received:,} | {lost:,} | {int(number(row, 'overruns')):,} | "
                         f"{agrees} | {fmt(number(row, 'p99_ns') / 1e3)} | {row['note']} |")
        lines.append("")

    lines += ["### Plots", "",
              "![events per second](load/results/events.png)",
              "![CPU per event](load/results/cpu.png)",
              "![latency](load/results/latency.png)",
              "![loss](load/results/loss.png)", ""]
    return lines


def write_readme(path, section_lines):
    text = open(path).read() if os.path.exists(path) else "# Benchmarks\n"
    section = "\n".join(section_lines).rstrip("\n") + "\n"
    start = text.find("\n" + SECTION + "\n")
    if text.startswith(SECTION + "\n"):
        start = -1
        head, rest = "", text
    elif start >= 0:
        head, rest = text[:start + 1], text[start + 1:]
    else:
        head, rest = text.rstrip("\n") + "\n\n", SECTION + "\n"
    # The section ends where the next section of the same level begins.
    following = re.search(r"^## ", rest[len(SECTION):], re.MULTILINE)
    tail = rest[len(SECTION) + following.start():] if following else ""
    with open(path, "w") as sink:
        sink.write(head + section + ("\n" + tail if tail else ""))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--results", required=True)
    parser.add_argument("--plots", required=True)
    parser.add_argument("--readme")
    args = parser.parse_args()
    runs = read_csv(os.path.join(args.results, "runs.csv"))
    overload = read_csv(os.path.join(args.results, "overload.csv"))
    if not runs:
        print("no runs.csv yet: run scripts/bench-load without --overload first", file=sys.stderr)
        return 1
    summary = summarise(runs)
    write_summary(summary, os.path.join(args.results, "summary.csv"))
    plot(summary, args.results, args.plots)
    loads = [number(r, "load1") for r in runs + overload]
    load_range = f"{min(loads):.1f}-{max(loads):.1f}"
    if args.readme:
        readme_text = open(args.readme).read() if os.path.exists(args.readme) else ""
        write_readme(args.readme, readme_section(summary, runs, overload, load_range, handoff_costs(readme_text)))
    for s in sorted(summary, key=lambda s: (OFFERS.index(s["offered"]) if s["offered"] in OFFERS else 99, s["reader"])):
        print(f"{s['offered']:>9} {s['reader']:<18} {fmt(s['events_per_s']):>10}/s cpu {fmt(s['cpu_ns_per_event']):>7} ns/ev "
              f"(sys {fmt(s['sys_ns_per_event']):>7}) {fmt(s['events_per_datagram']):>5} ev/dg "
              f"p50 {fmt(s['p50_us']):>7} p99 {fmt(s['p99_us']):>7} max {fmt(s['max_us']):>7} us lost {s['lost']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
