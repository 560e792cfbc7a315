"""Feed benchmark: a synthetic five-year course calendar served over loopback HTTP.

Prints, as its last line:
    feed-bench: events=<n> bytes=<n> parse_s=<x> replan_ms=<x>
parse_s   fetch-to-ready for a changed feed (download, parse, first plan), best of --repeat
replan_ms one controller round's calendar part on an unchanged feed (plan), median

With --out FILE (``--out -``: bench/results/feed-bench.json) it also stores the figures, the
machine and its load; the docs' table is rendered from that file (testkit/figures.py).

Run: .venv/bin/python bench/feed_bench.py [--series 300] [--singles 5000] [--out -]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.feeds.book import CalendarBook
from node_placeholder_scaler.planning import plan as plan_at
from testkit.feedserver import FeedServer
from testkit.figure_tables import feed_bench
from testkit.results import Recording, out_path

ZONE = "Europe/Zurich"
START = datetime(2024, 1, 1, tzinfo=UTC)


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _event(uid: str, start: datetime, minutes: int, summary: str, extra: list[str]) -> list[str]:
    return [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20240101T000000Z",
        f"DTSTART;TZID={ZONE}:{_stamp(start)}",
        f"DTEND;TZID={ZONE}:{_stamp(start + timedelta(minutes=minutes))}",
        f"SUMMARY:{summary}",
        *extra,
        "END:VEVENT",
    ]


def _description(rng: random.Random) -> str:
    return (
        f"DESCRIPTION:<p>Login surge for the lecture</p><p>user: {rng.randint(1, 6)}</p>"
        f"<p>gpu: {rng.randint(0, 2)}</p><p>Room HG F {rng.randint(1, 30)}</p>"
        f'<p>Materials: <a href="https://lms.example.edu/course/{rng.randint(1, 9999)}/'
        'week">course page</a>. Please log in to the hub a few minutes early and start '
        "your server before the lecture begins; bring your laptop.</p>"
    )


def build_calendar(series: int, singles: int, seed: int = 7) -> tuple[bytes, int]:
    """A five-year calendar: `series` weekly semester series (with EXDATEs and one moved
    occurrence each) plus `singles` one-off events. Returns (bytes, VEVENT count)."""
    rng = random.Random(seed)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN", f"X-WR-TIMEZONE:{ZONE}"]
    count = 0
    for index in range(series):
        first = START + timedelta(days=rng.randrange(0, 5 * 365), hours=rng.randint(7, 16))
        first = first.replace(minute=50, second=0, tzinfo=None)
        skipped = [first + timedelta(weeks=w) for w in rng.sample(range(1, 14), 2)]
        moved = first + timedelta(weeks=5)
        uid = f"series-{index}@bench"
        lines += _event(
            uid,
            first,
            20,
            f"Course {index} surge",
            [
                "RRULE:FREQ=WEEKLY;COUNT=14",
                *(f"EXDATE;TZID={ZONE}:{_stamp(s)}" for s in skipped),
                _description(rng),
            ],
        )
        lines += _event(
            uid,
            moved + timedelta(hours=2),
            20,
            f"Course {index} surge (moved)",
            [
                f"RECURRENCE-ID;TZID={ZONE}:{_stamp(moved)}",
                _description(rng),
            ],
        )
        count += 2
    for index in range(singles):
        start = (START + timedelta(minutes=10 * rng.randrange(0, 5 * 365 * 144))).replace(
            tzinfo=None
        )
        lines += _event(f"single-{index}@bench", start, 20, f"Exam {index}", [_description(rng)])
        count += 1
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode(), count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=300)
    parser.add_argument("--singles", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=500)
    parser.add_argument("--out", help="store the result (- : bench/results/feed-bench.json)")
    args = parser.parse_args()
    recording = Recording("feed-bench")
    body, events = build_calendar(args.series, args.singles)
    server = FeedServer(body, path="/courses/basic.ics")
    settings = load_settings(
        f"timezone: {ZONE}\nleadTime: 15m\ncalendarRefreshInterval: 5m\n"
        f"calendars: [{{name: bench, url: '{server.url}'}}]\n"
        "pools: {user: {maxReplicas: 50}, gpu: {maxReplicas: 8}}\n",
        "bench.yaml",
        {},
    )
    now = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
    parse_times = []
    for attempt in range(args.repeat):
        book = CalendarBook(settings)
        server.publish(body)  # a changed feed: new ETag, full download and parse
        began = time.perf_counter()
        book.refresh(now, force=True)
        plan_at(book.views(now), book.settings, now)
        parse_times.append(time.perf_counter() - began)
        assert book.feeds()[0].last_result == "ok", book.feeds()[0].last_error
        print(f"changed feed #{attempt + 1}: fetch+parse+first plan {parse_times[-1]:.3f}s")
    round_times = []
    for index in range(args.rounds):
        instant = now + timedelta(seconds=30 * (index + 1))
        book.refresh(instant)  # what the background refresher does (a worker when due)
        began = time.perf_counter()
        plan = plan_at(book.views(instant), book.settings, instant)
        round_times.append(time.perf_counter() - began)
    print(
        f"unchanged feed: {args.rounds} rounds of 30s, last plan targets "
        f"{ {p: t.target for p, t in plan.pools.items()} }, "
        f"p50 {statistics.median(round_times) * 1000:.2f} ms, "
        f"max {max(round_times) * 1000:.2f} ms (fetches run in the background)"
    )
    server.stop()
    data = {
        "events": events,
        "bytes": len(body),
        "parse_s": [round(x, 4) for x in parse_times],
        "rounds": args.rounds,
        "replan_ms": round(statistics.median(round_times) * 1000, 4),
        "replan_max_ms": round(max(round_times) * 1000, 4),
    }
    path = out_path(args.out, "feed-bench")
    if path is not None:
        print(f"wrote {recording.write(path, data)}")
    print(feed_bench(recording.document(data)).strip().splitlines()[-1].strip("`"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
