"""Course-surge benchmark: do students wait, and what does it cost?

Replays a course surge on fresh test clusters (scripts/testcluster: real apiserver, scheduler
with preemption, controller-manager, an autoscaler; kwok nodes with a boot delay) under seven
strategies: nothing, static user-sized placeholders, node-sized placeholders scaled at T0
(no lead), ours (node-sized, with lead, node-placeholder-scaler run; with pause pods or a
CapacityBuffer) and the class-sized mode (`user: <students> students`; pause pods or a
CapacityBuffer). Every number of the scenario is a flag (see --help); --preset picks the
scenario's starting values (dev, overlap, short-lead). Writes <out>/<name>.md, .png and .json.

    .venv/bin/python bench/surge_bench.py --quick                 # CI smoke (20 students)
    .venv/bin/python bench/surge_bench.py                         # the full scenario (~45 min
                                                                  # per strategy)
    .venv/bin/python bench/surge_bench.py --time-scale 0.25 --strategies ours --sweep 4,8,13
    .venv/bin/python bench/surge_bench.py --preset overlap --time-scale 0.25 \
        --strategies nothing,class,class-buffer,ours --parallel 2
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, fields, replace
from pathlib import Path

import surge_report as report

from testkit.surge import z2jh
from testkit.surge.analysis import (
    NodeRecord,
    PodRecord,
    Sample,
    StudentRecord,
    figures,
    percentile,
    phase_minutes,
    phases,
    waits,
)
from testkit.surge.courses import PRESET_NOTES, PRESETS
from testkit.surge.run import RunResult, run_strategy
from testkit.surge.scenario import STRATEGIES, Scenario

RESULTS = Path(__file__).resolve().parent / "results"
logger = logging.getLogger("surge")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="CI smoke: 20 students, 30 s boot, short windows (flags still apply)",
    )
    p.add_argument(
        "--strategies",
        default=",".join(STRATEGIES),
        help=f"comma-separated, from {','.join(STRATEGIES)} (default: all)",
    )
    p.add_argument(
        "--sweep",
        default="",
        help="comma-separated values: run the sweep strategies once per value of --sweep-field",
    )
    p.add_argument(
        "--sweep-field",
        default="nodes",
        choices=SWEEP_FIELDS,
        help="the scenario field the sweep varies (default nodes: the event's N)",
    )
    p.add_argument(
        "--sweep-strategies",
        default="ours",
        help="strategies of the sweep (default ours; e.g. ours,buffer)",
    )
    p.add_argument("--out", type=Path, default=RESULTS, help="output folder")
    p.add_argument("--out-name", default="", help="file stem (default surge or surge-quick)")
    p.add_argument(
        "--render", type=Path, help="no run: write <stem>.md/.png again from <stem>.json"
    )
    p.add_argument("--cluster-prefix", default="nps-surge", help="test cluster name prefix")
    p.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        default="dev",
        help="the scenario's starting values (flags override them): "
        + "; ".join(f"{k}: {v}" for k, v in PRESET_NOTES.items()),
    )
    p.add_argument(
        "--parallel",
        type=int,
        choices=(1, 2),
        default=1,
        help="strategies run at the same time, each on its own cluster (default 1)",
    )
    defaults = Scenario()
    g = p.add_argument_group("scenario (durations in scenario seconds)")
    for f in fields(Scenario):
        value = getattr(defaults, f.name)
        g.add_argument(
            f"--{f.name.replace('_', '-')}",
            dest=f.name,
            type=type(value),
            default=None,
            help=f"default {value} (quick: {getattr(Scenario.quick(), f.name)})",
        )
    return p


def scenario_from(args: argparse.Namespace) -> Scenario:
    base = (Scenario.quick() if args.quick else Scenario()).with_(**PRESETS[args.preset])
    changes = {
        f.name: getattr(args, f.name) for f in fields(Scenario) if getattr(args, f.name) is not None
    }
    return base.with_(**changes)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    args = _parser().parse_args(argv)
    if args.render:
        return render(args.render)
    s = scenario_from(args)
    if (problem := z2jh.check(s)) is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    strategies = [x for x in args.strategies.split(",") if x]
    bad = [x for x in strategies if x not in STRATEGIES]
    if bad:
        print(f"error: unknown strategy {bad[0]!r}", file=sys.stderr)
        return 2
    runs: list[tuple[str, Scenario]] = [(x, s) for x in strategies]
    sweep = [x for x in args.sweep_strategies.split(",") if x]
    if any(x not in STRATEGIES for x in sweep):
        print(f"error: unknown sweep strategy in {args.sweep_strategies!r}", file=sys.stderr)
        return 2
    runs += [(x, swept(s, args.sweep_field, v)) for v in args.sweep.split(",") if v for x in sweep]
    stem = args.out_name or ("surge-quick" if args.quick else "surge")
    args.out.mkdir(parents=True, exist_ok=True)
    command = shlex.join(
        [".venv/bin/python", "bench/surge_bench.py", *(sys.argv[1:] if argv is None else argv)]
    )
    bin_dir = _bin_dir()
    started = time.time()
    load0 = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="nps-surge-") as tmp:
        results, failed = run_all(runs, args.cluster_prefix, Path(tmp), args.parallel, base=s)
    if not results:
        return 1
    notes = [
        *failed,
        f"wall time of the whole run: {(time.time() - started) / 60:.1f} min; load "
        f"average at the start {load0[0]:.1f}, at the end {os.getloadavg()[0]:.1f} "
        f"(1 min; the machine is shared with other test clusters)",
    ]
    for r in results:
        notes += [f"{r.strategy}: {e}" for e in r.errors]
    write(
        args.out,
        stem,
        s,
        results,
        command=command,
        env=report.machine(bin_dir),
        notes=notes + derived_notes(s, results),
    )
    return 0


# the arrivals stay as they are
SWEEP_FIELDS = (
    "nodes",
    "lead",
    "boot_delay",
    "controller_interval",
    "class_node_up",
    "class_spread",
)


def swept(s: Scenario, field: str, value: str) -> Scenario:
    """The scenario with one field set from the sweep's text value."""
    return s.with_(**{field: type(getattr(s, field))(value)})


