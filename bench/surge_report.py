"""The benchmark's outputs: a markdown table and a PNG plot (one panel per run)."""

from __future__ import annotations

import math
import platform
import subprocess
from collections.abc import Sequence
from pathlib import Path

from testkit.surge import z2jh
from testkit.surge.analysis import (
    arrivals_end,
    bound_nodes,
    goal_missed,
    phase_minutes,
    phases,
)
from testkit.surge.courses import CLASS_STRATEGIES, class_settings, run_label
from testkit.surge.run import RunResult
from testkit.surge.scenario import Scenario


def _f(x: float, digits: int = 1) -> str:
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


def label(r: RunResult) -> str:
    return run_label(r.strategy, r.nodes_asked, r.request)


def _nothing(results: Sequence[RunResult]) -> RunResult | None:
    return next((r for r in results if r.strategy == "nothing"), None)


def _versus(value: float, nothing: float | None) -> str:
    """``+8.5 (1.71x)``: the difference to "nothing" and the ratio."""
    if nothing is None:
        return "-"
    ratio = f" ({value / nothing:.2f}x)" if nothing else ""
    return f"{value - nothing:+.1f}{ratio}"


def table(results: Sequence[RunResult]) -> str:
    """One row per run. "vs nothing": node-minutes minus those of the run of strategy 1 in the
    same table (when there is one), and their ratio; "first warm node": scenario seconds
    from T0 to the first Ready node added in the window (negative: before the event)."""
    head = (
        "| strategy | students scheduled | p50 wait s | p95 wait s | max wait s "
        "| waited > 30 s | node-min | lower bound | above bound | ratio | vs nothing "
        "| peak nodes | first warm node Ready s | preemptions |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
    )
    base = _nothing(results)
    nothing = base.figures.node_minutes if base else None
    rows = []
    for r in results:
        f = r.figures
        versus = _versus(f.node_minutes, nothing)
        rows.append(
            f"| {label(r)} | {f.scheduled}/{f.students} | {_f(f.p50)} | {_f(f.p95)} | "
            f"{_f(f.max_wait)} | {f.over_30s} | {_f(f.node_minutes)} | "
            f"{_f(f.lower_bound)} | {_f(f.above_bound)} | {_f(f.ratio, 2)} | {versus} | "
            f"{f.peak_nodes} | {_f(f.first_warm_ready, 0)} | "
            f"{'-' if r.preemptions is None else r.preemptions} |"
        )
    return head + "\n".join(rows) + "\n"


def goal(r: RunResult, nothing: RunResult | None) -> str:
    """Which parts of the goal a run meets: "met", or the parts it misses."""
    f = r.figures
    missed = goal_missed(
        f.p95, f.max_wait, f.node_minutes, nothing.figures.node_minutes if nothing else None
    )
    return "met" if not missed else "missed: " + ", ".join(missed)


def phase_table(s: Scenario, results: Sequence[RunResult]) -> str:
    """Node-minutes per phase (before T0, during the arrivals, after them), each against the
    lower bound of that phase and against "nothing" of the same table, and the goal."""
    parts = phases(s)
    head = (
        "| strategy | "
        + " | ".join(f"{name} (bound)" for _, _, name in parts)
        + " | total vs nothing | goal (p95 <= 5 s, max <= 30 s, <= 1.1x nothing) |\n|"
        + "---|" * (len(parts) + 3)
        + "\n"
    )
    base = _nothing(results)
    rows = []
    for r in results:
        split = phase_minutes(s, r.node_records, r.t0)
        cells = " | ".join(f"{u:.1f} ({b:.1f})" for u, b in split)
        versus = _versus(r.figures.node_minutes, base.figures.node_minutes if base else None)
        rows.append(f"| {label(r)} | {cells} | {versus} | {goal(r, base)} |")
    return head + "\n".join(rows) + "\n"


def _version(cmd: list[str]) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=20, check=False)
        return (out.stdout or out.stderr).strip().splitlines()[0]
    except (OSError, IndexError, subprocess.TimeoutExpired):
        return "?"


def machine(bin_dir: str | None) -> list[str]:
    import kubernetes

    from node_placeholder_scaler import __version__

    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    lines = [
        f"machine: {platform.node()}, {platform.system()} {platform.release()}, "
        f"{_count_cpus()} CPUs ({cpu})",
        f"python {platform.python_version()}, node-placeholder-scaler {__version__}, "
        f"kubernetes client {kubernetes.__version__}",
    ]
    if bin_dir:
        lines.append(
            "cluster: "
            + _version([f"{bin_dir}/kubectl", "version", "--client"])
            + "; kwok "
            + _version([f"{bin_dir}/kwok", "--version"])
        )
    return lines


def _count_cpus() -> int:
    import os

    return len(os.sched_getaffinity(0))


