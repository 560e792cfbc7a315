"""kube/objects.py: API JSON -> our dataclasses, and the Event body (compared as dicts)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from node_placeholder_scaler.kube import objects
from node_placeholder_scaler.observed import Placeholders, Resources, Taint, Toleration

GI = 1024**3


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ({"cpu": "0.5", "memory": "512Mi"}, Resources(500, 512 * 1024**2)),
        ({"cpu": "100m", "memory": "1G"}, Resources(100, 10**9)),
        ({"cpu": "2", "memory": "1e9"}, Resources(2000, 10**9)),
        ({"cpu": "1n"}, Resources(1, 0)),  # rounded up, as the scheduler does
        ({"nvidia.com/gpu": "2", "pods": "110"}, Resources(0, 0, {"nvidia.com/gpu": 2})),
        (None, Resources()),
    ],
)
def test_resources(values, expected):
    assert objects.resources(values) == expected


def test_node():
    body = {
        "metadata": {
            "name": "n1",
            "labels": {"pool": "gpu"},
            "creationTimestamp": "2026-11-23T08:00:00Z",
        },
        "spec": {
            "unschedulable": True,
            "taints": [{"key": "nvidia.com/gpu", "value": "present", "effect": "NoSchedule"}],
        },
        "status": {
            "allocatable": {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "2"},
            "conditions": [{"type": "Ready", "status": "True"}],
        },
    }
    node = objects.node(body)
    assert node.ready and node.unschedulable
    assert node.taints == (Taint("nvidia.com/gpu", "present", "NoSchedule"),)
    assert node.allocatable == Resources(8000, 64 * GI, {"nvidia.com/gpu": 2})
    assert node.created == datetime(2026, 11, 23, 8, tzinfo=UTC)


def test_pod_requests_with_init_sidecar_and_overhead():
    body = {
        "metadata": {
            "name": "p",
            "namespace": "ns",
            "ownerReferences": [{"kind": "DaemonSet", "controller": True}],
        },
        "spec": {
            "nodeName": "n1",
            "containers": [
                {"resources": {"requests": {"cpu": "100m", "memory": "1Gi"}}},
                {"resources": {}},
            ],
            "initContainers": [
                {"resources": {"requests": {"cpu": "1", "memory": "100Mi"}}},
                {"restartPolicy": "Always", "resources": {"requests": {"cpu": "50m"}}},
            ],
            "overhead": {"cpu": "10m"},
        },
        "status": {"phase": "Running"},
    }
    pod = objects.pod(body)
    assert pod.requests == Resources(1010, GI, {})
    assert pod.owner_kind == "DaemonSet" and pod.node == "n1" and not pod.pending


def test_unbound_pod_is_pending():
    pod = objects.pod({"metadata": {"name": "p"}, "spec": {}, "status": {"phase": "Pending"}})
    assert pod.pending


def test_selector_text():
    selector = {
        "matchLabels": {"b": "2", "a": "1"},
        "matchExpressions": [
            {"key": "c", "operator": "In", "values": ["x", "y"]},
            {"key": "d", "operator": "NotIn", "values": ["z"]},
            {"key": "e", "operator": "Exists"},
            {"key": "f", "operator": "DoesNotExist"},
        ],
    }
    assert objects.selector_text(selector) == "a=1,b=2,c in (x,y),d notin (z),e,!f"


def test_placeholders_from_deployment():
    body = {
        "metadata": {"name": "placeholder-gpu", "namespace": "np", "uid": "u1"},
        "spec": {
            "replicas": 2,
            "template": {
                "spec": {
                    "containers": [
                        {"resources": {"requests": {"cpu": "7", "nvidia.com/gpu": "2"}}}
                    ],
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
                }
            },
        },
    }
    holders = objects.placeholders(body, "app=x", [])
    assert holders.replicas == 2
    assert holders.requests == Resources(7000, 0, {"nvidia.com/gpu": 2})
    assert holders.tolerations == (Toleration("nvidia.com/gpu", "Exists"),)


def test_event_is_about_the_deployment_and_fits_the_api_limits():
    """What `kubectl describe deployment` relies on: the Event names the Deployment (by UID, so
    a recreated Deployment does not inherit it), its message fits the API's 1024 characters,
    its times are the round's (the real API server accepts it: tests/cluster)."""
    holders = Placeholders("np", "placeholder-user", "u1", 0, "app=x", Resources(), ())
    now = datetime(2026, 11, 23, 10, 0, 5, tzinfo=timezone(timedelta(hours=1)))
    body = objects.event(holders, "PlaceholdersScaled", "x" * 2000, now)
    about = body["involvedObject"]
    assert (about["kind"], about["name"], about["namespace"], about["uid"]) == (
        "Deployment",
        "placeholder-user",
        "np",
        "u1",
    )
    assert body["metadata"]["namespace"] == "np"  # an Event lives beside its object
    assert (body["reason"], body["type"]) == ("PlaceholdersScaled", "Normal")
    assert len(body["message"]) == 1024 and body["message"].endswith("...")
    assert body["firstTimestamp"] == body["lastTimestamp"] == "2026-11-23T09:00:05Z"
    short = objects.event(holders, "PlaceholdersScaled", "Scaled 0 to 2", now)
    assert short["message"] == "Scaled 0 to 2"
    # the API server names each Event, so two Events of one round never clash
    assert "name" not in short["metadata"]
    assert short["metadata"]["generateName"].startswith("placeholder-user.")
