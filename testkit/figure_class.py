"""The docs' table of one surge benchmark run with the class-sized strategies: waits, cost
against `nothing` of the same run and the perfect-packing bound, the node-minutes by phase and
the goal (testkit.surge.analysis.GOAL), from the run's stored raw results."""

from __future__ import annotations

from typing import Any

from testkit.figure_summary import nothing_minutes
from testkit.figure_tables import table
from testkit.surge.analysis import (
    NodeRecord,
    PodRecord,
    goal_missed,
    lower_bound,
    phase_minutes,
    phases,
    unused_minutes,
)
from testkit.surge.courses import run_label
from testkit.surge.scenario import Scenario

Document = dict[str, Any]


def surge_class(document: Document) -> str:
    s = Scenario(**document["scenario"])
    runs = document["runs"]
    nothing = nothing_minutes(runs)
    rows: list[list[object]] = []
    for r in runs:
        f = r["figures"]
        nodes = [NodeRecord(**n) for n in r["nodes_seen"]]
        split = phase_minutes(s, nodes, r["t0"])
        unused = unused_minutes(s, nodes, [PodRecord(**p) for p in r.get("pods", [])], r["t0"])
        missed = goal_missed(f["p95"], f["max_wait"], f["node_minutes"], nothing)
        rows.append(
            [
                run_label(r["strategy"], r["nodes"], r.get("request", "")),
                f"{f['p50']:.0f} / {_wait(f['p95'])} / {f['max_wait']:.0f}",
                f["over_30s"],
                f"{f['node_minutes']:.0f}",
                "-" if not nothing else f"{f['node_minutes'] / nothing:.2f}",
                f"{f['node_minutes'] / f['lower_bound']:.2f}",
                " / ".join(f"{u:.0f}" for u, _ in split),
                "-" if unused is None else f"{unused:.0f}",
                "-"
                if r["strategy"] == "nothing"
                else "met"
                if not missed
                else "missed: " + ", ".join(missed),
            ]
        )
    bound = lower_bound(s)
    rows.append(
        [
            "lower bound (perfect packing)",
            "",
            "",
            f"{bound:.0f}",
            "-" if not nothing else f"{bound / nothing:.2f}",
            "1.00",
            " / ".join(f"{lower_bound(s, a, b):.0f}" for a, b, _ in phases(s)),
            "0",
            "",
        ]
    )
    head = [
        "strategy",
        "p50 / p95 / max wait s",
        "> 30 s",
        "node-min",
        "x nothing",
        "x bound",
        "node-min " + " / ".join(name for _, _, name in phases(s)),
        "node-min of nodes no student used",
        "goal",
    ]
    return table(head, rows)


def _wait(seconds: float) -> str:
    return f"{seconds:.0f}" if seconds >= 10 else f"{seconds:.1f}"


VIEWS = {"surge-class": surge_class}
