"""The demo: a calendar event a few minutes ahead warms the user pool before students arrive.

Run through scripts/demo. Brings up (or rebuilds) the test cluster ``nps-demo``, creates the
placeholder Deployment and its PriorityClass (-10), serves a one-event calendar over loopback
HTTP, runs ``node-placeholder-scaler run`` against the cluster and shows, live: the calendar
target, the placeholders (desired/ready), the user pool's nodes (booting/Ready), and then a
few student pods (priority 0) created at once at the event's start. Cleans up at the end and
on Ctrl-C.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from kubernetes import client, config

from testkit.cluster import read_params, script_down, script_up
from testkit.feedserver import FeedServer
from testkit.ports import free_port
from testkit.surge import cluster, feed
from testkit.surge.scenario import Scenario

NAMESPACE = "nps-demo"


def _args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="scripts/demo",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--name", default="nps-demo", help="test cluster name (default nps-demo)")
    p.add_argument("--boot-delay", type=int, default=45, help="node boot delay, s (default 45)")
    p.add_argument("--lead", type=int, default=75, help="the event's lead, s (default 75)")
    p.add_argument("--nodes", type=int, default=2, help="the event's `user: N` (default 2)")
    p.add_argument("--students", type=int, default=12, help="students at T0 (default 12)")
    p.add_argument("--keep", action="store_true", help="leave the cluster up at the end")
    return p.parse_args(argv)


class Screen:
    """One status line per change (and one at least every 15 s)."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.last = ""
        self.last_at = 0.0

    def show(self, text: str, force: bool = False) -> None:
        now = time.time()
        if force or text != self.last or now - self.last_at >= 15:
            clock = f"T{now - self.t0:+5.0f}s"
            print(f"{datetime.now(UTC).strftime('%H:%M:%SZ')} {clock}  {text}", flush=True)
            self.last, self.last_at = text, now


def _status(sampler: cluster.Sampler, port: int) -> str:
    x = sampler.sample()
    m = feed.metrics(port)
    target = int(m["calendar_target"]) if "calendar_target" in m else "?"
    booting = x.nodes - x.ready
    return (
        f"calendar target={target}  placeholders {x.placeholders_ready}/"
        f"{x.placeholders_desired} ready  nodes {x.ready} Ready + {booting} booting  "
        f"students {x.students_running} running, {x.students_waiting} waiting"
    )


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    a = _args(argv)
    # Ctrl-C and SIGTERM end the demo through its cleanup, even where the shell started us
    # with SIGINT ignored (a background job).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    s = Scenario(
        boot_delay=a.boot_delay, scan_interval=5, user_min=1, user_max=10, scale_down_unneeded=60
    )
    print(
        f"==> test cluster {a.name}: boot delay {a.boot_delay}s, user pool 1..10 nodes "
        "(4 CPU, 16Gi)",
        flush=True,
    )
    kubeconfig = script_up(
        a.name,
        [
            "--boot-delay",
            f"{a.boot_delay}s",
            "--scan-interval",
            "5s",
            "--scale-down-unneeded",
            "1m",
            "--user-min",
            "1",
            "--user-max",
            "10",
        ],
    )
    try:
        with tempfile.TemporaryDirectory(prefix="nps-demo-") as tmp:
            _demo(a, s, kubeconfig, Path(tmp))
        return 0
    except KeyboardInterrupt:
        print("\n==> interrupted", flush=True)
        return 130
    finally:
        if not a.keep:
            print(f"==> cleaning up: test cluster {a.name} down", flush=True)
            script_down(a.name)
        else:
            print(f'==> cluster left up: eval "$(scripts/testcluster env --name {a.name})"')