def markdown(
    s: Scenario, results: Sequence[RunResult], command: str, env: list[str], notes: list[str]
) -> str:
    scale = s.time_scale
    autoscalers = sorted({r.autoscaler for r in results})
    out = [
        "# Course-surge benchmark",
        "",
        f"Command: `{command}`",
        "",
        *[f"- {line}" for line in env],
        f"- autoscaler of the test cluster: {', '.join(autoscalers)}",
        "",
        "## Scenario",
        "",
        f"- {s.students} students ({s.student_cpu} CPU / {s.student_memory_gi} GiB, "
        f"priority 0) arrive uniformly at random (seed {s.seed}) over {s.arrival_spread:.0f} s "
        f"after T0 and stay {s.stay:.0f} s; {s.steady} steady sessions before; "
        f"{s.per_node} fit on a node ({s.node_cpu:g} CPU / {s.node_memory_gi:g} GiB).",
        f"- Pool: boot delay {s.boot_delay:.0f} s, {s.user_min}..{s.user_max} nodes, scan "
        f"{s.scan_interval:.0f} s, scale-down of unneeded nodes after "
        f"{s.scale_down_unneeded:.0f} s. Real clouds boot in 5-10 minutes.",
        f"- Event: T0 .. T0+{s.event_length:.0f} s, `user: N`, lead {s.lead:.0f} s "
        f"(strategy 3: lead 0); controller interval {s.controller_interval:.0f} s. "
        f"N by default = ceil(arrival rate x (boot + scan + controller interval) / students "
        f"per node) = {s.chosen_nodes() if not s.nodes else s.nodes}.",
        *_second_course(s),
        *_class_mode(s, results),
        f"- Static placeholders: {s.static_placeholders} user-sized pause pods at -10.",
        f"- Window: T0-{s.before:.0f} s .. T0+{s.after:.0f} s; samples every "
        f"{s.sample_interval:g} s.",
    ]
    out += z2jh.describe(s)
    if scale != 1:
        out.append(
            f"- **Time scale {scale:g}**: every duration above ran {1 / scale:g}x "
            "faster on the cluster; waits and node-minutes are given in scenario "
            "units (cluster time / scale). The API's 1 s timestamp resolution and "
            "the scheduler's own latency do not scale, so waits are coarser."
        )
    out += [
        "",
        "## Results",
        "",
        "Wait = pod creationTimestamp to PodScheduled=True lastTransitionTime (1 s "
        "resolution); a student never scheduled counts as waiting to the window's end. "
        "Node-minutes: each pool node from creation (booting is paid) to deletion, within "
        "the window. Lower bound: max(min nodes, ceil((steady + students present) / "
        "per node)) integrated over the window, from the planned arrivals.",
        "",
        table(results),
        "",
        "Node-minutes by phase (scenario minutes; in brackets the lower bound of the "
        "phase). During arrivals: T0 to the end of the last course's arrival window "
        f"(T0+{arrivals_end(s):.0f} s).",
        "",
        phase_table(s, results),
    ]
    if notes:
        out += ["## Notes", "", *[f"- {n}" for n in notes], ""]
    return "\n".join(out) + "\n"


def _class_mode(s: Scenario, results: Sequence[RunResult]) -> list[str]:
    if not any(r.strategy in CLASS_STRATEGIES for r in results):
        return []
    pool, _ = class_settings(s.with_(time_scale=1.0))
    return [
        f"- Class-sized strategies (6, 7): each event asks for `user: <its students> "
        "students` and says its course's spread (`arrival: <spread>`); the pool's seat "
        f"{s.student_cpu:g} CPU / {s.student_memory_gi:g} GiB, "
        "seatsPerNode computed by the controller from a pool node's room, "
        f"arrivalSpread {pool['arrivalSpread']}, "
        f"nodeUp {pool['nodeUp']} (the controller adds its interval), hold unset "
        "(= each class's arrival spread); the same lead as strategy 4; a sweep's row names "
        "what it changed."
    ]


def _second_course(s: Scenario) -> list[str]:
    if not s.second_students:
        return []
    return [
        f"- A second course in the same pool: {s.second_students} students arrive over "
        f"{s.second_spread:.0f} s from T0+{s.second_start:.0f} s (its event: "
        f"T0+{s.second_start:.0f} .. T0+{s.second_start + s.second_length:.0f} s, same "
        "lead); with the node form each event asks for its own N by the rule below."
    ]


def plot(results: Sequence[RunResult], s: Scenario, path: Path) -> bool:
    """The PNG plot; False (and no file) when matplotlib is not installed: it is optional
    (`pip install -e 'testkit[plots]'`)."""
    try:
        import matplotlib
    except ImportError:
        return False

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(
        len(results), 1, figsize=(9, 2.6 * len(results)), sharex=True, squeeze=False
    )
    for ax, r in zip(axes[:, 0], results, strict=True):
        t = [(x.t - r.t0) / s.time_scale / 60 for x in r.samples]
        ax.step(
            t,
            [x.students_waiting for x in r.samples],
            where="post",
            color="tab:red",
            label="students waiting",
        )
        ax.set_ylabel("students waiting")
        ax2 = ax.twinx()
        ax2.step(t, [x.nodes for x in r.samples], where="post", color="tab:blue", label="nodes")
        ax2.step(
            t,
            [x.ready for x in r.samples],
            where="post",
            color="tab:blue",
            linestyle=":",
            label="nodes Ready",
        )
        if any(x.placeholders_desired for x in r.samples):
            ax2.step(
                t,
                [x.placeholders_desired for x in r.samples],
                where="post",
                color="tab:green",
                linewidth=0.9,
                label="warm asked (placeholders/buffer)",
            )
        sc = s.with_(nodes=r.nodes_asked) if r.nodes_asked else s
        grid = [-s.before + i * (s.before + s.after) / 400 for i in range(401)]
        ax2.step(
            [g / 60 for g in grid],
            [bound_nodes(sc, g) for g in grid],
            where="post",
            color="grey",
            linestyle="--",
            linewidth=0.8,
            label="lower bound nodes",
        )
        ax2.set_ylabel("nodes")
        f = r.figures
        ax.set_title(
            f"{label(r)}: p95 {_f(f.p95)} s, max {_f(f.max_wait)} s, "
            f"{_f(f.node_minutes)} node-min ({_f(f.ratio, 2)}x bound)",
            fontsize=9,
        )
        ax.axvline(0, color="grey", linewidth=0.8)
        lines = ax.get_legend_handles_labels()
        lines2 = ax2.get_legend_handles_labels()
        ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper right", fontsize=7)
    axes[-1, 0].set_xlabel("minutes after T0 (scenario time)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True
