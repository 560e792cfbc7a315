"""A benchmark run's recorded pods and nodes -> the event report's timelines (issue 13).

The recorded timelines become unit-test fixtures (tests/fixtures/timelines/) and give the
offline report that the live controller's report is checked against:

    .venv/bin/python bench/surge_timeline.py bench/results/X.json 0 tests/fixtures/timelines/X.json
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from node_placeholder_scaler.timelines import (
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
    return Window(POOL, SERIES, TITLE, t0, t0 + timedelta(seconds=scenario["event_length"] * scale),
                  timedelta(seconds=round(scenario["lead"] * scale)), run["nodes"] or 0)


def legacy_pods(run: dict[str, Any]) -> list[dict[str, Any]]:
    """Runs recorded before pods were (students only, without their node)."""
    return [{"name": s["name"], "role": "student", "created": s["created"], "priority": 0,
             "node_selector": POOL_SELECTOR, "scheduled": s["scheduled"], "ready": None,
             "node": None, "deleted": None, "unschedulable": None} for s in run["students"]]


def pods(scenario: dict[str, Any], run: dict[str, Any]) -> list[PodTimeline]:
    end = run["t0"] + scenario["event_length"] * scenario["time_scale"]
    out = []
    for p in run.get("pods") or legacy_pods(run):
        placeholder = p["role"] == "placeholder"
        out.append(PodTimeline(
            name=p["name"], namespace=NAMESPACE, created=_t(p["created"]),  # type: ignore[arg-type]
            placeholder=placeholder, targets_pool=selects_pool(p["node_selector"], (),
                                                               POOL_SELECTOR),
            scheduled=_t(p["scheduled"]), ready=_t(p["ready"]), node=p["node"],
            deleted=_t(p["deleted"]),
            # the controller scales placeholders down only after the end: a running one
            # deleted before it was preempted (the sampler cannot see the condition)
            preempted=placeholder and p["scheduled"] is not None
            and p["deleted"] is not None and p["deleted"] < end,
            owner_kind="ReplicaSet" if placeholder else None,
            unschedulable=p["unschedulable"]))
    return out


def nodes(run: dict[str, Any]) -> list[NodeTimeline]:
    return [NodeTimeline(n["name"], _t(n["created"]), _t(n["ready"]), _t(n["deleted"]))  # type: ignore[arg-type]
            for n in run["nodes_seen"]]


def fixture(data: dict[str, Any], index: int) -> dict[str, Any]:
    scenario, run = data["scenario"], data["runs"][index]
    w = window(scenario, run)
    at = run["t0"] + scenario["after"] * scenario["time_scale"]
    scale = scenario["time_scale"]
    figures = run["figures"]
    return {
        "source": f"{data['command']} (run {index}: {run['strategy']}, N={run['nodes']})",
        "window": {"pool": w.pool, "series": w.series, "title": w.title,
                   "start": w.start.isoformat(), "end": w.end.isoformat(),
                   "lead_s": w.lead.total_seconds(), "asked": w.asked},
        "at": _t(at).isoformat(),  # type: ignore[union-attr]
        "users_per_node": USERS_PER_NODE,
        "time_scale": scale,
        "bench_waits_cluster_s": {k: figures[k] * scale for k in ("p50", "p95", "max_wait")},
        "bench_students": figures["students"],
        "live_reports": run.get("reports", []),  # what the controller itself reported
        **timeline_to_dict(pods(scenario, run), nodes(run)),
    }


def main(argv: list[str]) -> int:
    source, index, out = Path(argv[0]), int(argv[1]), Path(argv[2])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(fixture(json.loads(source.read_text()), index), indent=1) + "\n")
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
