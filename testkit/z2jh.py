"""zero-to-jupyterhub (z2jh) on the test cluster: its objects as a z2jh release makes them.

The values are those of the z2jh chart 4.4.0 (jupyterhub/values.yaml and the templates of
scheduling/ and image-puller/), for a release named ``jhub`` with z2jh's default
``fullnameOverride: ""``, written out here as data:

- the user scheduler's name (``<release>-user-scheduler``; the scheduler itself is
  ``scripts/testcluster up --user-scheduler``, configured in
  tests/cluster/manifests/user-scheduler.yaml),
- the PriorityClasses of ``scheduling.podPriority`` (default 0, image puller -5, user
  placeholder -10), with ``podPriority.enabled: true``: z2jh's default is false, and then its
  user placeholders have priority 0 and no student can preempt them; z2jh's docs turn it on
  together with the user placeholders,
- the ``user-placeholder`` StatefulSet (pause pods sized like a user, the user scheduler, the
  user pods' tolerations and node affinity) and its PodDisruptionBudget (minAvailable 0),
- the ``continuous-image-puller`` DaemonSet (an init container per pulled image, then a pause
  container; the user pods' tolerations),
- user nodes as z2jh's docs ask for them: label ``hub.jupyter.org/node-purpose=user``, taint
  ``hub.jupyter.org/dedicated=user:NoSchedule``.

Builders of API JSON, and two helpers that act on a cluster: ``ensure_user_scheduler`` and
``apply_priority_classes``. The students themselves are in testkit/z2jh_students.py.
"""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from .cluster import SCRIPT, TestCluster
from .manifests import POOL_LABEL, node_manifest

Z2JH_VERSION = "4.4.0"
RELEASE = "jhub"
USER_SCHEDULER_CONFIG = (
    Path(__file__).resolve().parents[1] / "tests" / "cluster" / "manifests" / "user-scheduler.yaml"
)
NODE_PURPOSE_LABEL = "hub.jupyter.org/node-purpose"
DEDICATED_TAINT = {"key": "hub.jupyter.org/dedicated", "value": "user", "effect": "NoSchedule"}
# scheduling.userPods.tolerations (the second key is the legacy spelling for GKE node pools)
USER_TOLERATIONS: list[dict[str, str]] = [
    {
        "key": "hub.jupyter.org/dedicated",
        "operator": "Equal",
        "value": "user",
        "effect": "NoSchedule",
    },
    {
        "key": "hub.jupyter.org_dedicated",
        "operator": "Equal",
        "value": "user",
        "effect": "NoSchedule",
    },
]
# scheduling.userPods.nodeAffinity.matchNodePurpose: prefer
USER_NODE_AFFINITY_PREFERRED: list[dict[str, Any]] = [
    {
        "weight": 100,
        "preference": {
            "matchExpressions": [{"key": NODE_PURPOSE_LABEL, "operator": "In", "values": ["user"]}]
        },
    },
]
# scheduling.podPriority
DEFAULT_PRIORITY_CLASS = f"{RELEASE}-default-priority"
IMAGE_PULLER_PRIORITY_CLASS = f"{RELEASE}-image-puller-priority"
USER_PLACEHOLDER_PRIORITY_CLASS = f"{RELEASE}-user-placeholder-priority"
DEFAULT_PRIORITY = 0
IMAGE_PULLER_PRIORITY = -5
USER_PLACEHOLDER_PRIORITY = -10
USER_PLACEHOLDER = "user-placeholder"
CONTINUOUS_IMAGE_PULLER = "continuous-image-puller"
PAUSE_IMAGE = "registry.k8s.io/pause:3.10.1"
SINGLEUSER_IMAGE = f"quay.io/jupyterhub/k8s-singleuser-sample:{Z2JH_VERSION}"


@cache
def user_scheduler() -> str:
    """The schedulerName the test cluster's user scheduler serves (from its configuration)."""
    config = yaml.safe_load(USER_SCHEDULER_CONFIG.read_text())
    return str(config["profiles"][0]["schedulerName"])


