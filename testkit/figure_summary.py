"""The reliability page's summary table: one row per stored run of faults and inputs
(hostile calendars, hostile feeds, cluster faults, a leader's takeover), from the same raw
result files as the detailed tables (testkit/figure_tables.py)."""

from __future__ import annotations

from typing import Any

from testkit.figure_tables import table
from testkit.surge.scenario import STRATEGY_TITLES, Scenario

Document = dict[str, Any]
HEAD = [
    "faults and inputs tried",
    "how many",
    "crashes",
    "hangs",
    "worst time",
    "worst peak memory",
    "secrets leaked",
    "state lost",
    "reproduce",
]


def _hostile_calendar(doc: Document) -> list[object]:
    inputs = doc["data"]["inputs"]
    worst = max(inputs, key=lambda r: r["seconds"])
    lost = sum(r["good"] != 3 for r in inputs)
    return [
        "hostile calendar inputs (the known hostile inputs + fuzz findings), each beside a "
        "good event",
        len(inputs),
        sum(r["outcome"].startswith("CRASH") for r in inputs),
        sum(r["outcome"].startswith("HANG") for r in inputs),
        f"a round never parses (the worker does); parse+plan {worst['seconds']:.1f} s worst "
        f"({worst['input']})",
        f"{max(r['rss_mib'] for r in inputs):.0f} MiB resident (parse child)",
        "-",
        f"{lost} (the good event planned in {len(inputs) - lost} of {len(inputs)})",
        f"`{doc['command']}` ([table](benchmarks.md#hostile-calendar-inputs))",
    ]


def _feed_faults(doc: Document) -> list[object]:
    d = doc["data"]
    rows, wall = d["rows"], d["feed_timeout"] + d["parse_budget_s"] + 5
    return [
        "hostile feed servers, special files, big feeds",
        len(rows),
        sum(r["result"] == "worker-error" for r in rows),
        sum(r["seconds"] > wall for r in rows),
        f"{max(r['round_ms'] for r in rows):.1f} ms (rounds read the last good copy)",
        f"controller {d['parent_mib']:.0f} MiB, worker {max(r['worker_mib'] for r in rows):.0f}"
        f" MiB (cap {d['worker_cap_mib']} MiB)",
        sum(r["leaks"] for r in rows),
        "-",
        f"`{doc['command']}` ([table](benchmarks.md#hostile-feeds))",
    ]


def _cluster_faults(doc: Document) -> list[object]:
    d = doc["data"]
    rows = d["rows"]
    recovered = [r["recover_s"] for r in rows if r["recover_s"] is not None]
    failed = f" ({len(d['failed'])} more failed in this run)" if d["failed"] else ""
    return [
        "cluster faults: " + "; ".join(r["fault"] for r in rows),
        f"{len(rows)}{failed}",
        f"0 of {len(rows)} (each test asserts it)",
        "-",
        f"recovered within {max(recovered):.1f} s of the fault's removal",
        "-",
        "-",
        "see the table",
        f"`{doc['command']}` ([table](#cluster-faults))",
    ]


def _ha(doc: Document) -> list[object]:
    d = doc["data"]
    return [
        "leader killed (SIGKILL) mid-event, 3 replicas",
        1,
        "-",
        "-",
        f"standby leads after {d['takeover_s']:.1f} s ({d['lease_s']} s lease)",
        "-",
        "-",
        f"0 (replicas {', '.join(map(str, d['replicas']))}: no blip, one writer at a time)",
        f"`{doc['command']}` ([section](../operations/high-availability.md))",
    ]


ROWS = {
    "hostile-calendar": _hostile_calendar,
    "feed-faults": _feed_faults,
    "cluster-faults": _cluster_faults,
    "ha-takeover": _ha,
}


def surge_strategies(document: Document) -> str:
    """The surge benchmark's strategies side by side, from its stored runs (one line each)."""
    runs = [r for doc in document["files"].values() for r in doc["runs"]]
    rows: list[list[object]] = []
    for r in sorted(runs, key=lambda r: STRATEGY_TITLES.get(r["strategy"], r["strategy"])):
        f, title = r["figures"], STRATEGY_TITLES.get(r["strategy"], r["strategy"])
        asked = f", N={r['nodes']}" if r["nodes"] and r["strategy"] != "nothing" else ""
        rows.append(
            [
                title + asked,
                _wait(f["p95"]),
                _wait(f["max_wait"]),
                f["over_30s"],
                f"{round(f['node_minutes'], 1):.0f}",
                f"{f['node_minutes'] / f['lower_bound']:.2f}",
            ]
        )
    head = ["strategy", "p95 wait", "max wait", "waited > 30 s", "node-minutes", "x bound"]
    return table(head, rows)


