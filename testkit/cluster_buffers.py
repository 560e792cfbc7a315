"""CapacityBuffers on the test cluster (Karpenter's kwok provider serves them): a buffer and
its PodTemplate, read back, and a condition of its status."""

from __future__ import annotations

from typing import Any

from kubernetes import client

from node_placeholder_scaler.backends.capacitybuffers import GROUP, PLURAL, VERSION
from testkit.manifests import POOL_LABEL, USER_POOL, pod_manifest

POOL = {POOL_LABEL: USER_POOL}
CHUNK = {"cpu": "3500m", "memory": "14Gi"}  # one user-pool node (4 CPU, 16 Gi)


def create_buffer(
    api: client.ApiClient,
    ns: str,
    name: str,
    *,
    replicas: int = 0,
    template: str | None = None,
    requests: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A PodTemplate (one node's worth, the user pool's nodeSelector) and its CapacityBuffer."""
    if template is None:
        pod = pod_manifest(
            name,
            cpu=(requests or CHUNK)["cpu"],
            memory=(requests or CHUNK)["memory"],
            node_selector=POOL,
        )
        client.CoreV1Api(api).create_namespaced_pod_template(
            ns,
            {
                "apiVersion": "v1",
                "kind": "PodTemplate",
                "metadata": {"name": name},
                "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
            },
        )
    created: Any = client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP,
        VERSION,
        ns,
        PLURAL,
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "CapacityBuffer",
            "metadata": {"name": name},
            "spec": {
                "provisioningStrategy": "buffer.x-k8s.io/active-capacity",
                "podTemplateRef": {"name": template or name},
                "replicas": replicas,
            },
        },
    )
    return dict(created)


def read_buffer(api: client.ApiClient, ns: str, name: str) -> dict[str, Any]:
    body: Any = client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, ns, PLURAL, name
    )
    return dict(body)


def condition(body: dict[str, Any], kind: str) -> tuple[str, str] | None:
    for c in (body.get("status") or {}).get("conditions") or []:
        if c.get("type") == kind:
            return c.get("status"), c.get("reason")
    return None
