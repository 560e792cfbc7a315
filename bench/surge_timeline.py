"""A benchmark run's recorded pods and nodes -> the event report's timelines.

The recorded timelines become unit-test fixtures (tests/fixtures/timelines/) and give the
offline report that the live controller's report is checked against:

    .venv/bin/python bench/surge_timeline.py bench/results/X.json 0 tests/fixtures/timelines/X.json
    .venv/bin/python bench/surge_timeline.py --table bench/results/reports-*.json
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from node_placeholder_scaler.reports.timelines import (
    NodeTimeline,
    PodTimeline,
    Window,
    selects_pool,
    timeline_to_dict,
)

POOL = "user"
POOL_SELECTOR = {"hub.jupyter.org/pool-name": "user-pool"}
SERIES = "surge-1@node-placeholder-scaler"  # feed.course_ics
TITLE = "Course login surge"
NAMESPACE = "surge"
# 3900m / 16374Mi allocatable (tests/cluster/manifests) over 500m / 1536Mi per student
USERS_PER_NODE = 7


def _t(x: float | None) -> datetime | None:
    return None if x is None else datetime.fromtimestamp(x, UTC)


def window(scenario: dict[str, Any], run: dict[str, Any]) -> Window:
    scale = scenario["time_scale"]
    t0 = datetime.fromtimestamp(run["t0"], UTC)
    return Window(
        POOL,
        SERIES,
        TITLE,
        t0,
        t0 + timedelta(seconds=scenario["event_length"] * scale),
        timedelta(seconds=round(scenario["lead"] * scale)),
        run["nodes"] or 0,
    )


def legacy_pods(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs recorded before pods were (students only, without their node)."""
    return [
        {
            "name": s["name"],
            "role": "student",
            "created": s["created"],
            "priority": 0,
            "node_selector": POOL_SELECTOR,
            "scheduled": s["scheduled"],
            "ready": None,
            "node": None,
            "deleted": None,
            "unschedulable": None,
        }
        for s in run["students"]
    ]


def pods(scenario: dict[str, Any], run: dict[str, Any]) -> list[PodTimeline]:
    end = run["t0"] + scenario["event_length"] * scenario["time_scale"]
    out = []
    for p in run.get("pods") or legacy_pods(run):
        placeholder = p["role"] == "placeholder"
        out.append(
            PodTimeline(
                name=p["name"],
                namespace=NAMESPACE,
                created=_t(p["created"]),  # type: ignore[arg-type]
                placeholder=placeholder,
                targets_pool=selects_pool(p["node_selector"], (), POOL_SELECTOR),
                scheduled=_t(p["scheduled"]),
                ready=_t(p["ready"]),
                node=p["node"],
                deleted=_t(p["deleted"]),
                # the controller scales placeholders down only after the end: a running one
                # deleted before it was preempted (the sampler cannot see the condition)
                preempted=placeholder
                and p["scheduled"] is not None
                and p["deleted"] is not None
                and p["deleted"] < end,
                owner_kind="ReplicaSet" if placeholder else None,
                unschedulable=p["unschedulable"],
            )
        )
    return out


def nodes(run: dict[str, Any]) -> list[NodeTimeline]:
    return [
        NodeTimeline(n["name"], _t(n["created"]), _t(n["ready"]), _t(n["deleted"]))  # type: ignore[arg-type]
        for n in run["nodes_seen"]
    ]


def fixture(data: dict[str, Any], index: int) -> dict[str, Any]:
    scenario, run = data["scenario"], data["runs"][index]
    w = window(scenario, run)
    at = run["t0"] + scenario["after"] * scenario["time_scale"]
    scale = scenario["time_scale"]
    figures = run["figures"]
    return {
        "source": f"{data['command']} (run {index}: {run['strategy']}, N={run['nodes']})",
        "window": {
            "pool": w.pool,
            "series": w.series,
            "title": w.title,
            "start": w.start.isoformat(),
            "end": w.end.isoformat(),
            "lead_s": w.lead.total_seconds(),
            "asked": w.asked,
        },
        "at": _t(at).isoformat(),  # type: ignore[union-attr]
        "users_per_node": USERS_PER_NODE,
        "time_scale": scale,
        "bench_waits_cluster_s": {k: figures[k] * scale for k in ("p50", "p95", "max_wait")},
        "bench_students": figures["students"],
        "live_reports": run.get("reports", []),  # what the controller itself reported
        **timeline_to_dict(pods(scenario, run), nodes(run)),
    }


def table(paths: list[Path]) -> str:
    """The event report's proof table: the benchmark's waits beside the controller's report."""
    head = (
        "| run | `user: N` | bench p50/p95/max s (scenario) | bench p95/max s (cluster) | "
        "report p95/max s (cluster) | capacity ready in time | bottleneck | waits while "
        "placeholders free | advice | node-min | file |\n|" + "---|" * 11 + "\n"
    )
    rows = []
    for path in paths:
        data = json.loads(path.read_text())
        scale = data["scenario"]["time_scale"]
        for run in data["runs"]:
            f = run["figures"]
            for r in run.get("reports") or [{}]:
                wait = r.get("wait_s") or {}
                advice = (r.get("advice") or {}).get("nodes")
                rows.append(
                    f"| {run['strategy']} | {run['nodes']} | {f['p50']:.1f}/{f['p95']:.1f}/"
                    f"{f['max_wait']:.1f} | {f['p95'] * scale:.1f}/{f['max_wait'] * scale:.1f} | "
                    f"{wait.get('p95', '-')}/{wait.get('max', '-')} | "
                    f"{'yes' if r.get('capacity_ready_in_time') else 'no'} | "
                    f"{r.get('bottleneck', '-')} | {r.get('while_free', '-')} of "
                    f"{r.get('over_target', '-')} over {r.get('target_s', '-')} s | "
                    f"{'-' if advice is None else advice} | {f['node_minutes']:.1f} | "
                    f"{path.stem} |"
                )
    return head + "\n".join(rows) + "\n"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--table"]:
        print(table([Path(a) for a in argv[1:]]), end="")
        return 0
    source, index, out = Path(argv[0]), int(argv[1]), Path(argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fixture(json.loads(source.read_text()), index), indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
