"""``report``: the recent event reports of the pools (docs/operations/event-reports.md), as a
table, JSON or YAML, read from the controller's report ConfigMaps (one per pool, in its namespace).

Exit 0; 1 when a pool's reports cannot be read; 2 for a bad pool, --since or client config.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from ..config.settings import Settings
from ..durations import DurationError, parse_duration
from ..observed import ClusterError
from .common import CommandError, Exit, load_client, output_argument, structured
from .plan import parse_instant

COLUMNS = ("START (UTC)", "POOL", "EVENT", "ASKED", "ARRIVALS", "WAIT p50/p95/max s",
           "> TARGET", "READY IN TIME", "BOTTLENECK", "NODE-UP max s", "NEXT TIME")


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool", help="only this pool (default: every configured pool)")
    parser.add_argument("--since", help="only events from then on: ISO 8601, or a duration "
                        "back from now (7d, 24h)")
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
        raise CommandError(f"--since {text!r}: expected ISO 8601 or a duration such as 7d",
                           Exit.CONFIG) from None


def command(settings: Settings, args: argparse.Namespace) -> int:
    from .. import kube
    from ..kube.reports import ReportStore

    pools = list(settings.pools)
    if args.pool:
        if args.pool.lower() not in settings.pools:
            raise CommandError(f"{settings.path}: pools.{args.pool}: is not a configured pool",
                               Exit.CONFIG)
        pools = [args.pool.lower()]
    start = since(args.since, settings, datetime.now(UTC))
    client = load_client(args.kubeconfig, args.context)
    namespace = settings.namespace or kube.default_namespace()
    store = ReportStore(client.core, namespace)
    found: list[dict[str, Any]] = []
    for name in pools:
        try:
            found += store.load(settings.pools[name].deployment)
        except ClusterError as error:
            raise CommandError(str(error), Exit.PROBLEMS) from None
    found = [r for r in found if start is None or _start(r) >= start]
    found.sort(key=_start)
    if args.output != "table":
        print(structured(json.dumps({"namespace": namespace, "reports": found}, indent=2),
                         args.output))
    else:
        sys.stdout.write(table(found) if found else f"no event reports in {namespace}\n")
    return Exit.OK


def _start(report: Mapping[str, Any]) -> datetime:
    try:
        return datetime.fromisoformat(str(report.get("start"))).astimezone(UTC)
    except ValueError:
        return datetime.min.replace(tzinfo=UTC)


def _wait(stats: Mapping[str, float] | None) -> str:
    return "-" if not stats else f"{stats['p50']:.0f}/{stats['p95']:.0f}/{stats['max']:.0f}"


def row(r: Mapping[str, Any]) -> tuple[str, ...]:
    advice = r.get("advice") or {}
    nodes = advice.get("nodes")
    lead = f", lead {advice['lead_s']:.0f}s" if advice.get("lead_s") else ""
    up = (r.get("node_up_s") or {}).get("max")
    title = str(r.get("title", ""))
    return (
        _start(r).strftime("%Y-%m-%d %H:%M"), str(r.get("pool", "")),
        title if len(title) <= 30 else title[:29] + "…", str(r.get("asked", "")),
        str(r.get("arrivals", "")), _wait(r.get("wait_s")),
        f"{r.get('over_target', 0)} (>{r.get('target_s', 0):.0f}s)",
        "yes" if r.get("capacity_ready_in_time") else "no", str(r.get("bottleneck", "")),
        "-" if up is None else f"{up:.0f}",
        "too little data" if nodes is None else f"{r.get('pool')}: {nodes}{lead}",
    )


def table(reports: Sequence[Mapping[str, Any]]) -> str:
    rows = [COLUMNS, *(row(r) for r in reports)]
    widths = [max(len(x[i]) for x in rows) for i in range(len(COLUMNS))]
    return "".join("  ".join(c.ljust(w) for c, w in zip(x, widths, strict=True)).rstrip() + "\n"
                   for x in rows)