def _runs(document: Document) -> list[tuple[dict[str, Any], dict[str, Any], str]]:
    """(run, scenario, file) of every run of the files, in the block's order."""
    return [
        (r, doc["scenario"], name) for name, doc in document["files"].items() for r in doc["runs"]
    ]


def surge_runs(document: Document) -> str:
    """bench/results/README.md's tables: every run of the files, by strategy, with its file."""
    usual = Scenario().event_length
    rows: list[list[object]] = []
    runs = (
        _runs(document)
        if "files" in document
        else [(r, document["scenario"], document["_file"]) for r in document["runs"]]
    )
    for r, scenario, name in sorted(
        runs, key=lambda x: STRATEGY_TITLES.get(x[0]["strategy"], x[0]["strategy"])
    ):
        f = r["figures"]
        label = STRATEGY_TITLES.get(r["strategy"], r["strategy"])
        label += f", N={r['nodes']}" if r["nodes"] and r["strategy"] != "nothing" else ""
        if scenario["event_length"] != usual:
            label += f", event ends at T0+{scenario['event_length']:.0f} s"
        rows.append(
            [
                label,
                _num(f["p50"]),
                _num(f["p95"]),
                _num(f["max_wait"]),
                f["over_30s"],
                _num(f["node_minutes"]),
                _num(f["lower_bound"]),
                f"{f['node_minutes'] / f['lower_bound']:.2f}",
                name,
            ]
        )
    head = [
        "strategy",
        "p50 s",
        "p95 s",
        "max s",
        "> 30 s",
        "node-min",
        "lower bound",
        "ratio",
        "file",
    ]
    return table(head, rows)


def surge_sweep(document: Document) -> str:
    """Ours at several `user: N`, by N (the default rule's N marked)."""
    rows: list[list[object]] = []
    ours = [(r, sc) for r, sc, _ in _runs(document) if r["strategy"] == "ours"]
    for r, scenario in sorted(ours, key=lambda x: int(x[0]["nodes"])):
        f = r["figures"]
        rule = Scenario(**scenario).with_(nodes=0).chosen_nodes()
        n = f"{r['nodes']} (default rule)" if r["nodes"] == rule else str(r["nodes"])
        rows.append(
            [
                n,
                _num(f["p50"]),
                _num(f["p95"]),
                _num(f["max_wait"]),
                f["over_30s"],
                _num(f["node_minutes"]),
                f"{f['node_minutes'] / f['lower_bound']:.2f}",
            ]
        )
    return table(["`user: N`", "p50 s", "p95 s", "max s", "> 30 s", "node-min", "ratio"], rows)


def nothing_minutes(runs: list[dict[str, Any]]) -> float | None:
    """The node-minutes of a stored run's `nothing` strategy (None: it ran none)."""
    return next((r["figures"]["node_minutes"] for r in runs if r["strategy"] == "nothing"), None)


def surge_buffer(document: Document) -> str:
    """Pause pods against CapacityBuffer (and nothing) in one stored run, or a sweep of both
    over N: node-minutes beside the first warm node and the preemptions."""
    runs = document["runs"]
    nothing = nothing_minutes(runs)
    rows: list[list[object]] = []
    for r in runs:
        f = r["figures"]
        versus = "-" if nothing is None else f"{f['node_minutes'] - nothing:+.0f}"
        asked = f", N={r['nodes']}" if r["nodes"] and r["strategy"] != "nothing" else ""
        rows.append(
            [
                STRATEGY_TITLES.get(r["strategy"], r["strategy"]) + asked,
                _num(f["p50"]),
                _num(f["p95"]),
                _num(f["max_wait"]),
                f["over_30s"],
                _num(f["node_minutes"]),
                f"{f['node_minutes'] / f['lower_bound']:.2f}",
                versus,
                f["peak_nodes"],
                f"{f['first_warm_ready']:+.0f}",
                "-" if r["preemptions"] is None else r["preemptions"],
            ]
        )
    head = [
        "strategy",
        "p50 s",
        "p95 s",
        "max s",
        "> 30 s",
        "node-min",
        "ratio",
        "vs nothing",
        "peak nodes",
        "first warm",
        "preemptions",
    ]
    return table(head, rows)


def _num(value: float) -> str:
    return f"{value:.1f}" if value < 10 and value != int(value) else f"{round(value, 1):.0f}"


def _wait(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds >= 10 else f"{seconds:.1f} s"


def reliability_summary(document: Document) -> str:
    files = document["files"]
    rows = [ROWS[doc["kind"]](doc) for doc in files.values()]
    return table(HEAD, rows, right=(1, 2, 3, 6))


VIEWS = {
    "reliability-summary": reliability_summary,
    "surge-strategies": surge_strategies,
    "surge-runs": surge_runs,
    "surge-sweep": surge_sweep,
    "surge-buffer": surge_buffer,
}
