"""Hostile feed servers against the background refresher while rounds run.

For each scenario of testkit.hostile_feed (and special files, a scheme typo, big feeds), a
CalendarBook with two feeds (the hostile one and a good one) is refreshed by a FeedRefresher
in the background, exactly as in the controller, while this thread runs the calendar side of a
round (plan + feed statuses + metrics) every 20 ms. Prints a Markdown table:

scenario | result | refresh wall s (fetch + parse) | bounded by | worst round ms |
worker peak MiB | secrets leaked

then the controller's peak over the whole run and the forkserver's.

"secrets leaked" counts the secret token of the URL in every log line (DEBUG), every feed
error, every plan problem and the metrics exposition. The last line sums it up.

With --out FILE (``--out -``: bench/results/feed-faults.json) it also stores the rows, the
machine and its load; the docs' table is rendered from that file (testkit/figures.py).

Run: .venv/bin/python bench/feed_faults.py [--feed-timeout 5] [--quick] [--only a,b] [--out -]
"""

from __future__ import annotations

import argparse
import io
import logging
import multiprocessing.forkserver
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from prometheus_client import generate_latest

from node_placeholder_scaler.config.settings import ConfigError, load_settings
from node_placeholder_scaler.feeds import book as feeds
from node_placeholder_scaler.feeds.book import CalendarBook, FeedRefresher
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import ProblemKind
from node_placeholder_scaler.planning import plan as plan_at
from testkit.feed_files import special_files, write_ordinary_calendar
from testkit.figure_tables import feed_faults
from testkit.hostile_feed import SECRET, HostileFeedServer
from testkit.results import Recording, out_path

NOW = datetime(2026, 3, 2, 8, 0, tzinfo=UTC)
BOUNDS = {
    "timeout": "feedTimeout (total)",
    "too-large": "maxFeedBytes (decompressed)",
    "bad-redirect": "redirect policy",
    "memory": "worker memory cap",
    "not-a-calendar": "content check",
    "http-error": "status check",
    "network-error": "socket or TLS error",
    "file-error": "regular files only",
    "bad-url": "scheme check",
    "ok": "-",
    "unchanged": "-",
    "not-modified": "-",
    "parse-error": "parse",
    "worker-error": "worker wall deadline",
}
BIG = {"big-35k-events": 35_000, "big-45k-events": 45_000, "big-70k-events": 70_000}


def scenarios(server: HostileFeedServer, folder: Path, quick: bool) -> dict[str, str]:
    names = [
        name
        for name in (
            "trickle",
            "trickle-no-length",
            "drip-headers",
            "continue-flood",
            "huge",
            "gzip-bomb",
            "redirect-loop",
            "redirect-other-host",
            "redirect-to-file",
            "redirect-bad-ipv6",
            "redirect-bad-port",
            "redirect-empty",
            "redirect-to-error",
            "html-login",
            "binary",
            "not-modified",
            "secret-reason",
            "reset",
            "flapping-etag",
            "flapping-content",
        )
        if not quick or name in ("trickle", "gzip-bomb", "html-login")
    ]
    found = {name: server.url(name) for name in names}
    found |= {f"file:{kind}": path for kind, path in special_files(folder).items()}
    found["scheme-typo"] = f"htps://127.0.0.1/private-{SECRET}/basic.ics?token={SECRET}"
    found["unreachable"] = f"http://127.0.0.1:9/private-{SECRET}/basic.ics"
    found["tls-to-plain-http"] = server.url("ok").replace("http://", "https://")
    for name in [] if quick else BIG:
        found[name] = server.url("big")
    return found