def run_all(
    runs: list[tuple[str, Scenario]], prefix: str, tmp: Path, parallel: int, *, base: Scenario
) -> tuple[list[RunResult], list[str]]:
    """Each (strategy, scenario) on its own fresh cluster, ``parallel`` at a time: the
    results in the order of ``runs``, and a line for each run that failed."""

    def one(i: int) -> RunResult | str:
        strategy, sc = runs[i]
        name = f"{prefix}-{i}-{strategy}"
        try:
            r = run_strategy(sc, strategy, name, tmp / name)
            if sc != base:  # a sweep's run: its label says what it changed
                changed = [
                    f"{f.name.replace('_', ' ')} {getattr(sc, f.name):g}"
                    for f in fields(Scenario)
                    if f.name != "nodes" and getattr(sc, f.name) != getattr(base, f.name)
                ]
                r = replace(r, request=", ".join([r.request, *changed]).strip(", "))
        except Exception as error:  # the other runs of the table still count
            logger.exception("[%s] run failed", strategy)
            return f"{strategy}: the run failed ({type(error).__name__}: {error})"
        f = r.figures
        logger.info(
            "[%s] %s p50=%.1f p95=%.1f max=%.1f over30=%d node-min=%.1f "
            "bound=%.1f ratio=%.2f errors=%s",
            strategy,
            r.request or "-",
            f.p50,
            f.p95,
            f.max_wait,
            f.over_30s,
            f.node_minutes,
            f.lower_bound,
            f.ratio,
            r.errors or "none",
        )
        return r

    with ThreadPoolExecutor(max_workers=parallel) as pool:
        done = list(pool.map(one, range(len(runs))))
    return ([r for r in done if isinstance(r, RunResult)], [r for r in done if isinstance(r, str)])