def _demo(a: argparse.Namespace, s: Scenario, kubeconfig: Path, tmp: Path) -> None:
    params = read_params(kubeconfig)
    if params.get("AUTOSCALER", "none") == "none":
        print(
            "warning: this test cluster has no autoscaler; placeholders will stay Pending",
            flush=True,
        )
    api = config.new_client_from_config(config_file=str(kubeconfig))
    core = client.CoreV1Api(api)
    cluster.setup_namespace(api, NAMESPACE)
    cluster.create_deployment(
        api,
        NAMESPACE,
        cluster.deployment(
            "placeholder-user", 0, s.placeholder_cpu, s.placeholder_memory, "placeholder"
        ),
    )
    print(
        f"==> namespace {NAMESPACE}: PriorityClass {cluster.PLACEHOLDER_CLASS} (-10), "
        f"Deployment placeholder-user (0 replicas, {s.placeholder_cpu} CPU / "
        f"{s.placeholder_memory} each: one per node)",
        flush=True,
    )
    t0 = time.time() + a.lead + 20
    start = datetime.fromtimestamp(t0, UTC)
    body = feed.course_ics(
        start, timedelta(minutes=3), a.nodes, timedelta(seconds=a.lead), "Demo course"
    )
    port = free_port()
    sampler_of = cluster.Sampler(api, NAMESPACE, "placeholder-user", 3600)
    with FeedServer(body, path="/course.ics") as server, sampler_of as sampler:
        cfg = feed.write_config(
            tmp / "config.yaml",
            namespace=NAMESPACE,
            feed_url=server.url,
            interval_s=5,
            max_nodes=10,
            grace_s=600,
            metrics_port=port,
        )
        print(
            f'==> calendar at {server.url}: "Demo course" '
            f"{start:%H:%M:%S}Z for 3 min, description `user: {a.nodes}` and "
            f"`lead: {a.lead}s`",
            flush=True,
        )
        print(
            f"==> running: node-placeholder-scaler run --config {cfg.name} "
            f"(log: {tmp / 'controller.log'})",
            flush=True,
        )
        log = tmp / "controller.log"
        proc = feed.start_controller(cfg, kubeconfig, log)
        try:
            _watch(a, s, core, sampler=sampler, port=port, t0=t0)
        finally:
            feed.stop_controller(proc)
            _tail(log)


def _watch(
    a: argparse.Namespace,
    s: Scenario,
    core: client.CoreV1Api,
    *,
    sampler: cluster.Sampler,
    port: int,
    t0: float,
) -> None:
    screen = Screen(t0)
    while time.time() < t0:
        screen.show(_status(sampler, port))
        time.sleep(2)
    print(
        f"==> T0: {a.students} students log in at once (pods at priority 0, "
        f"{s.student_cpu} CPU / {s.student_memory_gi}Gi each)",
        flush=True,
    )
    for i in range(a.students):
        core.create_namespaced_pod(NAMESPACE, cluster.user_pod(f"student-{i:02d}", s, "student"))
    deadline = time.time() + 4 * a.boot_delay + 60
    while time.time() < deadline:
        text = _status(sampler, port)
        screen.show(text)
        if (
            sampler.rec.samples[-1].students_waiting == 0
            and len(sampler.rec.students) == a.students
            and all(r.scheduled for r in sampler.rec.students.values())
        ):
            break
        time.sleep(1)
    screen.show(_status(sampler, port), force=True)
    _report_waits(a, sampler)
    print(
        "==> the preempted placeholders are Pending: the autoscaler adds the next nodes, "
        "so warm room rolls ahead of the next arrivals (watching until they are Ready)",
        flush=True,
    )
    until = time.time() + 3 * a.boot_delay + 30
    while time.time() < until:
        screen.show(_status(sampler, port))
        x = sampler.rec.samples[-1]
        if x.placeholders_ready >= x.placeholders_desired and x.nodes == x.ready:
            break
        time.sleep(2)
    screen.show(_status(sampler, port), force=True)


def _report_waits(a: argparse.Namespace, sampler: cluster.Sampler) -> None:
    waits = sorted(
        (r.scheduled - r.created) for r in sampler.rec.students.values() if r.scheduled is not None
    )
    late = a.students - len(waits)
    print(
        f"==> students scheduled: {len(waits)}/{a.students}; wait from pod creation to "
        f"PodScheduled (1 s resolution): max {max(waits, default=0):.0f}s"
        + (f"; {late} still waiting" if late else ""),
        flush=True,
    )


def _tail(log: Path, lines: int = 12) -> None:
    if log.is_file():
        text = log.read_text(errors="replace").splitlines()
        decisions = [ln for ln in text if "pool=" in ln][-lines:]
        if decisions:
            print("==> the controller's decisions (last lines of its log):")
            for ln in decisions:
                print("    " + ln)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    sys.exit(main())
