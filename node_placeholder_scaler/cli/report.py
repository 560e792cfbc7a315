"""``report``: the recent event reports of the pools (docs/operations/event-reports.md), as a
table, JSON or YAML, read from the controller's report ConfigMaps (one per pool, in its namespace).

Exit 0; 1 when a pool's reports cannot be read; 2 for a bad pool, --since or client config.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from ..config.settings import Settings
from ..durations import DurationError, parse_duration
from ..observed import ClusterError
from ..reports.record import EventReport, Waits, to_json
from .common import CommandError, Exit, load_client, output_argument, structured
from .plan import parse_instant

COLUMNS = (
    "START (UTC)",
    "POOL",
    "EVENT",
    "ASKED",
    "ARRIVALS",
    "WAIT p50/p95/max s",
    "> TARGET",
    "READY IN TIME",
    "BOTTLENECK",
    "NODE-UP max s",
    "NEXT TIME",
)


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool", help="only this pool (default: every configured pool)")
    parser.add_argument(
        "--since", help="only events from then on: ISO 8601, or a duration back from now (7d, 24h)"
    )
    output_argument(parser)
    parser.add_argument("--kubeconfig", help="kubeconfig file")


def since(text: str | None, settings: Settings, now: datetime) -> datetime | None:
    if not text:
        return None
    try:
        return now - parse_duration(text)
    except DurationError:
        pass
    try:
        return parse_instant(text, settings.default_zone, now)
    except ValueError:
        raise CommandError(
            f"--since {text!r}: expected ISO 8601 or a duration such as 7d", Exit.CONFIG
        ) from None


def command(settings: Settings, args: argparse.Namespace) -> int:
    # lazy: the kubernetes client loads slowly; commands without a cluster skip it
    from .. import kube
    from ..kube.reports import ReportStore

    pools = list(settings.pools)
    if args.pool:
        if args.pool.lower() not in settings.pools:
            raise CommandError(
                f"{settings.path}: pools.{args.pool}: is not a configured pool", Exit.CONFIG
            )
        pools = [args.pool.lower()]
    start = since(args.since, settings, datetime.now(UTC))
    client = load_client(args.kubeconfig, args.context)
    namespace = settings.namespace or kube.default_namespace()
    store = ReportStore(client.core, namespace)
    found: list[EventReport] = []
    for name in pools:
        try:
            found += store.load(settings.pools[name].deployment)
        except ClusterError as error:
            raise CommandError(str(error), Exit.PROBLEMS) from None
    found = [r for r in found if start is None or r.start >= start]
    found.sort(key=lambda r: r.start)
    if args.output != "table":
        print(
            structured(
                json.dumps(
                    {"namespace": namespace, "reports": [to_json(r) for r in found]}, indent=2
                ),
                args.output,
            )
        )
    else:
        sys.stdout.write(table(found) if found else f"no event reports in {namespace}\n")
    return Exit.OK


def _wait(stats: Waits | None) -> str:
    return "-" if not stats else f"{stats.p50:.0f}/{stats.p95:.0f}/{stats.max:.0f}"


def row(r: EventReport) -> tuple[str, ...]:
    nodes = r.advice.nodes
    lead = f", lead {r.advice.lead_s:.0f}s" if r.advice.lead_s else ""
    up = r.node_up_s.max if r.node_up_s else None
    title = r.title
    return (
        r.start.astimezone(UTC).strftime("%Y-%m-%d %H:%M"),
        r.pool,
        title if len(title) <= 30 else title[:29] + "…",
        str(r.asked),
        str(r.arrivals),
        _wait(r.wait_s),
        f"{r.over_target} (>{r.target_s:.0f}s)",
        "yes" if r.capacity_ready_in_time else "no",
        r.bottleneck,
        "-" if up is None else f"{up:.0f}",
        "too little data" if nodes is None else f"{r.pool}: {nodes}{lead}",
    )


def table(reports: Sequence[EventReport]) -> str:
    rows = [COLUMNS, *(row(r) for r in reports)]
    widths = [max(len(x[i]) for x in rows) for i in range(len(COLUMNS))]
    return "".join(
        "  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)).rstrip() + "\n" for x in rows
    )