def derived_notes(s: Scenario, results: list[RunResult]) -> list[str]:
    """Observed boot times and (compressed runs) waits in cluster seconds."""
    notes = []
    for r in results:
        boots = sorted(
            (n.ready - n.created) / s.time_scale
            for n in r.node_records
            if n.ready is not None and n.created > r.t0 - s.wall(s.before)
        )
        if boots:
            notes.append(
                f"{report.label(r)}: observed boot (creation to Ready, scenario s) "
                f"of {len(boots)} new nodes: median {percentile(boots, 0.5):.0f}, "
                f"max {boots[-1]:.0f} (configured {s.boot_delay:.0f})"
            )
        split = "; ".join(
            f"{name} {u:.1f} (bound {b:.1f})"
            for (u, b), (_, _, name) in zip(
                phase_minutes(s, r.node_records, r.t0), phases(s), strict=True
            )
        )
        notes.append(f"{report.label(r)}: node-minutes {split}")
        if r.class_rounds:
            steps = ", ".join(
                f"{e['phase']} {e['desired']} at T{(e['t'] - r.t0) / s.time_scale:+.0f}"
                for e in r.class_rounds
            )
            notes.append(
                f"{report.label(r)}: the controller's class rounds (phase, warm nodes "
                f"asked, scenario s): {steps}"
            )
        if s.time_scale != 1:
            w = sorted(
                wait_s * s.time_scale
                for wait_s in waits(r.students, r.t0 + s.wall(s.after), s.time_scale)
            )
            notes.append(
                f"{report.label(r)}: waits in cluster seconds: p50 "
                f"{percentile(w, 0.5):.1f}, p95 {percentile(w, 0.95):.1f}, "
                f"max {max(w, default=0):.1f}"
            )
    return notes


def write(
    out: Path,
    stem: str,
    s: Scenario,
    results: list[RunResult],
    *,
    command: str,
    env: list[str],
    notes: list[str],
) -> None:
    """The markdown table, the PNG plot and the raw data (JSON)."""
    md = report.markdown(s, results, command, env, notes)
    (out / f"{stem}.md").write_text(md)
    if not report.plot(results, s, out / f"{stem}.png"):
        print("no plot: matplotlib is not installed (pip install -e 'testkit[plots]')")
    (out / f"{stem}.json").write_text(
        json.dumps(
            {
                "command": command,
                "scenario": asdict(s),
                "env": env,
                "notes": notes,
                "runs": [
                    {
                        "strategy": r.strategy,
                        "nodes": r.nodes_asked,
                        "t0": r.t0,
                        "autoscaler": r.autoscaler,
                        "figures": asdict(r.figures),
                        "preemptions": r.preemptions,
                        "students": [asdict(x) for x in r.students],
                        "nodes_seen": [asdict(x) for x in r.node_records],
                        "samples": [asdict(x) for x in r.samples],
                        "pods": [asdict(x) for x in r.pods],
                        "reports": r.reports,
                        "request": r.request,
                        "class_rounds": r.class_rounds,
                    }
                    for r in results
                ],
            },
            indent=1,
        )
    )
    print(md)
    print(f"wrote {out / stem}.md, .png, .json")


def render(path: Path) -> int:
    """Write <stem>.md and .png again from <stem>.json of an earlier run (no cluster)."""
    data = json.loads(path.read_text())
    s = Scenario(**data["scenario"])
    results = []
    for r in data["runs"]:
        students = [StudentRecord(**x) for x in r["students"]]
        nodes = [NodeRecord(**x) for x in r["nodes_seen"]]
        samples = [Sample(**x) for x in r["samples"]]
        sc = s.with_(nodes=r["nodes"]) if r["nodes"] else s
        w1 = r["t0"] + sc.wall(sc.after)
        fig = figures(
            sc,
            students=students,
            nodes=nodes,
            samples=samples,
            w0=r["t0"] - sc.wall(sc.before),
            w1=w1,
            end=w1,
        )
        pods = [PodRecord(**x) for x in r.get("pods", [])]
        results.append(
            RunResult(
                r["strategy"],
                r["nodes"],
                fig,
                r["t0"],
                samples,
                students,
                nodes,
                r["autoscaler"],
                [],
                pods,
                r.get("reports", []),
                r.get("preemptions"),
                r.get("request", ""),
                r.get("class_rounds", []),
            )
        )
    kept = [
        n
        for n in data.get("notes", [])
        if not any(
            k in n for k in ("waits in cluster", "observed boot", "node-minutes ", "class rounds")
        )
    ]
    write(
        path.parent,
        path.stem,
        s,
        results,
        command=data["command"],
        env=data.get("env", []),
        notes=kept + derived_notes(s, results),
    )
    return 0


def _bin_dir() -> str | None:
    """The binaries of the test cluster (for their versions)."""
    import subprocess

    script = Path(__file__).resolve().parents[1] / "scripts" / "testcluster"
    out = subprocess.run([str(script), "build"], capture_output=True, text=True, check=False)
    lines = out.stdout.strip().splitlines()
    return lines[-1] if out.returncode == 0 and lines else None


if __name__ == "__main__":
    sys.exit(main())
