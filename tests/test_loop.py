"""loop.py and server.py: rounds against the fake cluster, probes over real HTTP, stopping."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from datetime import timedelta

from prometheus_client import CollectorRegistry

from node_placeholder_scaler.loop import Controller, loop
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.server import Health, Server
from testkit.fakes import GI, T0, FakeCluster, FakeDeployment
from testkit.planners import StaticPlanner
from testkit.unit import LOOP_SETTINGS

SETTINGS = LOOP_SETTINGS


def faulty(*, ok: bool = True, fail_feeds: bool = False, fail_plan: bool = False) -> StaticPlanner:
    """Two placeholders for pool user, from feed "c", with the given faults."""
    result = StaticPlanner(user=2, feed="c")
    result.ok, result.fail_feeds, result.fail_plan = ok, fail_feeds, fail_plan
    return result


def controller(planner=None, dry_run=False):
    """A Controller on the fake cluster, which is also its API probe (as kube.Kube is)."""
    fake = FakeCluster(
        namespace="np",
        deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))},
    )
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["c"])
    health = Health(SETTINGS.interval, T0)
    return Controller(
        SETTINGS,
        fake,
        fake,
        planner or StaticPlanner(user=2, feed="c"),
        metrics,
        health,
        "np",
        dry_run,
        clock=lambda: T0,
    ), fake


def sample(ctl: Controller, name: str, **labels: str) -> float | None:
    return ctl.metrics.registry.get_sample_value(name, labels)


def test_round_reconciles_and_counts_the_api_requests_it_made():
    ctl, fake = controller()
    result = ctl.round()
    assert result is not None and fake.scales == [("placeholder-user", 2)]
    assert ctl.health.last_round == T0 and ctl.health.ready(T0)[0]
    assert sample(ctl, "node_placeholder_desired_replicas", pool="user") == 2
    # kube.Kube's requests (tests/cluster/test_contract.py makes the same round on the real
    # adapter): the Deployment and its pods, the nodes (none here), the scale, the Event
    assert [request for request, _ in fake.calls] == [
        "get deployment",
        "list placeholder pods",
        "list nodes",
        "scale deployment",
        "create event",
    ]
    assert sample(ctl, "node_placeholder_api_requests_total") == 5
    assert sample(ctl, "node_placeholder_api_response_bytes_total") == 500
    assert sample(ctl, "node_placeholder_api_up") == 1
    ctl.round()  # unchanged now: it reads the Deployment and the nodes, nothing else
    assert [request for request, _ in fake.calls[5:]] == [
        "get deployment",
        "list placeholder pods",
        "list nodes",
    ]
    assert sample(ctl, "node_placeholder_api_requests_total") == 8


def test_round_survives_a_failing_feed_layer():
    ctl, fake = controller(faulty(fail_feeds=True))
    assert ctl.round() is not None
    assert fake.scales == [("placeholder-user", 2)]
    assert sample(ctl, "node_placeholder_errors_total", stage="feeds", pool="") == 1
    assert sample(ctl, "node_placeholder_feed_up", calendar="c") is None  # not seen yet
    ctl.planner.fail_feeds = False
    assert ctl.round() is not None
    assert sample(ctl, "node_placeholder_feed_up", calendar="c") == 1


def test_feed_and_api_outages_stay_out_of_readiness():
    """A calendar server or the API down shows in the metrics, not in /readyz: the pod stays
    ready while rounds complete (a rollout must not fail on someone else's outage)."""
    ctl, fake = controller(faulty(ok=False))
    fake.fail("get deployment", "placeholder-user", None, "connection refused")
    fake.fail("version", "", None, "connection refused")
    result = ctl.round()
    assert result is not None and result.pools[0].stage == "deployment"
    assert [request for request, _ in fake.calls] == ["get deployment", "version"]
    assert ctl.health.ready(T0) == (True, "ok: last round 0s ago")
    assert ctl.health.healthy(T0)[0]
    assert sample(ctl, "node_placeholder_api_up") == 0
    assert sample(ctl, "node_placeholder_feed_up", calendar="c") == 0
    assert sample(ctl, "node_placeholder_errors_total", stage="deployment", pool="user") == 1


def test_a_round_that_fails_is_not_a_completed_round():
    ctl, _ = controller(faulty(fail_plan=True))
    assert ctl.round() is None
    assert ctl.health.ready(T0) == (False, "not ready: started, no round completed yet")
    assert sample(ctl, "node_placeholder_errors_total", stage="round", pool="") == 1


def test_once_makes_one_round_and_stop_ends_the_loop():
    ctl, _ = controller()
    planner = ctl.planner
    assert loop(ctl, threading.Event(), once=True) is not None
    assert len(planner.planned) == 1
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(ctl, stop), kwargs={"once": False})
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_health_windows():
    health = Health(timedelta(seconds=30), T0)
    assert health.healthy(T0 + timedelta(seconds=60))[0]
    assert not health.healthy(T0 + timedelta(seconds=91))[0]
    assert not health.ready(T0 + timedelta(seconds=60))[0]  # started, no round yet
    health.round_done(T0 + timedelta(seconds=80))
    assert health.healthy(T0 + timedelta(seconds=160))[0]
    assert health.ready(T0 + timedelta(seconds=170)) == (True, "ok: last round 90s ago")
    assert health.ready(T0 + timedelta(seconds=171)) == (False, "not ready: last round 91s ago")


def get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_server_serves_metrics_and_probes():
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["c"])
    health = Health(timedelta(seconds=30), T0)
    now = [T0]
    server = Server(0, metrics.registry, health, lambda: now[0], host="127.0.0.1").start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        status, body = get(f"{base}/metrics")
        assert status == 200 and "node_placeholder_scale_patches_total" in body
        assert get(f"{base}/healthz") == (200, "started, no round yet, 0s ago\n")
        assert get(f"{base}/readyz") == (503, "not ready: started, no round completed yet\n")
        health.round_done(T0)
        assert get(f"{base}/readyz") == (200, "ok: last round 0s ago\n")
        now[0] = T0 + timedelta(seconds=91)  # rounds stopped completing
        assert get(f"{base}/readyz") == (503, "not ready: last round 91s ago\n")
        assert get(f"{base}/healthz") == (503, "last round 91s ago\n")
        assert get(f"{base}/nope")[0] == 404
    finally:
        server.stop()
    assert not server.thread.is_alive()
