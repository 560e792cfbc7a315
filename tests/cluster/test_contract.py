"""The cluster port's contract: the same tests on the in-memory fake (testkit/fakes.py, in the
fast suite) and on kube.Kube against the test cluster (marked ``cluster``), every real request
counted on the wire by a proxy that also injects a 500 or a body that is not JSON; 403s come
from an RBAC-limited ServiceAccount, 404s from missing objects.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.kube import Kube
from node_placeholder_scaler.model import Plan, PoolTarget
from node_placeholder_scaler.observed import ClusterError
from node_placeholder_scaler.port import ApiProbe, Cluster, Notice
from node_placeholder_scaler.reconcile import reconcile_once
from node_placeholder_scaler.subjects import Subject
from testkit.contract import RESOURCES, open_target, targets
from testkit.fakes import FakeCluster

NOW = datetime.now(UTC)


@pytest.fixture(params=targets())
def t(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_target(request)


def status_body(code: int, message: str) -> bytes:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "code": code,
        }
    ).encode()


def raised(call: Any, *args: Any, **kwargs: Any) -> ClusterError:
    with pytest.raises(ClusterError) as caught:
        call(*args, **kwargs)
    return caught.value


@pytest.mark.parametrize("port", [Cluster, ApiProbe], ids=lambda p: p.__name__)
def test_the_fake_and_the_adapter_implement_the_whole_port(port: type) -> None:
    """Every method of the port, with the adapter's signature (names, kinds, defaults)."""
    methods = [m for m in dir(port) if not m.startswith("_")]
    assert methods
    for name in methods:
        wanted = inspect.signature(getattr(port, name))
        assert inspect.signature(getattr(FakeCluster, name)) == wanted, name
        assert inspect.signature(getattr(Kube, name)) == wanted, name


def test_read_placeholders_is_a_deployment_get_and_a_pod_list(t: Any) -> None:
    t.deployment("ph", 0)
    t.reset()
    read = t.cluster.read_placeholders(t.namespace, "ph")
    assert (
        read.namespace,
        read.deployment,
        read.replicas,
        read.selector,
        read.requests,
        read.tolerations,
        read.pods,
    ) == (t.namespace, "ph", 0, "app=ph", RESOURCES, (), ())
    key = f"{t.namespace}/ph"
    assert t.requests() == [("get deployment", key), ("list placeholder pods", key)]


@pytest.mark.parametrize("request_name", ["get deployment", "list placeholder pods"])
def test_each_request_of_a_read_fails_on_its_own(t: Any, request_name: str) -> None:
    t.deployment("ph", 0)
    key = f"{t.namespace}/ph"
    t.fail(request_name, key, 500, status_body(500, "etcdserver: request timed out"))
    t.reset()
    error = raised(t.cluster.read_placeholders, t.namespace, "ph")
    action = "get deployment" if request_name == "get deployment" else "list placeholder pods"
    assert (error.action, error.status, error.reason) == (
        f"{action} {key}",
        500,
        "etcdserver: request timed out",
    )
    asked = [("get deployment", key), ("list placeholder pods", key)]
    assert t.requests() == asked[: 1 if request_name == "get deployment" else 2]


def test_a_missing_deployment_is_a_404_in_any_namespace(t: Any) -> None:
    t.deployment("ph", 0)
    missing = raised(t.cluster.read_placeholders, t.namespace, "nope")
    assert (missing.status, missing.reason) == (404, 'deployments.apps "nope" not found')
    elsewhere = raised(t.cluster.read_placeholders, f"{t.namespace}-elsewhere", "ph")
    assert (elsewhere.status, elsewhere.reason) == (404, 'deployments.apps "ph" not found')
    scaled = raised(t.cluster.scale, f"{t.namespace}-elsewhere", "ph", 1)
    assert (scaled.action, scaled.status) == (f"scale deployment {t.namespace}-elsewhere/ph", 404)


def test_a_body_that_is_not_json_is_a_cluster_error(t: Any) -> None:
    t.deployment("ph", 0)
    key = f"{t.namespace}/ph"
    t.fail("get deployment", key, 200, b"<html>a captive portal</html>")
    error = raised(t.cluster.read_placeholders, t.namespace, "ph")
    assert (error.action, error.status, error.reason) == (f"get deployment {key}", None, "not JSON")
    t.fail("list nodes", "pool=user", 502, b"<html>bad gateway</html>")
    error = raised(t.cluster.list_nodes, {"pool": "user"})
    assert (error.action, error.status, error.reason) == ("list nodes", 502, "Bad Gateway")


