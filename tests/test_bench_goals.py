"""The cheap headline goals of the benchmarks, guarded by generous bounds that are ratios or
counts (never a wall-clock limit that a loaded machine decides); each test prints its figures.

- Feed parse scales linearly: the five-year course calendar of bench/feed_bench.py at half its
  size (2,800 VEVENTs) takes at most 40x the time of a tenth of that (linear: about 10x; a
  quadratic regression: about 100x).
- Replan reads no feed: the calendar part of a round on an unchanged feed costs at most 1/200
  of the feed's parse (measured: about 1/10,000).
- Memory: the worker's peak resident size for the 35,000-event feed (8 MB) stays under
  150 MiB (measured 114 MiB; the worker's cap at the default maxFeedBytes is 164 MiB).
"""

from __future__ import annotations

import importlib.util
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType

import pytest

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.feeds.book import CalendarBook
from node_placeholder_scaler.feeds.types import FetchResult
from node_placeholder_scaler.feeds.worker import Runner, run_bounded
from node_placeholder_scaler.planning import plan as plan_at
from testkit.feed_files import write_ordinary_calendar
from testkit.worker import run_in_process

pytestmark = pytest.mark.slow  # runs the benchmarks' headline measurements

ROOT = Path(__file__).parent.parent
NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def feed_bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("feed_bench", ROOT / "bench/feed_bench.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def book_of(path: Path, runner: Runner = run_in_process) -> CalendarBook:
    settings = load_settings(
        f"timezone: Europe/Zurich\nleadTime: 15m\ncalendars: [{{name: bench, url: '{path}'}}]\n"
        "pools: {user: {maxReplicas: 50}, gpu: {maxReplicas: 8}}\n",
        "bench.yaml",
        {},
    )
    return CalendarBook(settings, runner)


def parse_seconds(path: Path) -> float:
    """Parse + first plan in this process (no worker start-up in the figure)."""
    book = book_of(path)
    began = time.perf_counter()
    book.refresh(NOW, force=True)
    plan_at(book.views(NOW), book.settings, NOW)
    seconds = time.perf_counter() - began
    assert book.feeds()[0].last_result == "ok", book.feeds()[0].last_error
    return seconds


def test_feed_parse_scales_linearly_and_a_replan_reads_no_feed(tmp_path: Path) -> None:
    bench = feed_bench()
    small, big = tmp_path / "small.ics", tmp_path / "big.ics"
    small.write_bytes(bench.build_calendar(15, 250)[0])
    big.write_bytes(bench.build_calendar(150, 2500)[0])
    smalls, bigs = [], []
    for _ in range(3):  # interleaved, best of three: a burst of load hits both alike
        smalls.append(parse_seconds(small))
        bigs.append(parse_seconds(big))
    ratio = min(bigs) / min(smalls)
    book = book_of(big)
    book.refresh(NOW, force=True)
    replans = []
    for index in range(200):
        began = time.perf_counter()
        at = NOW + timedelta(seconds=30 * index)
        plan_at(book.views(at), book.settings, at)
        replans.append(time.perf_counter() - began)
    replan_share = statistics.median(replans) / min(bigs)
    print(
        f"parse 280 events {min(smalls):.3f} s, 2,800 events {min(bigs):.3f} s "
        f"(x{ratio:.1f}); replan median {statistics.median(replans) * 1000:.3f} ms "
        f"(1/{1 / replan_share:,.0f} of the parse)"
    )
    assert ratio <= 40, f"parse time grows faster than the feed: x{ratio:.1f} for 10x events"
    assert replan_share <= 1 / 200, f"a replan costs 1/{1 / replan_share:.0f} of a parse"


def test_the_35000_event_feed_stays_within_its_memory_bound(tmp_path: Path) -> None:
    feed = write_ordinary_calendar(tmp_path / "big.ics", 35_000)
    book = book_of(feed, run_bounded)
    book.refresh(NOW, force=True)
    (status,) = book.statuses(NOW)
    worker = book.feeds()[0]
    peak_mib = worker.worker_peak / 2**20
    print(
        f"35,000 events, {feed.stat().st_size / 1e6:.1f} MB: {status.last_result}, worker "
        f"peak {peak_mib:.0f} MiB"
    )
    assert status.last_result == FetchResult.OK.value, status.last_error
    assert 0 < peak_mib <= 150, f"worker peak {peak_mib:.0f} MiB for 35,000 events"
