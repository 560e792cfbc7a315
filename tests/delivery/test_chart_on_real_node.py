"""The chart installed as a user installs it, the controller running as its pod on a real node.

The image is built from the Dockerfile (scripts/image) and loaded into the real node's
containerd; `helm install` gets values as a user writes them: the image, a calendar feed URL
(the chart keeps it in its Secret and mounts it as a file the controller re-reads), a pool on the
autoscaled kwok nodes, and a nodeSelector/toleration that put the controller on the real node.
The pod runs with the chart's own security settings (read-only root, UID 10001, no
capabilities, RuntimeDefault seccomp), its ServiceAccount's token and in-cluster configuration
through kube-proxy. The tests run in file order on one release.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, watch

from testkit.cluster import (
    TestCluster,
    create_namespace,
    delete_namespace,
    event_messages,
    wait_for,
)
from testkit.delivery import (
    FULLNAME,
    PLACEHOLDERS,
    RELEASE,
    SELECTOR,
    CalendarServer,
    Prometheus,
    service_monitor_scrape_config,
)
from testkit.helm import CHART, one, render, run_helm
from testkit.ics import Event, calendar
from testkit.manifests import pod_manifest

pytestmark = [pytest.mark.delivery, pytest.mark.cluster, pytest.mark.helm]

PLACEHOLDER_SELECTOR = "app.kubernetes.io/component=placeholder"
DASHBOARD = CHART / "files" / "dashboard.json"
# The last event's report: data once an event has ended and settled (the event-report test).
REPORT_METRICS = ("user_wait_seconds", "capacity_ready_in_time", "recommended_nodes")
POOL = {"hub.jupyter.org/pool-name": "user-pool"}


@dataclass
class Release:
    cluster: TestCluster
    api: client.ApiClient
    namespace: str
    values_file: Path
    values: dict[str, Any]
    prometheus: Prometheus
    replicas_seen: list[tuple[float, int]] = field(default_factory=list)

    def helm(self, *args: str) -> str:
        return run_helm(
            [*args, "--namespace", self.namespace],
            env={"KUBECONFIG": str(self.cluster.kubeconfig)},
            timeout=600,
        )

    def write_values(self) -> None:
        self.values_file.write_text(yaml.safe_dump(self.values, sort_keys=False))

    def upgrade(self) -> tuple[client.V1Pod, client.V1Pod]:
        """`helm upgrade` with ``values`` as they are now: (the old pod, the rolled Ready one)."""
        old = wait_for("a Ready controller pod", self.ready_pod, timeout=60, interval=2)
        self.write_values()
        self.helm("upgrade", RELEASE, str(CHART), "-f", str(self.values_file))

        def rolled() -> client.V1Pod | None:
            pod = self.ready_pod()
            return pod if pod and pod.metadata.uid != old.metadata.uid else None

        return old, wait_for(
            "the controller rolled after the upgrade", rolled, timeout=240, interval=2
        )

    def kubectl(self, *args: str, timeout: float = 120) -> str:
        proc = subprocess.run(
            ["kubectl", "--namespace", self.namespace, *args],
            capture_output=True,
            text=True,
            env=self.cluster.env(),
            timeout=timeout,
            check=False,
        )
        assert proc.returncode == 0, f"kubectl {' '.join(args)}: {proc.stderr}"
        return proc.stdout

    def controller_pods(self) -> list[client.V1Pod]:
        core = client.CoreV1Api(self.api)
        pods = core.list_namespaced_pod(self.namespace, label_selector=SELECTOR).items
        return [p for p in pods if p.metadata.deletion_timestamp is None]

    def running_placeholders(self) -> list[client.V1Pod]:
        core = client.CoreV1Api(self.api)
        pods = core.list_namespaced_pod(self.namespace, label_selector=PLACEHOLDER_SELECTOR).items
        return [
            p for p in pods if p.status.phase == "Running" and p.metadata.deletion_timestamp is None
        ]

    def ready_pod(self) -> client.V1Pod | None:
        for pod in self.controller_pods():
            conditions = {c.type: c.status for c in pod.status.conditions or []}
            if conditions.get("Ready") == "True":
                return pod
        return None

    def replicas(self) -> int:
        scale = client.AppsV1Api(self.api).read_namespaced_deployment_scale(
            PLACEHOLDERS, self.namespace
        )
        return int(scale.spec.replicas or 0)


def user_values(tag: str, feed_url: str, cluster: TestCluster) -> dict[str, Any]:
    """What a user writes: image, calendar, pool, where the controller runs."""
    repository, _, version = tag.rpartition(":")
    label = cluster.params["REAL_NODE_LABEL"]
    return {
        "image": {"repository": repository, "tag": version},
        "calendars": [
            {"name": "courses", "url": feed_url},
            # A feed that fails (404): the others go on; its gauges say so.
            {"name": "exams", "url": feed_url.rsplit("/", 1)[0] + "/gone.ics", "pools": ["user"]},
        ],
        "pools": {
            "user": {
                "nodeSelector": POOL,
                "maxReplicas": 4,
                "resources": {"requests": {"cpu": "3500m", "memory": "13Gi"}},
            }
        },
        "config": {"interval": "10s", "leadTime": "15m"},
        "controller": {
            # One replica: these tests follow the one pod (two, with the Lease: tests/cluster).
            "replicaCount": 1,
            "nodeSelector": {label: "true"},
            "tolerations": [{"key": label, "operator": "Exists", "effect": "NoSchedule"}],
        },
    }


def event_feed(uid: str, users: int) -> bytes:
    """One event starting in 10 minutes (inside the 15 minute lead time), lasting an hour; and
    a lab in two days whose only line is a typo (an upcoming problem, no request)."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=10)
    lab = start + timedelta(days=2)
    return calendar(
        [
            Event(uid, start, start + timedelta(hours=1), f"user: {users}", uid),
            Event("typo-lab", lab, lab + timedelta(hours=1), "usr: 1", f"{uid}-typo"),
        ]
    )


