"""Faults on the real test control plane, with figures.

Each test runs the real controller (``run``, interval 2 s) mid-event with a placeholder
Deployment at its target, injects one fault, removes it, and checks: the process never
crashes, the last good state is kept (no scale below it by the controller), the failure is
visible in /metrics and as an Event, and the controller recovers. It prints one row of the
table "Cluster faults" of docs/reliability/index.md (time to detect, time to recover, failed
rounds, replicas min/max from injection to recovery), from the controller's /metrics and a
watch on the Deployment.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.rest import ApiException

from testkit.cluster import event_messages, wait_for
from testkit.cluster_env import Env, cleanup_cluster_rbac, env, ical, now_utc, restricted_client
from testkit.controller import (
    ControllerProcess,
    ControlPlane,
    Figures,
    Probe,
    ReplicaWatch,
    kubeconfig_for,
)
from testkit.results import Recording, pytest_command, store_if_asked

pytestmark = pytest.mark.cluster
__all__ = ["env"]  # the fixture, shared with test_controller

INTERVAL = 2.0  # the controller's round interval in these tests (test_controller.Env.config)
FIGURES: list[Figures] = []
FAILED: list[str] = []  # the tests of this module that failed (their fault has no figures)


@pytest.fixture(autouse=True)
def note_failure(request: pytest.FixtureRequest) -> Iterator[None]:
    before = request.session.testsfailed
    yield  # the test's own report is counted before its fixtures are torn down
    if request.session.testsfailed > before:
        FAILED.append(request.node.name)


@pytest.fixture(scope="module", autouse=True)
def print_figures() -> Iterator[None]:
    """Print the table at the end; with NPS_RESULTS set, store it (cluster-faults.json, from
    which docs/reliability/index.md's table is rendered) with the tests that failed in the run
    (their faults have no figures then; the table names them)."""
    recording = Recording("cluster-faults", pytest_command("tests/cluster/test_faults.py"))
    yield
    if FIGURES:
        print("\n| fault | detect (s) | recover (s) | failed rounds | replicas min / max | |")
        for figures in FIGURES:
            print(figures.row())
        store_if_asked(
            recording, "cluster-faults", {"rows": [asdict(f) for f in FIGURES], "failed": FAILED}
        )


class Scene:
    """One test's controller, mid-event, with its Deployment at the target."""

    def __init__(self, env: Env, target: int = 2, kubeconfig: Path | None = None) -> None:
        self.env = env
        self.deployment = env.placeholders("user")
        self.set_target(target)
        self.config = env.config(
            {"user": ""},
            calendar=self.calendar.read_text(),
            extra="calendarRefreshInterval: 2s",
        )
        self.witness = ReplicaWatch(env.api, env.ns, self.deployment).start()
        self.kubeconfig = kubeconfig or env.cluster.kubeconfig
        self.controller = self.start("pod-1")
        try:
            wait_for(f"{target} placeholders", lambda: self.replicas() == target, timeout=60)
        except BaseException:  # no Scene to close: stop its controller here, or it outlives
            self.close()  # the test (and its cluster) as an orphaned process
            raise

    @property
    def calendar(self) -> Path:
        return self.env.tmp / "calendar.ics"

    def start(self, identity: str) -> ControllerProcess:
        return ControllerProcess(self.config, self.kubeconfig, identity, self.env.tmp).start()

    def set_target(self, users: int) -> None:
        now = now_utc()
        event = ("Exam", now - timedelta(minutes=5), now + timedelta(hours=1), f"user: {users}")
        self.calendar.write_text(ical([event]))

    def replicas(self) -> int | None:
        try:
            return self.env.replicas(self.deployment)
        except ApiException as error:
            if error.status == 404:
                return None
            raise

    def events(self, reason: str) -> list[str]:
        return event_messages(self.env.core, self.env.ns, reason)

    def close(self) -> None:
        self.controller.kill()
        self.witness.stop()

    def measure(
        self,
        fault: str,
        stage: str,
        inject: Callable[[], None],
        remove: Callable[[], None],
        *,
        expect: int,
        hold: Callable[[Probe, float], None] | None = None,
        note: str = "",
    ) -> Figures:
        """Inject, see the failure in /metrics, hold it, remove it, wait for a clean round at
        ``expect`` replicas; the figures."""
        probe = Probe(self.controller, stage)
        before = probe.errors()
        inject()  # returns when the fault is in force
        injected = time.monotonic()
        wait_for(f"{fault}: a failed round", lambda: probe.errors() > before, timeout=90)
        detected = time.monotonic()
        (hold or hold_rounds)(probe, before)
        removed = time.monotonic()
        remove()
        recovered = wait_for(f"{fault}: recovery", clean_round(self, probe, expect), timeout=120)
        seen = [v for v in self.witness.since(injected) if v is not None]
        figures = Figures(
            fault,
            detected - injected,
            recovered - removed,
            int(probe.errors() - before),
            (min(seen, default=None), max(seen, default=None)),
            note,
        )
        FIGURES.append(figures)
        print("\n" + figures.row())
        assert self.controller.alive(), self.controller.output()[-3000:]
        return figures


def hold_rounds(probe: Probe, before: float, rounds: int = 3) -> None:
    wait_for("three failed rounds", lambda: probe.errors() >= before + rounds, timeout=60)


def clean_round(scene: Scene, probe: Probe, expect: int) -> Callable[[], float | None]:
    """True-ish (the time) once the Deployment is at ``expect`` and a round ended without a new
    error."""
    mark: list[tuple[float, float]] = []

    def check() -> float | None:
        errors, rounds = probe.errors(), probe.rounds()
        leading = probe.process.sample("node_placeholder_leader") == 1  # not a standby round
        if scene.replicas() != expect or not leading:
            mark.clear()
            return None
        if not mark or mark[0][0] != errors:
            mark[:] = [(errors, rounds)]
            return None
        return time.monotonic() if rounds > mark[0][1] else None

    return check


@pytest.fixture
def scene(env: Env) -> Iterator[Scene]:
    s = Scene(env)
    try:
        yield s
    finally:
        s.close()


def test_controller_killed_mid_event_converges_after_restart(scene: Scene) -> None:
    scene.controller.kill()
    killed = time.monotonic()
    scene.set_target(3)  # the calendar moves on while no controller runs
    time.sleep(3 * INTERVAL)
    assert scene.replicas() == 2  # nothing scaled down while it was gone
    restarted = time.monotonic()
    # the same pod restarted (same identity): it renews its own Lease at once
    scene.controller = scene.start("pod-1")
    # the round of the first patch depends on the machine (the first feed fetch races the
    # first round): waited for with a generous bound and reported, not asserted
    rounds = wait_for(
        "the restarted controller's patch", lambda: round_of_first_patch(scene), timeout=180
    )
    converged = time.monotonic()
    assert scene.replicas() == 3
    figures = Figures(
        "controller killed (SIGKILL) mid-event, target raised while down, restarted",
        None,
        converged - restarted,
        0,
        (min(scene.witness.since(killed)), max(scene.witness.since(killed))),  # type: ignore[type-var]
        f"converged in round {int(rounds or 0)}, {converged - restarted:.1f}s after restart",
    )
    FIGURES.append(figures)
    print("\n" + figures.row())
    assert scene.witness.values() == [0, 2, 3]  # no scale-down blip


def round_of_first_patch(scene: Scene) -> float | None:
    """The round count in the first scrape that shows a scale patch (one scrape: both are
    updated at the end of the same round)."""
    metrics = scene.controller.metrics()
    up = metrics.get(
        (
            "node_placeholder_scale_patches_total",
            frozenset({("pool", "user"), ("direction", "up")}),
        ),
        0,
    )
    if not up:
        return None
    return metrics[("node_placeholder_reconcile_duration_seconds_count", frozenset())]


def test_someone_else_scaling_at_the_same_time(scene: Scene) -> None:
    """A rival writer (an operator's script, a misconfigured HPA) scales the same Deployment
    with read-modify-write updates of /scale while the controller runs: its stale updates get
    409s; the controller's merge patches have no precondition, so it never sees one; it
    restores its target each round and writes nothing else."""
    apps = client.AppsV1Api(scene.env.api)
    conflicts, stop, failures = [0], threading.Event(), list[BaseException]()

    def rival() -> None:
        value = 1
        while not stop.is_set():
            try:
                scale = apps.read_namespaced_deployment_scale(scene.deployment, scene.env.ns)
                scale.spec.replicas = value
                time.sleep(0.3)  # think time: the controller may write in between
                apps.replace_namespaced_deployment_scale(scene.deployment, scene.env.ns, scale)
            except ApiException as error:
                if error.status != 409:
                    failures.append(error)  # asserted below: the rival must not die silently
                    return
                conflicts[0] += 1
            value = 5 if value == 1 else 1
            stop.wait(0.2)

    thread = threading.Thread(target=rival, daemon=True)
    patches = Probe(scene.controller, "scale")
    before = patched(scene.controller)
    injected = time.monotonic()
    thread.start()
    time.sleep(8 * INTERVAL)
    stop.set()
    thread.join(timeout=10)
    removed = time.monotonic()
    recovered = wait_for("restored", clean_round(scene, patches, 2), timeout=60)
    seen = [v for v in scene.witness.since(injected) if v is not None]
    restores = patched(scene.controller) - before
    figures = Figures(
        "someone else scales the Deployment (read-modify-write every 0.5 s for 16 s)",
        None,
        recovered - removed,
        int(patches.errors()),
        (min(seen), max(seen)),
        f"{int(restores)} restoring patches; rival got {conflicts[0]} x 409, controller 0",
    )
    FIGURES.append(figures)
    print("\n" + figures.row())
    assert not failures and not thread.is_alive(), failures
    # each restoring patch lands in the rival's think time with a chance of about 0.6: a few
    # restores make at least one 409 all but certain
    assert conflicts[0] >= 1, f"the rival's stale updates got no 409 ({int(restores)} restores)"
    assert restores >= 1 and patches.errors() == 0
    mine = scene.events("PlaceholdersScaled")
    assert mine and all(" to 2 " in m for m in mine), mine  # it only ever wrote its target


def patched(process: ControllerProcess) -> float:
    return sum(
        process.sample("node_placeholder_scale_patches_total", pool="user", direction=d) or 0
        for d in ("up", "down")
    )


def test_placeholder_deployment_deleted_and_recreated(scene: Scene) -> None:
    apps = client.AppsV1Api(scene.env.api)

    def delete() -> None:
        apps.delete_namespaced_deployment(scene.deployment, scene.env.ns)

    def recreate() -> None:
        wait_for("deleted", lambda: scene.replicas() is None, timeout=30)
        scene.env.placeholders("user")  # as helm would, at 0

    scene.measure(
        "placeholder Deployment deleted, recreated at 0 replicas",
        "deployment",
        delete,
        recreate,
        expect=2,
        note="pool left alone while missing (404)",
    )
    failed = scene.events("ReconcileFailed")
    assert failed and "404" in failed[0], failed
    assert scene.events("ReconcileRecovered")


def test_admission_rejects_the_scale_patch(scene: Scene) -> None:
    """A ValidatingAdmissionPolicy caps the placeholders at 2; the calendar asks for 3."""
    admission = client.AdmissionregistrationV1Api(scene.env.api)
    name = f"nps-cap-{scene.env.ns}"

    def inject() -> None:
        admission.create_validating_admission_policy(cap_policy(name))
        admission.create_validating_admission_policy_binding(cap_binding(name, scene.env.ns))
        wait_for("the policy in force", lambda: denied(scene), timeout=60)
        scene.set_target(3)

    def remove() -> None:
        admission.delete_validating_admission_policy_binding(name)
        admission.delete_validating_admission_policy(name)

    try:
        figures = scene.measure(
            "admission (ValidatingAdmissionPolicy) rejects the scale patch",
            "scale",
            inject,
            remove,
            expect=3,
            note="kept at 2 while denied",
        )
    finally:
        for delete in (
            admission.delete_validating_admission_policy_binding,
            admission.delete_validating_admission_policy,
        ):
            with contextlib.suppress(ApiException):
                delete(name)
    assert figures.replicas == (2, 3)  # never below the last good state
    failed = scene.events("ReconcileFailed")
    assert failed and "capped at 2" in failed[0], failed
    assert scene.events("ReconcileRecovered")


def cap_policy(name: str) -> dict[str, object]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicy",
        "metadata": {"name": name},
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [
                    {
                        "apiGroups": ["apps"],
                        "apiVersions": ["v1"],
                        "operations": ["UPDATE"],
                        "resources": ["deployments/scale"],
                    }
                ]
            },
            "validations": [
                {
                    "expression": "object.spec.replicas <= 2",
                    "message": "placeholders are capped at 2 during the freeze",
                }
            ],
        },
    }