def test_no_answer_is_a_cluster_error_without_a_status_and_not_counted_as_answered(t: Any) -> None:
    """What the API-up metric reads: an answer of any kind counts, a closed connection not."""
    t.deployment("ph", 0)
    key = f"{t.namespace}/ph"
    t.fail("list placeholder pods", key, 0, b"")
    answered, requests = t.cluster.answered(), t.cluster.usage()[0]
    error = raised(t.cluster.read_placeholders, t.namespace, "ph")
    assert (error.action, error.status, error.reason) == (
        f"list placeholder pods {key}",
        None,
        "no answer (MaxRetryError)",
    )
    assert (t.cluster.answered() - answered, t.cluster.usage()[0] - requests) == (1, 2)


def test_nodes_are_listed_by_the_pool_selector(t: Any) -> None:
    mine = {"nps.testcluster/contract": t.namespace}
    t.node(f"{t.namespace}-a", {**mine, "pool": "user"})
    t.node(f"{t.namespace}-b", {**mine, "pool": "gpu"})
    t.reset()
    nodes = t.cluster.list_nodes({"pool": "user", "nps.testcluster/contract": t.namespace})
    assert [n.name for n in nodes] == [f"{t.namespace}-a"]
    assert t.requests() == [("list nodes", f"nps.testcluster/contract={t.namespace},pool=user")]


def test_pods_are_one_list_per_node_and_every_node_is_asked(t: Any) -> None:
    names = [f"{t.namespace}-{n}" for n in "abc"]
    for name in names:
        t.node(name, {"nps.testcluster/contract": t.namespace})
    t.bound_pod("student-a", names[0])
    t.bound_pod("student-b", names[1])
    t.reset()
    pods = t.cluster.pods_on_nodes(names)
    assert {n: [p.name for p in found] for n, found in pods.items()} == {
        names[0]: ["student-a"],
        names[1]: ["student-b"],
        names[2]: [],
    }
    assert sorted(t.requests()) == [("list pods on node", n) for n in names]
    t.fail("list pods on node", names[1], 500, status_body(500, "boom"))
    t.reset()
    error = raised(t.cluster.pods_on_nodes, names)
    assert (error.action, error.status) == (f"list pods on {names[1]}", 500)
    assert sorted(t.requests()) == [("list pods on node", n) for n in names]


def test_scale_patches_the_deployment_in_its_namespace(t: Any) -> None:
    t.deployment("ph", 0)
    t.reset()
    t.cluster.scale(t.namespace, "ph", 2)
    assert t.requests() == [("scale deployment", f"{t.namespace}/ph")]
    assert t.cluster.read_placeholders(t.namespace, "ph").replicas == 2


def test_events_on_the_deployment(t: Any) -> None:
    t.deployment("ph", 0)
    placeholders = t.cluster.read_placeholders(t.namespace, "ph")
    t.reset()
    key = f"{t.namespace}/ph"
    t.cluster.record_event(placeholders, "PlaceholdersScaled", "up to 2", NOW)
    assert t.requests() == [("create event", key)]
    t.reset()  # an outage Event reads the Deployment's uid first, and is written without it
    t.cluster.record_notice(t.namespace, Notice("user", "ph", "FeedsDown", "down", True), NOW)
    t.cluster.record_notice(t.namespace, Notice("user", "gone", "FeedsDown", "gone", True), NOW)
    gone = f"{t.namespace}/gone"
    assert t.requests() == [
        ("get deployment", key),
        ("create event", key),
        ("get deployment", gone),
        ("create event", gone),
    ]
    t.reset()
    t.cluster.record_about(t.namespace, Subject("v1", "ConfigMap", "cm"), "Told", "x", NOW)
    assert t.requests() == [("create event", f"{t.namespace}/cm")]
    assert t.events() == sorted(
        [
            ("ph", "PlaceholdersScaled", "up to 2", "Normal"),
            ("ph", "FeedsDown", "down", "Warning"),
            ("gone", "FeedsDown", "gone", "Warning"),
            ("cm", "Told", "x", "Normal"),
        ]
    )


@pytest.mark.parametrize(
    ("request_name", "action"),
    [
        ("scale deployment", "scale deployment {ns}/ph"),
        ("create event", "create event"),
        ("get deployment", "get deployment {ns}/ph"),
    ],
)
def test_a_refused_request_is_a_403(t: Any, request_name: str, action: str) -> None:
    t.deployment("ph", 0)
    placeholders = t.cluster.read_placeholders(t.namespace, "ph")
    t.forbid(request_name)
    calls = {
        "scale deployment": lambda: t.cluster.scale(t.namespace, "ph", 1),
        "create event": lambda: t.cluster.record_event(placeholders, "R", "m", NOW),
        "get deployment": lambda: t.cluster.read_placeholders(t.namespace, "ph"),
    }
    error = raised(calls[request_name])
    assert (error.action, error.status) == (action.format(ns=t.namespace), 403)


