"""Kubernetes API objects (as the API's JSON) of the test cluster's pods and nodes.

Pure data builders, shared by the cluster tests, the benchmarks and the demo.
"""

from __future__ import annotations

from typing import Any

# Labels of the pools the test cluster's autoscaler knows (tests/cluster/manifests).
POOL_LABEL = "hub.jupyter.org/pool-name"
USER_POOL = "user-pool"
GPU_POOL = "gpu-pool"
# Marks nodes that a test created by hand (not the autoscaler) so they can be found.
TEST_NODE_LABEL = "nps.testcluster/test-node"
BOOT_DELAY_ANNOTATION = "nps.testcluster/boot-delay"
NOT_READY_TAINT = "node.kubernetes.io/not-ready"


def pod_manifest(
    name: str,
    *,
    cpu: str = "100m",
    memory: str = "64Mi",
    priority_class: str | None = None,
    node_selector: dict[str, str] | None = None,
    tolerations: list[dict[str, str]] | None = None,
    labels: dict[str, str] | None = None,
    extra_resources: dict[str, str] | None = None,
    node_name: str | None = None,
) -> dict[str, Any]:
    """A pause Pod with these requests; ``node_name`` binds it to a node (no scheduler)."""
    requests = {"cpu": cpu, "memory": memory, **(extra_resources or {})}
    spec: dict[str, Any] = {
        "containers": [
            {
                "name": "main",
                "image": "registry.k8s.io/pause:3.10",
                "resources": {"requests": requests, "limits": dict(extra_resources or {})},
            }
        ],
        "terminationGracePeriodSeconds": 0,
    }
    if not extra_resources:
        del spec["containers"][0]["resources"]["limits"]
    if priority_class:
        spec["priorityClassName"] = priority_class
    if node_selector:
        spec["nodeSelector"] = node_selector
    if tolerations:
        spec["tolerations"] = tolerations
    if node_name:
        spec["nodeName"] = node_name
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "labels": labels or {"app": name}},
        "spec": spec,
    }


def node_manifest(
    name: str,
    *,
    labels: dict[str, str],
    cpu: str = "4",
    memory: str = "16Gi",
    pods: str = "110",
    boot_delay: str = "0s",
    taints: list[dict[str, str]] | None = None,
    extra_resources: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A kwok-managed Node, registered the way a kubelet does (not yet Ready)."""
    resources = {"cpu": cpu, "memory": memory, "pods": pods, **(extra_resources or {})}
    return {
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "annotations": {"kwok.x-k8s.io/node": "fake", BOOT_DELAY_ANNOTATION: boot_delay},
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "type": "kwok",
                TEST_NODE_LABEL: "true",
                **labels,
            },
        },
        "spec": {
            "taints": [{"key": NOT_READY_TAINT, "effect": "NoSchedule"}, *(taints or [])],
        },
        "status": {
            "allocatable": resources,
            "capacity": resources,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "KubeletNotReady",
                    "message": "booting",
                }
            ],
        },
    }
