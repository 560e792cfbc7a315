"""The chart's objects of a buffer pool, applied as rendered, on the test cluster with Karpenter.

``helm template`` renders the pool's PodTemplate, CapacityBuffer, ServiceAccount and the Roles;
the test applies them as they are. With the ServiceAccount's token, the controller sets its own
buffer's replicas, and can neither read nor patch any other CapacityBuffer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from kubernetes import client
from prometheus_client import CollectorRegistry

from node_placeholder_scaler import kube
from node_placeholder_scaler.backends.capacitybuffers import GROUP, PLURAL, VERSION
from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.loop import Controller
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.observed import ClusterError
from node_placeholder_scaler.server import Health
from testkit.cluster import Namespace, TestCluster, service_account_client, wait_for
from testkit.cluster_buffers import condition, create_buffer, read_buffer
from testkit.helm import render
from testkit.planners import StaticPlanner

pytestmark = pytest.mark.cluster

RELEASE = "nps"
VALUES = {
    "calendars": [{"name": "courses", "url": "https://calendar.example.org/secret/basic.ics"}],
    "pools": {
        "user": {
            "backend": "capacityBuffer",
            "buffer": "warm-user",
            "nodeSelector": {"hub.jupyter.org/pool-name": "user-pool"},
            "resources": {"requests": {"cpu": "3500m", "memory": "14Gi"}},
        }
    },
}
APPLIED = ("ServiceAccount", "Role", "RoleBinding", "PodTemplate", "CapacityBuffer")


def apply(api: client.ApiClient, ns: str, doc: dict[str, Any]) -> None:
    kind = doc["kind"]
    if kind == "ServiceAccount":
        client.CoreV1Api(api).create_namespaced_service_account(ns, doc)
    elif kind == "PodTemplate":
        client.CoreV1Api(api).create_namespaced_pod_template(ns, doc)
    elif kind == "Role":
        client.RbacAuthorizationV1Api(api).create_namespaced_role(ns, doc)
    elif kind == "RoleBinding":
        client.RbacAuthorizationV1Api(api).create_namespaced_role_binding(ns, doc)
    else:
        client.CustomObjectsApi(api).create_namespaced_custom_object(
            GROUP, VERSION, ns, PLURAL, doc
        )


def test_chart_objects_warm_and_rbac_allows_only_the_named_buffer(
    testcluster: TestCluster, kube_api: client.ApiClient, namespace: Namespace
) -> None:
    if testcluster.autoscaler != "karpenter":
        pytest.skip("needs the test cluster's Karpenter (CapacityBuffer support)")
    ns = namespace.name
    docs = render(VALUES, release=RELEASE, namespace=ns)
    for doc in docs:
        if doc["kind"] in APPLIED:
            apply(kube_api, ns, doc)
    [sa] = [d["metadata"]["name"] for d in docs if d["kind"] == "ServiceAccount"]
    create_buffer(kube_api, ns, "other-team")
    wait_for(
        "Karpenter resolving the chart's buffer",
        lambda: (
            condition(read_buffer(kube_api, ns, "warm-user"), "ReadyForProvisioning")
            == ("True", "Resolved")
        ),
        timeout=60,
    )

    restricted = service_account_client(kube_api, ns, sa)
    cluster = kube.Kube(restricted)
    settings = load_settings(
        f"namespace: {ns}\ncalendars: [{{url: x.ics}}]\npools: {{user: {{nodeSelector: "
        "{hub.jupyter.org/pool-name: user-pool}, backend: capacityBuffer, buffer: warm-user}}\n",
        "config.yaml",
        {},
    )
    now = datetime.now(UTC)
    ctl = Controller(
        settings,
        cluster,
        cluster,
        StaticPlanner(user=0),
        Metrics(CollectorRegistry()),
        Health(settings.interval, now),
        ns,
    )
    result = ctl.round()
    assert result is not None and result.pools[0].error is None, result
    # Rendered offline (helm template), the chart leaves replicas to the controller: its first
    # round sets 0 (a PATCH, and the BufferScaled Event, both under the chart's RBAC).
    assert (result.pools[0].action, result.pools[0].current) == ("scaled", None)
    assert read_buffer(kube_api, ns, "warm-user")["spec"]["replicas"] == 0
    events = (
        client.CoreV1Api(kube_api)
        .list_namespaced_event(ns, field_selector="reason=BufferScaled")
        .items
    )
    assert [e.involved_object.name for e in events] == ["warm-user"]
    again = ctl.round()
    assert again is not None and again.pools[0].action == "unchanged"

    with pytest.raises(ClusterError) as read_other:
        cluster.read_buffer(ns, "other-team")
    assert read_other.value.status == 403
    with pytest.raises(ClusterError) as patch_other:
        cluster.scale_buffer(ns, "other-team", 3)
    assert patch_other.value.status == 403
    assert read_buffer(kube_api, ns, "other-team")["spec"]["replicas"] == 0
    cluster.scale_buffer(ns, "warm-user", 0)  # its own: allowed (a real PATCH, same value)
    assert read_buffer(kube_api, ns, "warm-user")["spec"]["replicas"] == 0