def test_a_capacity_buffer_is_read_and_patched(t: Any) -> None:
    t.buffer("buf", 1)
    t.reset()
    buffer = t.cluster.read_buffer(t.namespace, "buf")
    assert (buffer.namespace, buffer.name, buffer.replicas, buffer.pod_template) == (
        t.namespace,
        "buf",
        1,
        "buf",
    )
    t.cluster.scale_buffer(t.namespace, "buf", 3)
    key = f"{t.namespace}/buf"
    assert t.requests() == [("get capacitybuffer", key), ("patch capacitybuffer", key)]
    assert t.cluster.read_buffer(t.namespace, "buf").replicas == 3


def test_a_missing_or_unreadable_buffer_is_a_cluster_error(t: Any) -> None:
    t.reset()
    missing = raised(t.cluster.read_buffer, t.namespace, "nope")
    assert (missing.status, missing.reason) == (
        404,
        'capacitybuffers.autoscaling.x-k8s.io "nope" not found',
    )
    assert t.requests() == [
        ("get capacitybuffer", f"{t.namespace}/nope"),
        ("discover buffers", ""),
    ]  # the CRD is served: the object is not
    malformed = {
        "kind": "CapacityBuffer",
        "metadata": {"name": "bad"},
        "spec": {"replicas": "many"},
    }
    t.fail("get capacitybuffer", f"{t.namespace}/bad", 200, json.dumps(malformed).encode())
    error = raised(t.cluster.read_buffer, t.namespace, "bad")
    assert error.status is None and error.reason.startswith("unreadable CapacityBuffer: ")


def test_buffer_warnings_are_written_once_per_message(t: Any) -> None:
    t.buffer("buf", 1)
    buffer = t.cluster.read_buffer(t.namespace, "buf")
    t.reset()
    for message in ("broken", "broken", "broken again", "broken"):
        t.cluster.record_buffer_event(buffer, "BufferNotReady", message, NOW, warning=True)
    t.cluster.clear_buffer_warning(buffer)
    t.cluster.record_buffer_event(buffer, "BufferNotReady", "broken", NOW, warning=True)
    t.cluster.record_buffer_event(buffer, "BufferScaled", "up", NOW)
    t.cluster.record_buffer_event(buffer, "BufferScaled", "up", NOW)
    assert len(t.requests()) == 6
    assert [e[2:] for e in t.events()] == sorted(
        [
            ("broken", "Warning"),
            ("broken again", "Warning"),
            ("broken", "Warning"),
            ("broken", "Warning"),
            ("up", "Normal"),
            ("up", "Normal"),
        ]
    )


def pool_settings(namespace: str) -> Any:
    return load_settings(
        f"calendars: [{{name: c, url: /dev/null}}]\npools:\n  user:\n    deployment: ph\n"
        f"    nodeSelector: {{nps.testcluster/contract: {namespace}}}\n",
        "config.yaml",
        {},
    )


@pytest.mark.parametrize("cached", [False, True], ids=["run-once", "pod-cache"])
def test_requests_per_pool_per_round(t: Any, cached: bool) -> None:
    """The docs' API cost of a round: with the run loop's pod cache, 3 requests per pool
    whatever its size; without it, one more per eligible node; at target 0, 2."""
    t.deployment("ph", 0)
    names = [f"{t.namespace}-{n}" for n in "ab"]
    for name in names:
        t.node(name, {"nps.testcluster/contract": t.namespace})
    if cached:
        t.cache_pods()
    settings, at = pool_settings(t.namespace), NOW + timedelta(hours=2)  # nodes no longer young
    plan = Plan(at, {"user": PoolTarget("user", 1, 1, False, ())}, (), ())
    t.reset()
    before = t.cluster.usage()[0]
    [decision] = reconcile_once(t.cluster, plan, settings, t.namespace).pools
    assert (decision.free, decision.action) == (2, "unchanged")
    per_node = [] if cached else [("list pods on node", n) for n in names]
    key, pool = f"{t.namespace}/ph", f"nps.testcluster/contract={t.namespace}"
    assert sorted(t.requests()) == sorted(
        [("get deployment", key), ("list placeholder pods", key), ("list nodes", pool), *per_node]
    )
    assert t.cluster.usage()[0] - before == len(t.requests())  # the API usage metric's count
    t.reset()
    idle = Plan(at, {"user": PoolTarget("user", 0, None, False, ())}, (), ())
    reconcile_once(t.cluster, idle, settings, t.namespace)
    assert t.requests() == [("get deployment", key), ("list placeholder pods", key)]