def watch_replicas(rel: Release, stop: threading.Event) -> threading.Thread:
    """Record every spec.replicas of the placeholder Deployment the API reports."""

    def run() -> None:
        apps = client.AppsV1Api(rel.api)
        while not stop.is_set():
            w = watch.Watch()
            for ev in w.stream(
                apps.list_namespaced_deployment,
                rel.namespace,
                field_selector=f"metadata.name={PLACEHOLDERS}",
                timeout_seconds=5,
            ):
                rel.replicas_seen.append((time.monotonic(), int(ev["object"].spec.replicas or 0)))
                if stop.is_set():
                    w.stop()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread


def _release(
    node_cluster: TestCluster,
    node_image: str,
    calendars: CalendarServer,
    tmp_path_factory: pytest.TempPathFactory,
    api: client.ApiClient,
    namespace: str,
) -> Iterator[Release]:
    url = calendars.put("/courses.ics", event_feed("lecture-1", 2))
    values = user_values(node_image, url, node_cluster)
    # Prometheus first, so that it sees the controller from its start: it scrapes what the
    # chart's ServiceMonitor selects (rendered from the same values).
    monitor = one(
        render(
            {**values, "serviceMonitor": {"enabled": True}}, release=RELEASE, namespace=namespace
        ),
        "ServiceMonitor",
    )
    workdir = tmp_path_factory.mktemp("prometheus")
    assert node_cluster.bin_dir is not None
    scrape = service_monitor_scrape_config(
        monitor, node_cluster.kubeconfig, f"serviceMonitor/{namespace}/{FULLNAME}/0"
    )
    prometheus = Prometheus(node_cluster.bin_dir / "prometheus", workdir, [scrape])
    rel = Release(node_cluster, api, namespace, workdir / "values.yaml", values, prometheus)
    rel.write_values()
    try:
        rel.helm("install", RELEASE, str(CHART), "-f", str(rel.values_file))
        yield rel
    finally:
        prometheus.close()
        with contextlib.suppress(Exception):  # already uninstalled by the last test
            rel.helm("uninstall", RELEASE, "--wait")


@pytest.fixture(scope="module")
def release(
    node_cluster: TestCluster,
    node_image: str,
    calendars: CalendarServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Release]:
    api = node_cluster.api_client()
    ns = create_namespace(api, "nps-delivery")
    try:
        yield from _release(node_cluster, node_image, calendars, tmp_path_factory, api, ns.name)
    finally:
        delete_namespace(ns)
        api.close()