def ensure_user_scheduler(cluster: TestCluster) -> str:
    """Start the user scheduler beside ``cluster`` unless it runs (``scripts/testcluster
    user-scheduler``, idempotent); its schedulerName."""
    env = dict(os.environ, NPS_TESTCLUSTER_STATE=str(cluster.kubeconfig.parent.parent))
    subprocess.run(
        [str(SCRIPT), "user-scheduler", "--name", cluster.name], env=env, check=True, timeout=120
    )
    return user_scheduler()


def apply_priority_classes(
    api: client.ApiClient, user_placeholder_priority: int = USER_PLACEHOLDER_PRIORITY
) -> None:
    """Create z2jh's PriorityClasses; one of another value is replaced (a class's value cannot
    change; pods admitted before keep theirs)."""
    scheduling = client.SchedulingV1Api(api)
    for body in priority_classes(user_placeholder_priority):
        name = body["metadata"]["name"]
        try:
            if scheduling.read_priority_class(name).value == body["value"]:
                continue
            scheduling.delete_priority_class(name)
        except ApiException as e:
            if e.status != 404:
                raise
        scheduling.create_priority_class(body)


def labels(component: str) -> dict[str, str]:
    """z2jh's matchLabels of a component (``jupyterhub.matchLabels``)."""
    return {"component": component, "app": "jupyterhub", "release": RELEASE}


def priority_classes(
    user_placeholder_priority: int = USER_PLACEHOLDER_PRIORITY,
) -> list[dict[str, Any]]:
    """The three PriorityClasses of a release with ``scheduling.podPriority.enabled``."""
    values = {
        DEFAULT_PRIORITY_CLASS: DEFAULT_PRIORITY,
        IMAGE_PULLER_PRIORITY_CLASS: IMAGE_PULLER_PRIORITY,
        USER_PLACEHOLDER_PRIORITY_CLASS: user_placeholder_priority,
    }
    return [
        {
            "apiVersion": "scheduling.k8s.io/v1",
            "kind": "PriorityClass",
            "metadata": {"name": name, "labels": {"app": "jupyterhub", "release": RELEASE}},
            "value": value,
            "globalDefault": False,
        }
        for name, value in values.items()
    ]


def _user_pod_placement(node_selector: dict[str, str] | None) -> dict[str, Any]:
    """nodeSelector (singleuser.nodeSelector), tolerations and affinity of user-like pods."""
    spec: dict[str, Any] = {
        "tolerations": [dict(t) for t in USER_TOLERATIONS],
        "affinity": {
            "nodeAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    dict(a) for a in USER_NODE_AFFINITY_PREFERRED
                ]
            }
        },
    }
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    return spec


