"""Renderers of the docs' tables of figures: a raw result document -> Markdown.

One function per table (a "view"); the benchmarks print the same function's output, so what a
run prints and what the docs show are one rendering of one file (testkit/figures.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Document = dict[str, Any]

FEED_FAULT_TITLES = {
    "trickle": "trickle (1 byte/s, Content-Length)",
    "trickle-no-length": "trickle, no Content-Length",
    "drip-headers": "dripping headers",
    "continue-flood": "`100 Continue` flood",
    "huge": "huge body (endless)",
    "gzip-bomb": "gzip bomb (64 KB -> 64 MiB)",
    "redirect-loop": "redirect loop",
    "redirect-other-host": "redirect to another host",
    "redirect-to-file": "redirect to `file:///etc/passwd`",
    "redirect-bad-ipv6": "Location `http://[::1`",
    "redirect-bad-port": "Location with port 99999999",
    "redirect-empty": "empty Location",
    "redirect-to-error": "redirect to a 403",
    "html-login": "HTML login page with 200",
    "binary": "binary body",
    "not-modified": "304 to a first request",
    "secret-reason": "403, secret in the reason phrase and body",
    "reset": "connection reset",
    "flapping-etag": "flapping ETag, same bytes (2nd fetch)",
    "flapping-content": "flapping content (2nd fetch)",
    "file:fifo": "named pipe as feed path",
    "file:dev-zero": "`/dev/zero` as feed path",
    "file:directory": "a directory as feed path",
    "scheme-typo": "`htps://…/private-TOKEN/…`",
    "unreachable": "nothing listening",
    "tls-to-plain-http": "https to a plain-http server",
}


def table(head: list[str], rows: list[list[object]], right: tuple[int, ...] = ()) -> str:
    """A Markdown table; columns in ``right`` are right-aligned."""
    rule = ["---:" if i in right else "---" for i in range(len(head))]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join(rule) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def feed_bench(document: Document) -> str:
    d = document["data"]
    rows: list[list[object]] = [
        [
            f"a changed feed: fetch + parse + first plan (best of {len(d['parse_s'])})",
            f"{min(d['parse_s']):.3f} s",
            "<= 3 s",
        ],
        [
            f"a round's calendar part on an unchanged feed (median of {d['rounds']})",
            f"{d['replan_ms']:.3f} ms",
            "<= 5 ms",
        ],
    ]
    return (
        f"Feed: {d['events']:,} VEVENTs, {d['bytes'] / 1e6:.1f} MB.\n\n"
        + table(["figure", "measured", "goal"], rows)
        + f"\n`feed-bench: events={d['events']} bytes={d['bytes']} "
        f"parse_s={min(d['parse_s']):.3f} replan_ms={d['replan_ms']:.3f}`\n"
    )


def feed_faults(document: Document) -> str:
    d = document["data"]
    rows: list[list[object]] = []
    for r in d["rows"]:
        name = FEED_FAULT_TITLES.get(r["scenario"], r["scenario"])
        if r.get("events"):
            name = f"{r['events']:,} ordinary events, {r['megabytes']:.1f} MB"
        refused = r["result"] == "config error"
        rows.append(
            [
                name,
                "refused at load" if refused else r["result"],
                "-" if refused else f"{r['seconds']:.2f}",
                r["bound"],
                "-" if refused else f"{r['round_ms']:.1f}",
                "-" if refused else f"{r['worker_mib']:.0f}",
                r["leaks"],
            ]
        )
    head = [
        "scenario",
        "result",
        "refresh wall s",
        "bounded by",
        "worst round ms",
        "worker peak MiB",
        "secrets leaked",
    ]
    worst = max(r["round_ms"] for r in d["rows"])
    return (
        f"`feedTimeout: {d['feed_timeout']}s`, `maxFeedBytes` {d['max_feed_bytes']:,} "
        f"(worker cap {d['worker_cap_mib']} MiB), parse budget {d['parse_budget_s']:g} s.\n\n"
        + table(head, rows, right=(2, 4, 5, 6))
        + f"\nScenarios {len(rows)}, secrets leaked {sum(r['leaks'] for r in d['rows'])}; "
        f"worst round {worst:.1f} ms (a round never waits on a feed); controller peak "
        f"{d['parent_mib']:.0f} MiB over the whole run, forkserver "
        f"{d['forkserver_mib']:.0f} MiB.\n"
    )


def hostile_inputs(document: Document) -> str:
    d = document["data"]
    rows: list[list[object]] = [
        [
            r["input"],
            r["outcome"],
            "yes" if r["good"] == 3 else f"no ({r['good']})",
            f"{r['seconds']:.2f}",
            _mib(r["heap_mib"]),
            f"{r['rss_mib']:.0f}",
        ]
        for r in d["inputs"]
    ]
    crashes = sum(r["outcome"].startswith("CRASH") for r in d["inputs"])
    hangs = sum(r["outcome"].startswith("HANG") for r in d["inputs"])
    worst = max(d["inputs"], key=lambda r: r["seconds"])
    head = [
        "input",
        "outcome (problem kinds)",
        "good event planned",
        "parse+plan s",
        "heap peak MiB",
        "child RSS MiB",
    ]
    return (
        table(head, rows) + f"\nInputs {len(rows)}, crashes {crashes}, hangs {hangs}; "
        f"worst time {worst['seconds']:.1f} s ({worst['input']}), worst resident "
        f"{max(r['rss_mib'] for r in d['inputs']):.0f} MiB.\n"
    )


def hostile_scaling(document: Document) -> str:
    rows: list[list[object]] = []
    for r in document["data"]["scaling"]:
        peak = r["heap_mib"]  # None: the run under tracemalloc did not finish in time
        per_mb = "-" if peak is None else f"{peak / r['megabytes']:.1f}"
        per_event = "-" if peak is None else f"{peak * 1024 / r['events']:.2f}"
        rows.append(
            [
                r["events"],
                f"{r['megabytes']:.1f}",
                f"{r['seconds']:.2f}",
                _mib(peak),
                per_mb,
                per_event,
                f"{r['rss_mib']:.0f}",
            ]
        )
    head = [
        "events",
        "feed MB",
        "parse+plan s",
        "heap peak MiB",
        "MiB per MB",
        "KiB per event",
        "child RSS MiB",
    ]
    return table(head, rows)


def cluster_faults(document: Document) -> str:
    d = document["data"]
    rows: list[list[object]] = [
        [
            r["fault"],
            _seconds(r["detect_s"]),
            _seconds(r["recover_s"]),
            r["error_rounds"],
            f"{r['replicas'][0]} / {r['replicas'][1]}",
            r["note"],
        ]
        for r in d["rows"]
    ]
    head = ["fault", "detect (s)", "recover (s)", "failed rounds", "replicas min / max", "notes"]
    failed = "".join(f"\n- `{name}` failed in this run: no figures" for name in d["failed"])
    return table(head, rows) + (f"\nNot measured in this run:\n{failed}\n" if failed else "")


def ha_takeover(document: Document) -> str:
    d = document["data"]
    rows: list[list[object]] = [
        ["leader killed (SIGKILL): the standby leads", f"{d['takeover_s']:.1f} s"],
        ["leader killed (SIGKILL): the standby's first scale patch", f"{d['first_write_s']:.1f} s"],
        [
            "leader stopped (SIGTERM, Lease released): the next standby leads",
            f"{d['handover_s']:.1f} s",
        ],
        ["`spec.replicas` seen by a watch throughout", ", ".join(map(str, d["replicas"]))],
    ]
    return (
        f"Three `run` processes, interval {d['interval_s']} s, lease {d['lease_s']} s, "
        f"retry {d['retry_s']} s.\n\n" + table(["measured", "value"], rows)
    )


def controller_bench(document: Document) -> str:
    d = document["data"]
    rows: list[list[object]] = []
    for r in d["sizes"]:
        for mode, key in (
            ("`run` (watch-fed pod cache)", "loop"),
            ("`run --once` (a pod LIST per node)", "once"),
        ):
            m = r[key]
            rows.append(
                [r["nodes"], mode, m["requests"], f"{m['bytes'] / 1e6:.1f}", f"{m['round_s']:.3f}"]
            )
    sync, quiet = d["sync"], d["quiet"]
    head = ["pool nodes", "round as made by", "API requests", "response MB", "round s (median)"]
    return (
        f"{d['outside_pods']:,} pods bound to nodes outside the pool; {d['rounds']} rounds "
        "per line.\n\n"
        + table(head, rows, right=(2, 3, 4))
        + f"\nThe pod cache's initial sync (once, at start): {sync['pods']:,} pods in "
        f"{sync['requests']} requests, {sync['bytes'] / 1e6:.1f} MB, "
        f"{sync['seconds']:.1f} s. `run --once` at {quiet['nodes']} nodes with no pods "
        f"outside the pool: {quiet['requests']} requests.\n"
    )


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def _mib(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


VIEWS: dict[str, Callable[[Document], str]] = {
    "feed-bench": feed_bench,
    "feed-faults": feed_faults,
    "hostile-inputs": hostile_inputs,
    "hostile-scaling": hostile_scaling,
    "cluster-faults": cluster_faults,
    "ha-takeover": ha_takeover,
    "controller-bench": controller_bench,
}