def reaches(prom: Prometheus, expr: str, value: float) -> Callable[[], bool]:
    """A probe: Prometheus answers ``expr`` with ``value``."""
    return lambda: prom.value(expr) == value


def test_controller_pod_is_ready_on_the_real_node_with_the_charts_settings(
    release: Release,
) -> None:
    pod = wait_for("a Ready controller pod", release.ready_pod, timeout=240, interval=2)
    assert pod.spec.node_name == release.cluster.params["REAL_NODE"]
    status = pod.status.container_statuses[0]
    assert status.container_id.startswith("containerd://")  # a real container, not kwok's
    assert status.ready and status.restart_count == 0
    assert pod.spec.service_account_name == FULLNAME
    # The chart's settings reached the container: non-root, read-only root, no capabilities.
    ident = release.kubectl("exec", pod.metadata.name, "--", "id", "-u").split()
    assert ident == ["10001"]
    proc = subprocess.run(
        [
            "kubectl",
            "--namespace",
            release.namespace,
            "exec",
            pod.metadata.name,
            "--",
            "touch",
            "/opt/x",
        ],
        capture_output=True,
        text=True,
        env=release.cluster.env(),
        timeout=60,
        check=False,
    )
    assert proc.returncode != 0 and "Read-only file system" in proc.stderr
    caps = release.kubectl("exec", pod.metadata.name, "--", "grep", "^CapEff", "/proc/1/status")
    assert caps.split()[-1] == "0000000000000000"


def test_probes_pass_as_the_kubelet_runs_them(release: Release) -> None:
    """The kubelet's own probe counters for this container: successes, no failures."""
    pod = wait_for("a Ready controller pod", release.ready_pod, timeout=120, interval=2)
    node = release.cluster.params["REAL_NODE"]

    def counts() -> dict[tuple[str, str], float] | None:
        text = release.kubectl("get", "--raw", f"/api/v1/nodes/{node}/proxy/metrics/probes")
        found: dict[tuple[str, str], float] = {}
        for line in text.splitlines():
            if line.startswith("prober_probe_total{") and f'pod="{pod.metadata.name}"' in line:
                labels = dict(
                    part.split("=", 1)
                    for part in line[line.index("{") + 1 : line.index("}")]
                    .replace('"', "")
                    .split(",")
                )
                found[(labels["probe_type"], labels["result"])] = float(line.split()[-1])
        ok = found.get(("Liveness", "successful"), 0) > 0
        return found if ok and found.get(("Readiness", "successful"), 0) > 0 else None

    # Liveness starts after 10 s and runs every 20 s; readiness every 10 s. Readiness may fail
    # before the first round is complete (that is what it is for); once Ready, it must not.
    first = wait_for("successful liveness and readiness probes", counts, timeout=90, interval=5)
    began = time.monotonic()

    def more_probes() -> dict[tuple[str, str], float] | None:
        now = counts()
        live = now and now[("Liveness", "successful")] > first[("Liveness", "successful")]
        ready = now and now[("Readiness", "successful")] >= first[("Readiness", "successful")] + 3
        return now if live and ready else None

    # One more liveness and three more readiness successes: about 30 s at the probes' periods;
    # a busy node may run them late, so the bound is generous and the time is reported.
    later = wait_for(
        "another liveness and 3 more readiness successes", more_probes, timeout=240, interval=5
    )
    print(
        f"probes: 1 liveness and 3 readiness successes more in "
        f"{time.monotonic() - began:.0f} s: {later}"
    )
    assert later.get(("Liveness", "failed"), 0) == 0
    assert later.get(("Readiness", "failed"), 0) == first.get(("Readiness", "failed"), 0)


