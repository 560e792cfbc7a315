"""One strategy on a fresh test cluster: bring up, settle, replay the surge, record, tear down."""

from __future__ import annotations

import logging
import random
import subprocess
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from testkit.cluster import read_params, script_down, script_up

from ..feedserver import FeedServer
from ..ports import free_port
from . import cluster, feed, z2jh
from .analysis import Figures, NodeRecord, PodRecord, Sample, StudentRecord, figures
from .courses import (
    BUFFER_STRATEGIES,
    CLASS_STRATEGIES,
    class_settings,
    course_nodes,
    courses,
    events,
    requested,
)
from .scenario import CALENDAR_STRATEGIES, Scenario, go_duration

logger = logging.getLogger("surge")
_UP = threading.Lock()
NAMESPACE = "surge"


@dataclass(frozen=True)
class RunResult:
    strategy: str
    nodes_asked: int  # the event's `user: N` (0 for strategies without a calendar)
    figures: Figures
    t0: float
    samples: list[Sample]
    students: list[StudentRecord]
    node_records: list[NodeRecord]
    autoscaler: str
    errors: list[str]
    pods: list[PodRecord] = field(default_factory=list)  # every pod's timeline (for reports)
    reports: list[dict[str, Any]] = field(default_factory=list)  # the controller's event reports
    preemptions: int | None = None  # pods of the namespace the scheduler preempted
    request: str = ""  # the events' pool lines ("user: 9", "user: 100 students"); "" no calendar
    class_rounds: list[dict[str, Any]] = field(default_factory=list)  # feed.class_rounds


def cluster_args(s: Scenario) -> list[str]:
    return [
        "--boot-delay",
        go_duration(s.wall(s.boot_delay)),
        "--scan-interval",
        go_duration(max(1.0, s.wall(s.scan_interval))),
        "--scale-down-unneeded",
        go_duration(s.wall(s.scale_down_unneeded)),
        "--user-min",
        str(s.user_min),
        "--user-max",
        str(s.user_max),
        *z2jh.cluster_args(s),
    ]


class SetupFailed(Exception):
    """The test cluster failed before the measurement began (it did not come up, or the
    steady sessions never ran): nothing was measured, the strategy may run again."""


def run_strategy(s: Scenario, strategy: str, name: str, workdir: Path) -> RunResult:
    workdir.mkdir(parents=True, exist_ok=True)
    for attempt in (1, 2):
        logger.info("[%s] cluster %s up %s", strategy, name, " ".join(cluster_args(s)))
        try:
            try:
                with _UP:  # two clusters created at once can pick the same free ports
                    kubeconfig = script_up(name, cluster_args(s))
            except RuntimeError as error:
                raise SetupFailed(str(error)) from error
            with z2jh.spawner(s, kubeconfig, NAMESPACE) as spawner:
                return _run(s, strategy, kubeconfig, workdir, spawner)
        except SetupFailed as error:
            if attempt == 2:
                raise
            logger.warning(
                "[%s] the test cluster failed before T0 (%s): once more on a new one",
                strategy,
                error,
            )
            time.sleep(random.uniform(5.0, 30.0))  # not in step with another cluster's start
        finally:
            script_down(name)
    raise AssertionError("unreachable")