def cap_binding(name: str, namespace: str) -> dict[str, object]:
    return {
        "apiVersion": "admissionregistration.k8s.io/v1",
        "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": {"name": name},
        "spec": {
            "policyName": name,
            "validationActions": ["Deny"],
            "matchResources": {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
            },
        },
    }


def denied(scene: Scene) -> bool:
    """A server-side dry run of a scale to 3 is rejected."""
    apps = client.AppsV1Api(scene.env.api)
    try:
        apps.patch_namespaced_deployment_scale(
            scene.deployment, scene.env.ns, {"spec": {"replicas": 3}}, dry_run="All"
        )
    except ApiException as error:
        return error.status in (403, 422)
    return False


def test_node_read_failure_with_the_charts_rbac(env: Env) -> None:
    """The controller runs with the chart's least-privilege RBAC (test_controller's
    restricted_client); ``list nodes`` is taken away mid-event and given back."""
    rbac = client.RbacAuthorizationV1Api(env.api)
    api = restricted_client(env, allowed=["placeholder-user"])
    scene = None
    try:
        kubeconfig = kubeconfig_for(api, env.tmp / "scaler.kubeconfig")
        scene = Scene(env, kubeconfig=kubeconfig)
        role = f"nps-{env.ns}"
        nodes_rule = {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "watch"]}
        pods_rule = {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}
        full = rbac.read_cluster_role(role).rules

        def inject() -> None:
            rbac.patch_cluster_role(role, {"rules": [nodes_rule, pods_rule]})
            wait_for("list nodes forbidden", lambda: forbidden(api), timeout=30)
            scene.set_target(3)  # a change the controller must read nodes for

        def remove() -> None:
            rules = [env.api.sanitize_for_serialization(r) for r in full]
            rbac.patch_cluster_role(role, {"rules": rules})

        figures = scene.measure(
            "node read fails (list nodes removed from the chart's RBAC), given back",
            "nodes",
            inject,
            remove,
            expect=3,
            note="403; replicas left as they were",
        )
        assert figures.replicas[0] == 2
        failed = scene.events("ReconcileFailed")
        assert failed and "403" in failed[0], failed
        assert scene.events("ReconcileRecovered")
    finally:
        if scene is not None:
            scene.close()
        cleanup_cluster_rbac(env)
        api.close()