def test_scales_the_kwok_pool_ahead_of_the_event(release: Release) -> None:
    wait_for("placeholders scaled to 2", lambda: release.replicas() == 2, timeout=120)
    core = client.CoreV1Api(release.api)
    events = core.list_namespaced_event(
        release.namespace, field_selector=f"involvedObject.name={PLACEHOLDERS}"
    ).items
    scaled = [e for e in events if e.reason == "PlaceholdersScaled"]
    assert scaled and scaled[0].involved_object.kind == "Deployment"
    assert re.fullmatch(
        r"Scaled placeholders of pool user from 0 to 2 \(calendar target 2, free "
        r"node-equivalents (\d+|-)\) for: lecture-1 \(courses/lecture-1@\d{4}-\d\d-\d\dT"
        r"\d\d:\d\dZ\)",
        scaled[0].message,
    ), scaled[0].message
    pod = release.ready_pod()
    assert pod is not None
    logs = release.kubectl("logs", pod.metadata.name)
    decision = [ln for ln in logs.splitlines() if "pool=user" in ln and "action=scaled" in ln]
    assert decision, logs[-3000:]
    assert "target=2" in decision[0] and "desired=2" in decision[0]
    assert release.values["calendars"][0]["url"] not in logs  # the feed URL is a secret

    # The placeholders land on nodes the autoscaler adds to the kwok pool.
    def placeholders_running() -> bool:
        running = release.running_placeholders()
        return len(running) == 2 and all(
            p.spec.node_name != release.cluster.params["REAL_NODE"] for p in running
        )

    wait_for(
        "2 placeholders running on new kwok nodes", placeholders_running, timeout=240, interval=3
    )


def test_prometheus_scrapes_the_controller_through_the_charts_service(release: Release) -> None:
    prom = release.prometheus
    sel = f'job="{FULLNAME}", namespace="{release.namespace}"'

    def target_up() -> list[dict[str, Any]] | None:
        targets = prom.api("targets", state="active")["activeTargets"]
        ours = [t for t in targets if t["labels"].get("job") == FULLNAME]
        return ours if ours and all(t["health"] == "up" for t in ours) else None

    targets = wait_for("the controller's target up", target_up, timeout=120, interval=3)
    pod = release.ready_pod()
    assert pod is not None
    assert [t["labels"]["pod"] for t in targets] == [pod.metadata.name]
    assert targets[0]["scrapeUrl"].startswith(f"http://{pod.status.pod_ip}:")
    for metric in ("calendar_target", "desired_replicas", "current_replicas"):
        expr = f'node_placeholder_{metric}{{{sel}, pool="user"}}'
        wait_for(f"{metric} = 2", reaches(prom, expr, 2), timeout=90, interval=3)
    assert prom.value(f'node_placeholder_feed_up{{{sel}, calendar="courses"}}') == 1
    typo = f'node_placeholder_upcoming_problems{{{sel}, calendar="courses", kind="unknown-pool"}}'
    wait_for("the upcoming typo counted", lambda: prom.value(typo) == 1, timeout=90, interval=3)
    assert (
        prom.value(
            f'node_placeholder_upcoming_problems{{{sel}, calendar="courses", kind="near-miss"}}'
        )
        == 0
    )
    assert prom.value(f'node_placeholder_feed_up{{{sel}, calendar="exams"}}') == 0


def test_survives_kubectl_delete_pod_without_a_scale_down_blip(release: Release) -> None:
    old = wait_for("a Ready controller pod", release.ready_pod, timeout=60, interval=2)
    assert release.replicas() == 2
    stop = threading.Event()
    thread = watch_replicas(release, stop)
    try:
        time.sleep(2)
        release.kubectl("delete", "pod", old.metadata.name, "--wait=false")

        def new_pod_ready() -> client.V1Pod | None:
            pod = release.ready_pod()
            return pod if pod and pod.metadata.uid != old.metadata.uid else None

        new = wait_for("the new controller pod Ready", new_pod_ready, timeout=240, interval=2)
        # A few reconcile rounds of the new pod (interval 10 s).
        time.sleep(30)
    finally:
        stop.set()
        thread.join(timeout=15)
    seen = [r for _, r in release.replicas_seen]
    assert seen, "the watch saw nothing"
    assert set(seen) == {2}, f"replicas seen while the controller was replaced: {seen}"
    # The new pod found the placeholders as it wanted them: it patched nothing.
    logs = release.kubectl("logs", new.metadata.name)
    assert "starting" in logs and "action=scaled" not in logs, logs[-3000:]


