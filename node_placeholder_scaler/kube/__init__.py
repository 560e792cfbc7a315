"""The only user of the Kubernetes client. Returns our own frozen dataclasses (observed.py).

Every call reads raw JSON (``_preload_content=False``): the client's model deserialisation is
slow, and the raw bytes are what a round costs, which ``usage()`` counts (requests, bytes).

API cost of a round does not grow with pods outside the pools: nodes are listed by the pool's
label selector, the placeholder pods by their Deployment's selector in its namespace, and the
pods of the pool's eligible nodes with one ``spec.nodeName=<node>`` field selector each (served
from the API server's watch cache, ``resourceVersion=0``), in parallel.
The ``run`` loop starts a watch-fed pod cache (podcache.py): one LIST and one WATCH of the
cluster's bound pods, so a round reads pods from memory; until the cache is in sync, and for
``run --once`` and ``size``, pods come from the per-node LISTs above.
RBAC needed: nodes and pods get/list/watch; deployments get and deployments/scale get/patch (by
resourceNames); events create; for buffer pools capacitybuffers get/patch (kube/buffers.py).
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from kubernetes.config.config_exception import ConfigException

from ..observed import ClusterError, NodeInfo, Placeholders, PodInfo
from ..port import Notice
from ..subjects import Subject
from . import objects as kubejson
from .buffers import BufferCalls
from .podcache import Listener, PodCache

logger = logging.getLogger(__name__)

SERVICE_ACCOUNT_NAMESPACE = Path("/var/run/secrets/kubernetes.io/serviceaccount/namespace")
MERGE_PATCH = "application/merge-patch+json"
# The chart's controller ConfigMap (templates/configmap.yaml)
RELEASE_SELECTOR = (
    "app.kubernetes.io/name=node-placeholder-scaler,app.kubernetes.io/component=controller"
)


class KubeError(ClusterError):
    """A failed API call (see ClusterError)."""


@dataclass
class ApiUsage:
    """Requests made and response bytes read (cumulative; thread-safe increments)."""

    requests: int = 0
    bytes: int = 0
    answered: int = 0  # requests that got an HTTP answer (any status)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()

    def add(self, size: int, *, answered: bool = True) -> None:
        with self._lock:
            self.requests += 1
            self.bytes += size
            self.answered += answered

    def add_bytes(self, size: int) -> None:
        with self._lock:
            self.bytes += size

    def snapshot(self) -> tuple[int, int]:
        with self._lock:
            return self.requests, self.bytes


def load_api_client(
    kubeconfig: str | None, *, pool_size: int = 40, context: str | None = None
) -> Any:
    """In-cluster config, else the kubeconfig (KUBECONFIG / ~/.kube/config) or the given file;
    ``context``: that context of the kubeconfig (never in-cluster)."""
    configuration = client.Configuration()
    if context is not None:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, context=context, client_configuration=configuration
        )
    elif kubeconfig is None:
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except ConfigException:
            config.load_kube_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
    else:
        config.load_kube_config(  # type: ignore[no-untyped-call]
            config_file=kubeconfig, client_configuration=configuration
        )
    configuration.connection_pool_maxsize = pool_size
    configuration.retries = 1
    return client.ApiClient(configuration)


def context_namespace(kubeconfig: str | None, context: str | None) -> str | None:
    """The namespace the kubeconfig's (current or named) context sets, as kubectl uses it."""
    try:
        contexts, current = config.list_kube_config_contexts(  # type: ignore[no-untyped-call]
            config_file=kubeconfig
        )
    except (ConfigException, OSError):
        return None
    chosen = next((c for c in contexts if c.get("name") == context), None) if context else current
    namespace = (chosen or {}).get("context", {}).get("namespace")
    return namespace if isinstance(namespace, str) and namespace else None