def _run(
    s: Scenario, strategy: str, kubeconfig: Path, workdir: Path, spawner: cluster.Spawner
) -> RunResult:
    from kubernetes import config

    params = read_params(kubeconfig)
    autoscaler = params.get("AUTOSCALER", "none")
    if autoscaler == "none":
        logger.warning("the test cluster has no autoscaler: no node will be added")
    api = config.new_client_from_config(config_file=str(kubeconfig))
    cluster.setup_namespace(api, NAMESPACE)
    statefulset = z2jh.setup(api, NAMESPACE, s, strategy)
    for i in range(s.steady):
        spawner.create(f"steady-{i}", "steady", False)
    deployment = None
    if strategy == "static":
        deployment = "static-placeholders"
        cluster.create_deployment(
            api,
            NAMESPACE,
            cluster.deployment(
                deployment,
                s.static_placeholders,
                f"{round(s.student_cpu * 1000)}m",
                f"{round(s.student_memory_gi * 1024)}Mi",
                "placeholder",
            ),
        )
    elif strategy in ("no-lead", "ours", "class"):
        deployment = "placeholder-user"
        cluster.create_deployment(
            api,
            NAMESPACE,
            cluster.deployment(
                deployment,
                0,
                s.placeholder_cpu,
                s.placeholder_memory,
                "placeholder",
                placement=z2jh.placement(s),
            ),
        )
    buffer = "buffer-user" if strategy in BUFFER_STRATEGIES else None
    if buffer:
        cluster.create_buffer(
            api,
            NAMESPACE,
            buffer,
            s.placeholder_cpu,
            s.placeholder_memory,
            placement=z2jh.placement(s),
        )
    settle = s.wall(s.boot_delay) + 300
    logger.info(
        "[%s] settling: waiting for the steady sessions%s",
        strategy,
        " and the static placeholders" if strategy in ("static", z2jh.STATIC) else "",
    )
    try:
        cluster.wait_all_scheduled(api, NAMESPACE, timeout=settle)
    except AssertionError as error:  # e.g. a kwok controller that lost its port: nodes Unknown
        raise SetupFailed(str(error)) from error

    w0 = time.time()
    t0 = w0 + s.wall(s.before)
    w1 = t0 + s.wall(s.after)
    calendar = strategy in CALENDAR_STRATEGIES
    nodes = (
        sum(course_nodes(s, c) for c in courses(s))
        if calendar and strategy not in CLASS_STRATEGIES
        else 0
    )
    proc = None
    server = None
    try:
        if calendar:
            server, proc = _controller(s, strategy, t0, kubeconfig, workdir, buffer=buffer)
        students = cluster.Students(spawner, s, t0)
        with cluster.Sampler(
            api, NAMESPACE, deployment, s.wall(s.sample_interval), buffer, statefulset=statefulset
        ) as sampler:
            students.thread.start()
            logger.info(
                "[%s] T0 in %.0f s; window ends in %.0f s (%s)",
                strategy,
                t0 - time.time(),
                w1 - time.time(),
                requested(s, strategy) if calendar else "no calendar",
            )
            _progress(sampler, t0, w1, strategy, s)
            students.stop.set()
        rec = sampler.rec
        reports = cluster.event_reports(api, NAMESPACE) if proc else []
        preempted = cluster.preemptions(api, NAMESPACE)
    finally:
        feed.stop_controller(proc)
        if server is not None:
            server.stop()
    studs = sorted(rec.students.values(), key=lambda r: r.name)
    fig = figures(
        s, students=studs, nodes=rec.node_records(), samples=rec.samples, w0=w0, w1=w1, end=w1
    )
    errors = list(students.errors) + spawner.problems()
    if proc is not None and proc.returncode not in (0, -15, None):
        errors.append(f"controller exited with {proc.returncode}")
    return RunResult(
        strategy,
        nodes,
        fig,
        t0,
        rec.samples,
        studs,
        rec.node_records(),
        autoscaler,
        errors,
        sorted(rec.pods.values(), key=lambda p: p.created),
        reports,
        preempted,
        requested(s, strategy) if calendar else "",
        feed.class_rounds(workdir / "controller.log"),
    )


def _controller(
    s: Scenario, strategy: str, t0: float, kubeconfig: Path, workdir: Path, *, buffer: str | None
) -> tuple[FeedServer, subprocess.Popen[bytes]]:
    """The courses' calendar on loopback and ``node-placeholder-scaler run`` reading it."""
    lead = 0.0 if strategy == "no-lead" else s.wall(s.lead)
    server = FeedServer(
        feed.events_ics(events(s, strategy, datetime.fromtimestamp(t0, UTC), lead)),
        path="/course.ics",
    )
    pool_extra, extra = class_settings(s) if strategy in CLASS_STRATEGIES else ({}, {})
    config_path = feed.write_config(
        workdir / "config.yaml",
        namespace=NAMESPACE,
        feed_url=server.url,
        interval_s=round(s.wall(s.controller_interval)),
        max_nodes=s.user_max,
        grace_s=round(s.wall(600)),
        metrics_port=free_port(),
        # the event report, compressed like the rest: a 30 s wait target, reported 5 minutes
        # after the event's end
        reports={"waitTarget": max(1, round(s.wall(30))), "settleTime": max(1, round(s.wall(300)))},
        buffer=buffer,
        pool_extra=pool_extra,
        extra=extra,
    )
    return server, feed.start_controller(config_path, kubeconfig, workdir / "controller.log")


def _progress(sampler: cluster.Sampler, t0: float, w1: float, strategy: str, s: Scenario) -> None:
    next_log = 0.0
    while time.time() < w1:
        time.sleep(min(1.0, max(0.0, w1 - time.time())))
        if time.time() >= next_log and sampler.rec.samples:
            x = sampler.rec.samples[-1]
            logger.info(
                "[%s] T%+5.0fs nodes=%d ready=%d placeholders=%d/%d waiting=%d running=%d",
                strategy,
                (x.t - t0) / s.time_scale,
                x.nodes,
                x.ready,
                x.placeholders_ready,
                x.placeholders_desired,
                x.students_waiting,
                x.students_running,
            )
            next_log = time.time() + max(10.0, s.wall(30))