def forbidden(api: client.ApiClient) -> bool:
    try:
        client.CoreV1Api(api).list_node(limit=1)
    except ApiException as error:
        return bool(error.status == 403)
    return False


API_DOWN_SECONDS = 120.0


def test_apiserver_stopped_for_two_minutes_and_restarted(scene: Scene) -> None:
    """kube-apiserver stopped (SIGTERM) for two minutes mid-event, then started again with the
    same command line. The controller keeps running and its liveness probe holds; as leader it
    stops writing 10 s in (renew deadline) and leads again once the API is back."""
    cluster = scene.env.cluster
    plane = ControlPlane(cluster.kubeconfig)
    plane.remember()
    stopped: list[float] = []
    during: dict[str, object] = {}

    def inject() -> None:
        plane.stop("kube-apiserver", hold_port=True)  # graceful: returns when it has exited
        stopped.append(time.monotonic())

    def hold(probe: Probe, before: float) -> None:
        wait_for(
            "the leader steps down",
            lambda: scene.controller.sample("node_placeholder_leader") == 0,
            timeout=60,
        )
        during["stepped_down_s"] = time.monotonic() - stopped[0]
        time.sleep(max(0.0, stopped[0] + API_DOWN_SECONDS - time.monotonic()))
        during["healthz"] = scene.controller.get("/healthz")[0]
        during["api_up"] = scene.controller.sample("node_placeholder_api_up")

    def restart() -> None:
        plane.start("kube-apiserver")
        wait_for("the API server back", lambda: answers(scene.env.api), timeout=120)
        during["restarted"] = plane.restart_dead()

    figures = scene.measure(
        "kube-apiserver stopped for 120 s, restarted",
        "deployment",
        inject,
        restart,
        expect=2,
        hold=hold,
        note="",
    )
    FIGURES[-1].note = (
        f"leader stepped down after {during['stepped_down_s']:.0f} s (no writes without the "
        f"API); /healthz {during['healthz']} throughout; restarted with it: "
        f"{', '.join(during['restarted']) or 'nothing else'}"  # type: ignore[arg-type]
    )
    print(FIGURES[-1].row())
    election = [ln for ln in scene.controller.output().splitlines() if "lease" in ln.lower()]
    print("\n".join(election[-12:]))
    assert during["healthz"] == 200 and during["api_up"] == 0
    assert figures.replicas == (2, 2)  # nothing lost, nothing added
    recovered = scene.events("ReconcileRecovered")
    assert recovered and "no answer" in recovered[0], recovered


def answers(api: client.ApiClient) -> bool:
    try:
        client.VersionApi(api).get_code(_request_timeout=5)
    except Exception:  # connection refused while it starts
        return False
    return True