def default_namespace(kubeconfig: str | None = None, context: str | None = None) -> str:
    """The namespace the controller runs in (its service account's), else the kubeconfig
    context's (as kubectl), else ``default``."""
    try:
        return SERVICE_ACCOUNT_NAMESPACE.read_text().strip() or "default"
    except OSError:
        return context_namespace(kubeconfig, context) or "default"


class Kube(BufferCalls):
    """Reads and changes the cluster. One instance per process; safe for the loop's threads."""

    def __init__(self, api_client: Any, *, timeout: float = 10.0, workers: int = 32) -> None:
        self.core = client.CoreV1Api(api_client)
        self.apps = client.AppsV1Api(api_client)
        self.version = client.VersionApi(api_client)
        self._init_buffers(api_client)  # CapacityBuffer calls (backends/capacitybuffers.py)
        self.timeout = timeout
        self.workers = workers
        self.meter = ApiUsage()
        self.cache_meter = ApiUsage()  # the pod cache's LIST and WATCH (not part of a round)
        self.pod_cache: PodCache | None = None
        self.instance = kubejson.COMPONENT  # the Events' reportingInstance (the elected identity)

    def start_pod_cache(self, listener: Listener | None = None) -> PodCache:
        """Serve pods_on_nodes from a watch-fed cache from now on (the ``run`` loop);
        ``listener`` is told of every pod change (the event reports)."""
        if self.pod_cache is None:
            cache = PodCache(
                self.core.list_pod_for_all_namespaces, self.cache_meter, listener=listener
            )
            self.pod_cache = cache.start()
        return self.pod_cache

    def stop_pod_cache(self) -> None:
        if self.pod_cache is not None:
            self.pod_cache.stop()
            self.pod_cache = None

    def usage(self) -> tuple[int, int]:
        """Requests made and response bytes read so far."""
        return self.meter.snapshot()

    def answered(self) -> int:
        return self.meter.answered

    def _call(self, action: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return call(self.meter, self.timeout, action, method, *args, **kwargs)

    def release_configs(self, namespace: str) -> list[str]:
        """The config files of the chart's releases in ``namespace`` (their controller
        ConfigMaps, key config.yaml)."""
        found = self._call(
            "list configmaps",
            self.core.list_namespaced_config_map,
            namespace,
            label_selector=RELEASE_SELECTOR,
        )
        return [
            item["data"]["config.yaml"]
            for item in found.get("items", [])
            if "config.yaml" in (item.get("data") or {})
        ]

    def check(self) -> None:
        """Raise KubeError unless the API server answers."""
        self._call("version", self.version.get_code)

    def read_placeholders(self, namespace: str, deployment: str) -> Placeholders:
        """The placeholder Deployment (replicas, selector, pod template) and its pods."""
        body = self._call(
            f"get deployment {namespace}/{deployment}",
            self.apps.read_namespaced_deployment,
            deployment,
            namespace,
        )
        selector = kubejson.selector_text(body.get("spec", {}).get("selector") or {})
        if not selector:
            raise KubeError(f"deployment {namespace}/{deployment}", None, "has no selector")
        pods = self._call(
            f"list placeholder pods {namespace}/{deployment}",
            self.core.list_namespaced_pod,
            namespace,
            label_selector=selector,
            resource_version="0",
        )
        return kubejson.placeholders(body, selector, [kubejson.pod(p) for p in pods["items"]])

    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]:
        selector = ",".join(f"{k}={v}" for k, v in sorted(node_selector.items()))
        body = self._call(
            "list nodes", self.core.list_node, label_selector=selector, resource_version="0"
        )
        return [kubejson.node(item) for item in body["items"]]

    def pods_on_node(self, node: str) -> list[PodInfo]:
        """The non-terminated pods bound to a node."""
        body = self._call(
            f"list pods on {node}",
            self.core.list_pod_for_all_namespaces,
            field_selector=kubejson.pods_on_node_selector(node),
            resource_version="0",
        )
        return [kubejson.pod(item) for item in body["items"]]

    def pods_on_nodes(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]]:
        """The non-terminated pods of each node: from the pod cache when it is in sync, else
        one request per node, in parallel."""
        cached = self.pod_cache.pods_on(nodes) if self.pod_cache is not None else None
        if cached is not None:
            return cached
        if len(nodes) <= 1:
            return {n: self.pods_on_node(n) for n in nodes}
        with ThreadPoolExecutor(max_workers=min(self.workers, len(nodes))) as pool:
            return dict(zip(nodes, pool.map(self.pods_on_node, nodes), strict=True))

    def scale(self, namespace: str, deployment: str, replicas: int) -> None:
        self._call(
            f"scale deployment {namespace}/{deployment}",
            self.apps.patch_namespaced_deployment_scale,
            deployment,
            namespace,
            {"spec": {"replicas": replicas}},
            _content_type=MERGE_PATCH,
        )

    def record_event(
        self, placeholders: Placeholders, reason: str, message: str, now: datetime
    ) -> None:
        """Create a core/v1 Event on the placeholder Deployment."""
        body = kubejson.event(placeholders, reason, message, now, self.instance)
        self._call("create event", self.core.create_namespaced_event, placeholders.namespace, body)

    def record_notice(self, namespace: str, notice: Notice, now: datetime) -> None:
        """An outage Event (outages.Notice) on the pool's Deployment, with its uid if it
        can be read (``kubectl describe`` matches Events by uid)."""
        try:
            uid = self.read_placeholders_uid(namespace, notice.deployment)
        except KubeError:
            uid = ""
        involved = {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": notice.deployment,
            "namespace": namespace,
            "uid": uid,
        }
        body = kubejson.event_about(
            involved,
            notice.reason,
            notice.message,
            now,
            warning=notice.warning,
            instance=self.instance,
        )
        self._call("create event", self.core.create_namespaced_event, namespace, body)

    def record_about(
        self,
        namespace: str,
        subject: Subject,
        reason: str,
        message: str,
        now: datetime,
        *,
        warning: bool = False,
    ) -> None:
        """An Event about ``subject`` in ``namespace`` (a Deployment's uid is looked up, so
        that ``kubectl describe`` shows it)."""
        uid = ""
        if subject.kind == "Deployment":
            with contextlib.suppress(KubeError):
                uid = self.read_placeholders_uid(namespace, subject.name)
        body = kubejson.event_about(
            subject.involved(namespace, uid),
            reason,
            message,
            now,
            warning=warning,
            instance=self.instance,
        )
        self._call("create event", self.core.create_namespaced_event, namespace, body)

    def read_placeholders_uid(self, namespace: str, deployment: str) -> str:
        body = self._call(
            f"get deployment {namespace}/{deployment}",
            self.apps.read_namespaced_deployment,
            deployment,
            namespace,
        )
        return str(body.get("metadata", {}).get("uid") or "")


def call(
    meter: ApiUsage,
    timeout: float,
    action: str,
    method: Callable[..., Any],
    *args: Any,
    **kwargs: Any,
) -> Any:
    """One API call, raw JSON in and out, counted in ``meter``; KubeError on any failure,
    an answer that is not JSON included."""
    try:
        response = method(*args, _preload_content=False, _request_timeout=timeout, **kwargs)
        data = response.data
    except ApiException as error:
        meter.add(len(error.body or b""))
        raise KubeError(action, error.status, _reason(error)) from None
    except urllib3.exceptions.HTTPError as error:
        meter.add(0, answered=False)
        raise KubeError(action, None, f"no answer ({type(error).__name__})") from None
    meter.add(len(data))
    try:
        return json.loads(data) if data else {}
    except ValueError:  # an answer that is not the API server's (a proxy's page, a cut body)
        raise KubeError(action, None, "not JSON") from None


def _reason(error: ApiException) -> str:
    try:
        return str(json.loads(error.body or "").get("message") or error.reason)
    except (TypeError, ValueError, AttributeError):
        return str(error.reason)