def test_helm_upgrade_with_a_changed_calendar_rolls_the_controller(
    release: Release, calendars: CalendarServer
) -> None:
    release.values["calendars"][0]["url"] = calendars.put(
        "/courses-v2.ics", event_feed("lecture-2", 3)
    )
    old, new = release.upgrade()
    assert new.metadata.labels["pod-template-hash"] != old.metadata.labels["pod-template-hash"]
    wait_for("placeholders scaled to 3", lambda: release.replicas() == 3, timeout=120)
    logs = release.kubectl("logs", new.metadata.name)
    assert "lecture-2" in logs


def test_prometheus_shows_the_target_following_the_calendar(release: Release) -> None:
    prom = release.prometheus
    sel = f'job="{FULLNAME}", namespace="{release.namespace}", pool="user"'
    for metric in ("calendar_target", "desired_replicas", "current_replicas"):
        expr = f"max(node_placeholder_{metric}{{{sel}}})"
        wait_for(f"{metric} = 3", reaches(prom, expr, 3), timeout=90, interval=3)
        # Over the whole test: 2 for the first event, then 3 after the upgrade.
        span = prom.api(
            "query_range", query=expr, start=str(time.time() - 900), end=str(time.time()), step="5"
        )["result"]
        seen = [float(v) for _, v in span[0]["values"]]
        assert seen[-1] == 3 and 2 in seen[: seen.index(3)], seen


