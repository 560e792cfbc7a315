"""Hostile calendar inputs (issue #9) through parse + plan: outcome, time and peak memory.

Each input runs in its own child process (so a crash or a hang cannot hide): parse_calendar
for a 15-day window, then one plan, timed; then the same again under tracemalloc for the
peak of the Python heap during parse + plan. Prints a Markdown table (input, outcome = problem
kinds, seconds, heap peak, the child's peak RSS including the interpreter) and a summary line;
with --scaling, memory and time per MB of feed and per event for feeds of growing size.

With --out FILE (``--out -``: bench/results/hostile-calendar.json) it also stores the rows,
the machine and its load; the docs' tables are rendered from that file (testkit/figures.py).

Run: .venv/bin/python bench/hostile_calendar.py [--quick] [--scaling] [--timeout 120] [--out -]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import sys
import time
import tracemalloc
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.ical.calendar import CalendarError, Limits, parse_calendar
from node_placeholder_scaler.planning import CalendarView, plan
from testkit.figure_tables import hostile_inputs, hostile_scaling
from testkit.hostile_calendars import (
    GOOD_AT,
    WINDOW,
    Case,
    calendar,
    cases,
    event,
    large_cases,
)
from testkit.results import Recording, out_path

CONFIG = "calendars: [{name: c, url: c.ics}]\npools: {user: {maxReplicas: 1000000}}\n"


@dataclass(frozen=True)
class Outcome:
    outcome: str
    seconds: float
    peak_mib: float | None
    good: int | None = None
    rss_mib: float = 0.0


def _rss_mib() -> float:
    """This process's peak RSS: VmHWM (per address space, so not the parent's), else maxrss."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _parse_and_plan(data: bytes, limits: Limits) -> tuple[str, int | None]:
    settings = load_settings(CONFIG, "bench.yaml", {})
    try:
        parsed = parse_calendar(data, name="c", pools=["user"], window=WINDOW, limits=limits)
        result = plan(
            [CalendarView(settings.calendars[0], parsed, parsed.warnings)], settings, GOOD_AT
        )
    except CalendarError as error:
        return f"feed rejected: {error}", None
    kinds = sorted({p.kind.value for p in parsed.problems()})
    return ", ".join(kinds) or "no problem", result.pools["user"].target


def _run(data: bytes, conn: object) -> None:
    started = time.perf_counter()
    outcome, good = _parse_and_plan(data, Limits())
    seconds = time.perf_counter() - started
    rss = _rss_mib()  # before tracemalloc, whose own tables would count
    conn.send(Outcome(outcome, seconds, None, good, rss))  # type: ignore[attr-defined]
    tracemalloc.start()  # slows Python down several times: give it more time to finish
    _parse_and_plan(data, replace(Limits(), time_budget=5 * Limits().time_budget))
    conn.send(tracemalloc.get_traced_memory()[1] / 2**20)  # type: ignore[attr-defined]


def measure(data: bytes, timeout: float) -> Outcome:
    context = multiprocessing.get_context("spawn")
    parent, child = context.Pipe(duplex=False)
    process = context.Process(target=_run, args=(data, child))
    started = time.perf_counter()
    process.start()
    if not parent.poll(timeout):
        process.kill()
        process.join()
        return Outcome(f"HANG (killed after {timeout:g} s)", time.perf_counter() - started, 0)
    try:
        result: Outcome = parent.recv()
    except EOFError:
        result = Outcome(f"CRASH (exit {process.exitcode})", time.perf_counter() - started, 0)
    if parent.poll(timeout):  # the heap peak, from a second run under tracemalloc
        result = replace(result, peak_mib=parent.recv())
    process.kill()
    process.join()
    return result


def hostile_rows(selected: list[Case], timeout: float) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for case in selected:
        result = measure(case.data, timeout)
        rows.append(
            {
                "input": case.name,
                "outcome": result.outcome,
                "good": result.good,
                "seconds": round(result.seconds, 3),
                "heap_mib": _round(result.peak_mib),
                "rss_mib": round(result.rss_mib, 1),
            }
        )
        print(f"  {case.name}: {result.outcome} {result.seconds:.2f}s", file=sys.stderr)
    return rows


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def ordinary_feed(events: int) -> bytes:
    """Single events over a year, two lines of description each (like a course export)."""
    start = WINDOW[0] - timedelta(days=180)
    return calendar(
        *(
            event(
                f"DESCRIPTION:Lecture {i}\\nuser: {i % 5}",
                uid=f"ordinary-{i}",
                start=f"DTSTART:{(start + timedelta(hours=3 * i)).strftime('%Y%m%dT%H%M%SZ')}",
                summary=f"Course {i % 40}",
            ).replace("DTEND:20260303T110000Z", "DURATION:PT1H")
            for i in range(events)
        )
    )


def scaling(sizes: list[int], timeout: float) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for count in sizes:
        data = ordinary_feed(count)
        result = measure(data, timeout)
        rows.append(
            {
                "events": count,
                "megabytes": round(len(data) / 1e6, 2),
                "seconds": round(result.seconds, 3),
                "heap_mib": _round(result.peak_mib),
                "rss_mib": round(result.rss_mib, 1),
            }
        )
        print(f"  {count} events: {result.seconds:.2f}s", file=sys.stderr)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the multi-MB inputs")
    parser.add_argument("--scaling", action="store_true", help="also memory per MB and event")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds before a hang")
    parser.add_argument("--out", help="store the result (- : bench/results/hostile-calendar.json)")
    args = parser.parse_args()
    recording = Recording("hostile-calendar")
    selected = cases() + ([] if args.quick else large_cases())
    data = {
        "inputs": hostile_rows(selected, args.timeout),
        "scaling": scaling([1_000, 10_000, 35_000, 50_000, 60_000], args.timeout)
        if args.scaling
        else [],
    }
    path = out_path(args.out, "hostile-calendar")
    if path is not None:
        print(f"wrote {recording.write(path, data)}")
    document = recording.document(data)
    print(hostile_inputs(document))
    if args.scaling:
        print(hostile_scaling(document))
    inputs = data["inputs"]
    print(
        f"hostile-calendar: inputs={len(inputs)} "
        f"crashes={sum(str(r['outcome']).startswith('CRASH') for r in inputs)} "
        f"hangs={sum(str(r['outcome']).startswith('HANG') for r in inputs)} "
        f"worst_s={max(float(str(r['seconds'])) for r in inputs):.2f} "
        f"worst_rss_mib={max(float(str(r['rss_mib'])) for r in inputs):.0f}"
    )


if __name__ == "__main__":
    main()