def run_one(
    name: str,
    url: str,
    server: HostileFeedServer,
    args: argparse.Namespace,
    *,
    log: io.StringIO,
    folder: Path,
) -> dict[str, object]:
    if name in BIG:  # streamed from a file: the parent's memory is the controller's alone
        server.big = write_ordinary_calendar(folder / f"{name}.ics", BIG[name])
    try:
        settings = load_settings(
            f"feedTimeout: {args.feed_timeout}s\ncalendarRefreshInterval: 1h\n"
            f"maxFeedBytes: {args.max_feed_bytes}\ncalendars: [{{name: hostile, url: '{url}'}},"
            f" {{name: good, url: '{server.url('ok')}'}}]\npools: {{user: {{maxReplicas: 50}}}}\n",
            "bench.yaml",
            {},
        )
    except ConfigError as error:  # refused when the configuration is loaded
        logging.getLogger(__name__).error("bad configuration: %s", error)
        return {
            "scenario": name,
            "result": "config error",
            "seconds": 0.0,
            "bound": "settings: scheme check at load",
            "round_ms": 0.0,
            "worker_mib": 0.0,
            "leaks": log.getvalue().count(SECRET) + str(error).count(SECRET),
        }
    metrics = Metrics()
    metrics.initialise(["user"], ["hostile", "good"])
    book = CalendarBook(settings, sink=metrics)
    refresher = FeedRefresher(book, lambda: NOW).start()
    worst, started = 0.0, time.monotonic()
    while not refresher.loaded.is_set() and time.monotonic() - started < 600:
        began = time.perf_counter()
        plan = plan_at(book.views(NOW), book.settings, NOW)  # the calendar side of a round
        metrics.observe_feeds(book.statuses(NOW))
        metrics.observe_plan(plan)
        worst = max(worst, time.perf_counter() - began)
        time.sleep(0.02)
    if name.startswith("flapping"):  # a second refresh shows what flapping does
        book.refresh(NOW.replace(hour=9))
    refresher.stop()
    hostile = book.feeds()[0]
    problems = plan_at(book.views(NOW), book.settings, NOW).problems
    texts = [
        log.getvalue(),
        repr(book.statuses(NOW)),
        repr(problems),
        generate_latest(metrics.registry).decode(),
    ]
    size = (
        {"events": BIG[name], "megabytes": round(server.big.stat().st_size / 1e6, 2)}
        if (name in BIG and server.big)
        else {}
    )
    bound = BOUNDS.get(hostile.last_result, "?")
    if hostile.copy and any(
        p.kind == ProblemKind.OVER_LIMIT for p in hostile.copy.calendar.warnings
    ):
        bound = "engine limits: partly planned"
    return {
        "scenario": name,
        **size,
        "result": hostile.last_result,
        "seconds": round(hostile.seconds or 0.0, 3),
        "bound": bound,
        "round_ms": round(worst * 1000, 2),
        "worker_mib": round(hostile.worker_peak / 2**20, 1),
        "leaks": sum(text.count(SECRET) for text in texts),
    }


def forkserver_peak() -> float:
    """Peak resident MiB of the forkserver (what every worker is forked from); 0 if gone."""
    server = multiprocessing.forkserver._forkserver  # type: ignore[attr-defined]
    pid = getattr(server, "_forkserver_pid", None)
    try:
        status = Path(f"/proc/{pid}/status").read_text() if pid is not None else ""
    except OSError:
        status = ""
    return int(status.split("VmHWM:")[1].split()[0]) / 1024 if "VmHWM:" in status else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feed-timeout", type=int, default=5, help="seconds")
    parser.add_argument(
        "--max-feed-bytes",
        type=int,
        default=10 * 2**20,
        help="default: the setting's default, 10 MiB",
    )
    parser.add_argument("--quick", action="store_true", help="three scenarios (a smoke test)")
    parser.add_argument("--only", help="comma-separated scenario names")
    parser.add_argument("--out", help="store the result (- : bench/results/feed-faults.json)")
    args = parser.parse_args()
    recording = Recording("feed-faults")
    log = io.StringIO()
    handler = logging.StreamHandler(log)
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.DEBUG)
    rows = []
    with HostileFeedServer(every=1.0) as server, tempfile.TemporaryDirectory() as folder:
        chosen = scenarios(server, Path(folder), args.quick)
        if args.only:
            chosen = {n: u for n, u in chosen.items() if n in args.only.split(",")}
        for name, url in chosen.items():
            rows.append(run_one(name, url, server, args, log=log, folder=Path(folder)))
            print(f"  {name}: {rows[-1]['result']} in {rows[-1]['seconds']:.2f}s", file=sys.stderr)
    parent = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker_cap = feeds.WORKER_BASE_BYTES + feeds.WORKER_BYTES_PER_FEED_BYTE * args.max_feed_bytes
    data = {
        "feed_timeout": args.feed_timeout,
        "max_feed_bytes": args.max_feed_bytes,
        "worker_cap_mib": worker_cap >> 20,
        "parse_budget_s": feeds.PARSE_BUDGET.total_seconds(),
        "rows": rows,
        "parent_mib": round(parent, 1),
        "forkserver_mib": round(forkserver_peak(), 1),
    }
    path = out_path(args.out, "feed-faults")
    if path is not None:
        print(f"wrote {recording.write(path, data)}")
    print(feed_faults(recording.document(data)))
    print(
        f"feed-faults: scenarios={len(rows)} worst_fetch_s="
        f"{max(float(str(r['seconds'])) for r in rows):.2f} worst_round_ms="
        f"{max(float(str(r['round_ms'])) for r in rows):.1f} worst_worker_mib="
        f"{max(float(str(r['worker_mib'])) for r in rows):.0f} parent_mib={parent:.0f} "
        f"leaks={sum(int(str(r['leaks'])) for r in rows)}"
    )
    logging.getLogger().removeHandler(handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