def user_placeholder_statefulset(
    replicas: int,
    *,
    cpu: str | None = None,
    memory: str = "1G",
    scheduler_name: str | None = None,
    node_selector: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The ``user-placeholder`` StatefulSet: pause pods with the user pods' requests
    (singleuser.cpu/memory.guarantee; z2jh's default is memory 1G and no CPU), the user
    scheduler (``scheduler_name``, default the test cluster's) and the user placeholder
    priority."""
    requests = {"memory": memory, **({"cpu": cpu} if cpu else {})}
    pod_labels = labels(USER_PLACEHOLDER)
    spec: dict[str, Any] = {
        "priorityClassName": USER_PLACEHOLDER_PRIORITY_CLASS,
        "schedulerName": scheduler_name or user_scheduler(),
        **_user_pod_placement(node_selector),
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "containers": [
            {"name": "pause", "image": PAUSE_IMAGE, "resources": {"requests": requests}}
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "StatefulSet",
        "metadata": {"name": USER_PLACEHOLDER, "labels": dict(pod_labels)},
        "spec": {
            "podManagementPolicy": "Parallel",
            "replicas": replicas,
            "selector": {"matchLabels": dict(pod_labels)},
            "serviceName": USER_PLACEHOLDER,
            "template": {"metadata": {"labels": dict(pod_labels)}, "spec": spec},
        },
    }


def user_placeholder_pdb() -> dict[str, Any]:
    """z2jh's PodDisruptionBudget of the user placeholders: minAvailable 0 (evictable)."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": USER_PLACEHOLDER},
        "spec": {"minAvailable": 0, "selector": {"matchLabels": labels(USER_PLACEHOLDER)}},
    }


def continuous_image_puller(
    images: tuple[str, ...] = (SINGLEUSER_IMAGE,), *, node_selector: dict[str, str] | None = None
) -> dict[str, Any]:
    """The ``continuous-image-puller`` DaemonSet: one init container per image (it only pulls
    and echoes), then a pause container; no requests (prePuller.resources: {}), the image puller
    priority, the user pods' tolerations. With matchNodePurpose ``prefer`` z2jh gives it no
    node affinity: it runs on every node it tolerates, unless singleuser.nodeSelector is set
    (``node_selector``)."""
    pod_labels = labels(CONTINUOUS_IMAGE_PULLER)
    spec: dict[str, Any] = {
        "priorityClassName": IMAGE_PULLER_PRIORITY_CLASS,
        "tolerations": [dict(t) for t in USER_TOLERATIONS],
        "terminationGracePeriodSeconds": 0,
        "automountServiceAccountToken": False,
        "initContainers": [
            {
                "name": "image-pull-singleuser" if i == 0 else f"image-pull-{i}",
                "image": image,
                "command": ["/bin/sh", "-c", 'echo "Pulling complete"'],
            }
            for i, image in enumerate(images)
        ],
        "containers": [{"name": "pause", "image": PAUSE_IMAGE}],
    }
    if node_selector:
        spec["nodeSelector"] = dict(node_selector)
    return {
        "apiVersion": "apps/v1",
        "kind": "DaemonSet",
        "metadata": {"name": CONTINUOUS_IMAGE_PULLER, "labels": dict(pod_labels)},
        "spec": {
            "selector": {"matchLabels": dict(pod_labels)},
            "updateStrategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxUnavailable": "100%"},
            },
            "template": {"metadata": {"labels": dict(pod_labels)}, "spec": spec},
        },
    }


def user_node(
    name: str,
    *,
    extra_labels: dict[str, str] | None = None,
    cpu: str = "4",
    memory: str = "16Gi",
    boot_delay: str = "0s",
) -> dict[str, Any]:
    """A kwok user node as z2jh's docs set up a user node pool (label and taint)."""
    return node_manifest(
        name,
        labels={NODE_PURPOSE_LABEL: "user", **(extra_labels or {})},
        cpu=cpu,
        memory=memory,
        boot_delay=boot_delay,
        taints=[dict(DEDICATED_TAINT)],
    )


def user_nodepool(
    name: str = "z2jh-user",
    *,
    max_cpu: int = 40,
    consolidate_after: str = "1m",
    pool_label: str = "z2jh-user-pool",
) -> dict[str, Any]:
    """A Karpenter NodePool (the test cluster's kwok provider, its 4 CPU / 16 GiB instance
    type) whose nodes carry z2jh's user label and taint, and ``POOL_LABEL=pool_label``. Its
    weight puts it before the test cluster's plain ``user`` NodePool for pods that fit both
    (z2jh's user pods only prefer the label)."""
    return {
        "apiVersion": "karpenter.sh/v1",
        "kind": "NodePool",
        "metadata": {"name": name},
        "spec": {
            "weight": 50,
            "limits": {"cpu": str(max_cpu)},
            "disruption": {
                "consolidationPolicy": "WhenEmpty",
                "consolidateAfter": consolidate_after,
                "budgets": [{"nodes": "100%"}],
            },
            "template": {
                "metadata": {"labels": {NODE_PURPOSE_LABEL: "user", POOL_LABEL: pool_label}},
                "spec": {
                    "nodeClassRef": {
                        "group": "karpenter.kwok.sh",
                        "kind": "KWOKNodeClass",
                        "name": "default",
                    },
                    "expireAfter": "Never",
                    "taints": [dict(DEDICATED_TAINT)],
                    "requirements": [
                        {
                            "key": "node.kubernetes.io/instance-type",
                            "operator": "In",
                            "values": ["user-4cpu-16gi"],
                        },
                        {
                            "key": "karpenter.sh/capacity-type",
                            "operator": "In",
                            "values": ["on-demand"],
                        },
                    ],
                },
            },
        },
    }