def dashboard_queries() -> list[tuple[str, str]]:
    """(panel title, expr) of every query of the shipped dashboard, rows included."""

    def panels(items: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        for p in items:
            yield p
            yield from panels(p.get("panels", []))

    board = json.loads(DASHBOARD.read_text())
    return [
        (p.get("title", ""), t["expr"])
        for p in panels(board["panels"])
        for t in p.get("targets", [])
        if t.get("expr")
    ]


def lab_feed(starts_in: timedelta) -> tuple[datetime, datetime, bytes]:
    """A 90 s lab for 3 users, ``starts_in`` from now: its start, end and feed."""
    start = datetime.now(UTC).replace(microsecond=0) + starts_in
    end = start + timedelta(seconds=90)
    return start, end, calendar([Event("lab-1", start, end, "user: 3", "lab-1")])


def test_an_event_that_ended_is_reported_on_the_deployment_and_in_prometheus(
    release: Release, calendars: CalendarServer
) -> None:
    """A short lab: the operator shortens the settle time (helm upgrade), 12 students arrive at
    its start on the warm kwok nodes and preempt the placeholders, the autoscaler adds the next
    nodes; after the end + settle time the pod reports it: an EventReport Event on the
    placeholder Deployment, the report ConfigMap (`report` in the pod prints it) and the
    report metrics, which Prometheus scrapes."""
    # The lab is first planned in 10 minutes (inside the lead time: the 3 placeholders stay);
    # once the controller has rolled, the teacher moves it to 75 s from now.
    url = calendars.put("/courses-v3.ics", lab_feed(timedelta(minutes=10))[2])
    release.values["calendars"][0]["url"] = url
    release.values["config"]["reports"] = {"settleTime": "30s"}
    release.values["config"]["calendarRefreshInterval"] = "15s"
    began = time.monotonic()
    _, pod = release.upgrade()  # waits for the roll (up to 240 s)
    print(f"the controller rolled in {time.monotonic() - began:.0f} s")
    wait_for(
        "3 placeholders running", lambda: len(release.running_placeholders()) == 3, timeout=120
    )
    feed = calendars.feed(url)
    start, end, moved = lab_feed(timedelta(seconds=75))
    feed.publish(moved)
    published, fetches = time.monotonic(), len(feed.requests)
    # The controller fetches the moved lab within calendarRefreshInterval (15 s) of the
    # publish; the bound is what is left before the start but 15 s.
    wait_for(
        "the controller fetching the moved lab",
        lambda: len(feed.requests) > fetches,
        timeout=(start - datetime.now(UTC)).total_seconds() - 15,
        interval=1,
    )
    print(
        f"the controller fetched the moved lab {time.monotonic() - published:.0f} s after "
        f"it was published"
    )
    assert len(release.running_placeholders()) == 3
    core = client.CoreV1Api(release.api)
    wait_for("the lab's start", lambda: datetime.now(UTC) >= start, timeout=120)
    students = [f"student-{i}" for i in range(12)]
    try:
        for name in students:  # 4 fit on a 4-CPU node once its placeholder is preempted
            core.create_namespaced_pod(
                release.namespace, pod_manifest(name, cpu="900m", memory="2Gi", node_selector=POOL)
            )
        report = wait_for(
            "the EventReport Event",
            lambda: event_messages(core, release.namespace, "EventReport", PLACEHOLDERS),
            timeout=(end - datetime.now(UTC)).total_seconds() + 150,
            interval=5,
        )
        [message] = report
        print(f"EventReport: {message}")  # the figures, with -s
        assert "lab-1" in message and "12 arrivals" in message, message
        assert "capacity ready in time: yes (3/3 warm at start)" in message, message
        assert "next time ask for user: " in message, message
        logs = release.kubectl("logs", pod.metadata.name)
        assert "lab-1" in logs and release.values["calendars"][0]["url"] not in logs
        printed = json.loads(
            release.kubectl(
                "exec",
                pod.metadata.name,
                "--",
                "node-placeholder-scaler",
                "report",
                "--config",
                "/etc/node-placeholder-scaler/config.yaml",
                "--output",
                "json",
            )
        )
        [stored] = printed["reports"]
        assert stored["title"] == "lab-1" and stored["arrivals"] == 12, stored
        assert stored["preempted"] >= 3 and stored["nodes_added"] >= 1, stored
        nodes = stored["advice"]["nodes"]
        assert isinstance(nodes, int) and nodes >= 1, stored

        prom = release.prometheus
        sel = f'job="{FULLNAME}", namespace="{release.namespace}", pool="user"'
        wait_for(
            "the report's metrics scraped",
            lambda: prom.value(f"node_placeholder_recommended_nodes{{{sel}}}") == nodes,
            timeout=60,
            interval=3,
        )
        assert prom.value(f"node_placeholder_capacity_ready_in_time{{{sel}}}") == 1
        assert prom.value(f"node_placeholder_user_wait_seconds_count{{{sel}}}") == 12
    finally:
        for name in students:
            with contextlib.suppress(client.ApiException):
                core.delete_namespaced_pod(name, release.namespace, grace_period_seconds=0)


def test_every_dashboard_query_returns_data(release: Release) -> None:
    """After an event and its report: every panel of the shipped dashboard has data, the
    report panels numbers (a histogram of zeros would give NaN)."""
    queries = dashboard_queries()
    variables = [v["name"] for v in json.loads(DASHBOARD.read_text())["templating"]["list"]]
    assert set(variables) <= {"datasource", "job", "pool"}, variables
    assert len(queries) >= 10
    empty = []
    for title, expr in queries:
        concrete = expr.replace("$job", FULLNAME).replace("$pool", "user")
        assert "$" not in concrete, concrete
        result = release.prometheus.query(concrete)
        values = [float(r["value"][1]) for r in result]
        if not values or (
            any(m in concrete for m in REPORT_METRICS) and not all(math.isfinite(v) for v in values)
        ):
            empty.append(f"{title}: {concrete} -> {values}")
    assert empty == [], "dashboard queries without data:\n" + "\n".join(empty)


def test_helm_uninstall_leaves_nothing_behind(release: Release) -> None:
    release.helm("uninstall", RELEASE, "--wait")
    kinds = ",".join(release.kubectl("api-resources", "--verbs=list", "-o", "name").split())

    def leftovers() -> list[str]:
        items = json.loads(
            release.kubectl(
                "get",
                kinds,
                "--all-namespaces",
                "-o",
                "json",
                "-l",
                f"app.kubernetes.io/instance={RELEASE}",
            )
        )["items"]
        items += (
            client.CoreV1Api(release.api).list_namespaced_pod(release.namespace).to_dict()["items"]
        )
        return [f"{o['kind']}/{o['metadata']['name']}" for o in items if o.get("kind")] + [
            f"Pod/{o['metadata']['name']}" for o in items if not o.get("kind")
        ]

    # Pods end after their grace period; then nothing of the release is left.
    left: list[str] = []

    def nothing_left() -> bool:
        left[:] = leftovers()
        return not left

    deadline = time.monotonic() + 180
    while not nothing_left() and time.monotonic() < deadline:
        time.sleep(3)
    assert left == [], f"left behind by helm uninstall: {left}"
