"""What ``validate --cluster`` and the pool checks read from the cluster: plain records.

kube/clusterfacts.py and kube/poolfacts.py read them (read-only), from the pools' plain reads
(``PoolReads``, built by the caller from the settings); preflight/ judges them: it turns a
``ClusterReading`` into its ``ClusterFacts`` (the autoscalers detected, z2jh's schedulers
chosen) and a ``PoolsReading`` into ``PoolCheckFacts`` (each node's DaemonSet and static pods
counted). Beside them, the names these reads and judgements share: the well-known Leases,
the instance-type label and zero-to-jupyterhub's labels.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from .backends.capacitybuffers import CapacityBuffer
from .observed import PodInfo, Resources

CA_LEASE, KARPENTER_LEASE = "cluster-autoscaler", "karpenter-leader-election"
INSTANCE_TYPE = "node.kubernetes.io/instance-type"
DEFAULT_SCHEDULER = "default-scheduler"
USER_SCHEDULER = "user-scheduler"  # z2jh's component labels
USER_PLACEHOLDER = "user-placeholder"
SINGLEUSER = "singleuser-server"
PLACEHOLDER_SELECTOR = f"component={USER_PLACEHOLDER}"


def z2jh_component(labels: Mapping[str, str]) -> str | None:
    """The z2jh component an object's labels name (None: not a z2jh release's object)."""
    if labels.get("app") == "jupyterhub" or labels.get("app.kubernetes.io/name") == "jupyterhub":
        return labels.get("component") or labels.get("app.kubernetes.io/component")
    return None


@dataclass(frozen=True)
class PoolReads:
    """One pool as the reads need it (from its settings)."""

    name: str
    backend: str  # placeholders | capacityBuffer
    deployment: str  # the placeholder Deployment
    buffer: str  # the CapacityBuffer (backend capacityBuffer)
    node_selector: Mapping[str, str]
    max_replicas: int


@dataclass(frozen=True)
class Requirement:
    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist | Gt | Lt
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class NodePool:
    """A Karpenter NodePool as the checks need it."""

    name: str
    labels: Mapping[str, str]  # spec.template.metadata.labels
    requirements: tuple[Requirement, ...]
    limits: Resources | None  # spec.limits; None: no limit

    def matches(self, selector: Mapping[str, str]) -> bool:
        """Would a node of this NodePool carry every label of ``selector``?"""
        required = {r.key: r for r in self.requirements}
        for key, value in selector.items():
            if self.labels.get(key) == value:
                continue
            need = required.get(key)
            if need is None or need.operator != "In" or value not in need.values:
                return False
        return True

    def allows(self, instance_type: str) -> bool:
        for r in self.requirements:
            if r.key == INSTANCE_TYPE and r.operator == "In" and instance_type not in r.values:
                return False
            if r.key == INSTANCE_TYPE and r.operator == "NotIn" and instance_type in r.values:
                return False
        return True


@dataclass(frozen=True)
class InstanceType:
    name: str
    resources: Resources  # allocatable where known (a NodeClaim), else its capacity


@dataclass(frozen=True)
class PoolNode:
    name: str
    allocatable: Resources
    reserved: Resources = field(default_factory=Resources)  # its DaemonSet and static pods

    @property
    def room(self) -> Resources:
        """What a placeholder can have: allocatable minus the pods every node runs."""
        return self.allocatable - self.reserved


@dataclass(frozen=True)
class PoolShape:
    """One pool: its selector, one placeholder's requests (None: unknown) and its nodes."""

    pool: str
    subject: str  # e.g. "Deployment nps/placeholder-user (pool user)"
    node_selector: Mapping[str, str]
    requests: Resources | None
    max_replicas: int
    nodes: tuple[PoolNode, ...]


@dataclass(frozen=True)
class PoolCheckFacts:
    pools: tuple[PoolShape, ...]
    nodepools: tuple[NodePool, ...] | None  # None: no Karpenter NodePool API (or unreadable)
    instance_types: tuple[InstanceType, ...] = ()
    refused: tuple[str, ...] = ()  # reads the cluster refused (403), e.g. "list nodes"


@dataclass(frozen=True)
class PoolsReading:
    """The pool checks' reads: the pools (their nodes' ``reserved`` not yet counted) and the
    pods of each of their nodes, from which preflight/pools.py counts it."""

    facts: PoolCheckFacts
    node_pods: Mapping[str, tuple[PodInfo, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class PlaceholderFacts:
    deployment: str
    exists: bool
    priority_class: str | None = None  # priorityClassName of the pod template
    priority: int | None = None  # its value; None when the class does not exist
    annotations: tuple[tuple[str, str], ...] = ()  # of the pod template
    priority_read: bool = True  # False: the cluster refused to show the PriorityClass
    scheduler_name: str = DEFAULT_SCHEDULER  # schedulerName of the pod template


@dataclass(frozen=True)
class PoolFacts:
    pool: str
    backend: str
    placeholders: PlaceholderFacts | None = None
    buffer_name: str = ""
    buffer: CapacityBuffer | None = None  # None: not found (or the CRD is not served)


@dataclass(frozen=True)
class NeverPreempts:
    """A user pod that runs with preemptionPolicy Never."""

    pod: str  # namespace/name
    priority_class: str | None


@dataclass(frozen=True)
class Workload:
    """A Deployment as the autoscaler detection needs it."""

    name: str  # namespace/name
    labels: tuple[tuple[str, str], ...]
    images: tuple[str, ...]
    args: tuple[str, ...]  # command + args of its first container
    env: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Signs:
    """What the cluster shows of its autoscaler, besides Deployments."""

    leases: tuple[str, ...] = ()  # names of the well-known Leases found in kube-system
    ca_status: bool = False  # the kube-system/cluster-autoscaler-status ConfigMap exists
    nodepools: int = 0  # Karpenter NodePools (karpenter.sh/v1)


@dataclass(frozen=True)
class UserPlaceholders:
    """z2jh's user-placeholder StatefulSet."""

    name: str  # namespace/name
    replicas: int
    scheduler_name: str
    priority_class: str | None
    priority: int | None = None  # the class's value (0 without a class); None: not read


@dataclass(frozen=True)
class Z2jhFacts:
    user_schedulers: tuple[str, ...] = ()  # namespace/name of z2jh user-scheduler Deployments
    scheduler_names: tuple[str, ...] = ()  # the schedulerNames z2jh's users are placed by
    placeholders: tuple[UserPlaceholders, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.user_schedulers or self.scheduler_names or self.placeholders)


@dataclass(frozen=True)
class ClusterReading:
    """Everything ``validate --cluster`` read; preflight/cluster.py makes its facts of it."""

    namespace: str
    buffer_api: bool
    workloads: tuple[Workload, ...]
    signs: Signs
    pools: tuple[PoolFacts, ...]
    never_preempts: tuple[NeverPreempts, ...]
    unreadable: tuple[str, ...]  # what could not be read (e.g. forbidden)
    pool_check: PoolsReading
    user_pod_schedulers: tuple[str, ...]  # the schedulerNames of z2jh's users' pods
    user_placeholders: tuple[UserPlaceholders, ...]  # z2jh's, with their priority
