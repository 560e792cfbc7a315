"""Event reports on the cluster: pod JSON -> PodRecord, and the per-pool report ConfigMap.

The reports of a pool live in one ConfigMap in the controller's namespace, named
``<placeholder deployment>-reports`` (key ``reports.json``: a JSON list, newest last, at most
``retention`` reports, each a few hundred bytes), so they survive a restart and stay bounded.
RBAC: configmaps ``create`` in the namespace; ``get``/``update`` by resourceNames.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import urllib3
from kubernetes.client.exceptions import ApiException

from ..observed import ClusterError
from ..reports.record import EventReport, from_json, to_json
from ..reports.timelines import Affinity, PodRecord
from . import objects

logger = logging.getLogger(__name__)

KEY = "reports.json"
MAX_MESSAGE = 300
Json = Mapping[str, Any]


def configmap_name(deployment: str) -> str:
    return f"{deployment}-reports"


def _condition(status: Json, kind: str) -> Json:
    return next((c for c in status.get("conditions") or [] if c.get("type") == kind), {})


def _affinity(spec: Json) -> Affinity:
    required = ((spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    return tuple(
        tuple(
            (e.get("key", ""), e.get("operator", ""), tuple(e.get("values") or ()))
            for e in term.get("matchExpressions") or []
        )
        for term in required.get("nodeSelectorTerms") or []
    )


def _since(condition: Json) -> datetime | None:
    if condition.get("status") != "True":
        return None
    return objects.timestamp(condition.get("lastTransitionTime"))


def pod_record(body: Json, kind: str, now: datetime, old: PodRecord | None) -> PodRecord:
    """A pod event (ADDED, MODIFIED, DELETED, SYNC) -> the pod's record, merged with ``old``."""
    metadata, spec, status = body.get("metadata", {}), body.get("spec", {}), body.get("status", {})
    scheduled = _condition(status, "PodScheduled")
    disruption = _condition(status, "DisruptionTarget")
    pod = objects.pod(body)
    deleted = old.deleted if old else None
    if deleted is None and (kind == "DELETED" or metadata.get("deletionTimestamp")):
        deleted = now
    message = scheduled.get("message") if scheduled.get("status") == "False" else None
    return PodRecord(
        uid=metadata.get("uid", ""),
        name=pod.name,
        namespace=pod.namespace,
        created=objects.timestamp(metadata.get("creationTimestamp")),
        labels=dict(metadata.get("labels") or {}),
        node_selector=dict(spec.get("nodeSelector") or {}),
        affinity=_affinity(spec),
        requests=pod.requests,
        owner_kind=pod.owner_kind,
        mirror=pod.mirror,
        scheduled=_since(scheduled) or (old.scheduled if old else None),
        ready=_since(_condition(status, "Ready")) or (old.ready if old else None),
        node=pod.node or (old.node if old else None),
        deleted=deleted,
        preempted=(old.preempted if old else False)
        or (
            disruption.get("status") == "True"
            and disruption.get("reason") == "PreemptionByScheduler"
        ),
        unschedulable=(
            str(message)[:MAX_MESSAGE] if message else (old.unschedulable if old else None)
        ),
    )


class ReportStore:
    """The last ``retention`` reports of each pool, in one ConfigMap per pool."""

    def __init__(self, core: Any, namespace: str, *, timeout: float = 10.0) -> None:
        self.core = core  # CoreV1Api
        self.namespace = namespace
        self.timeout = timeout

    def load(self, deployment: str) -> list[EventReport]:
        """The stored reports of one pool, oldest first ([] when there is none yet)."""
        body = self._get(configmap_name(deployment))
        return _reports(body) if body else []

    def add(self, deployment: str, report: EventReport, retention: int) -> None:
        """Append (or replace the report of the same occurrence) and keep the newest."""
        name = configmap_name(deployment)
        for attempt in range(3):
            body = self._get(name)
            kept = [r for r in (_reports(body) if body else []) if r.key != report.key]
            data = {
                KEY: json.dumps(
                    [to_json(r) for r in [*kept, report][-max(1, retention) :]],
                    separators=(",", ":"),
                )
            }
            try:
                if body is None:
                    self.core.create_namespaced_config_map(
                        self.namespace,
                        {
                            "metadata": {
                                "name": name,
                                "labels": {"app.kubernetes.io/component": "event-reports"},
                            },
                            "data": data,
                        },
                        _request_timeout=self.timeout,
                    )
                else:
                    body["data"] = data
                    self.core.replace_namespaced_config_map(
                        name, self.namespace, body, _request_timeout=self.timeout
                    )
                return
            except ApiException as error:
                if error.status != 409 or attempt == 2:  # 409: changed or created meanwhile
                    raise ClusterError(
                        f"store report {name}", error.status, str(error.reason)
                    ) from None
            except urllib3.exceptions.HTTPError as error:
                raise ClusterError(
                    f"store report {name}", None, f"no answer ({type(error).__name__})"
                ) from None

    def _get(self, name: str) -> dict[str, Any] | None:
        try:
            response = self.core.read_namespaced_config_map(
                name, self.namespace, _preload_content=False, _request_timeout=self.timeout
            )
        except ApiException as error:
            if error.status == 404:
                return None
            raise ClusterError(f"read reports {name}", error.status, str(error.reason)) from None
        except urllib3.exceptions.HTTPError as error:
            raise ClusterError(
                f"read reports {name}", None, f"no answer ({type(error).__name__})"
            ) from None
        try:
            return dict(json.loads(response.data))
        except ValueError:
            raise ClusterError(f"read reports {name}", None, "not JSON") from None


def _reports(body: Json) -> list[EventReport]:
    name = (body.get("metadata") or {}).get("name")
    try:
        items = json.loads((body.get("data") or {}).get(KEY) or "[]")
    except ValueError:
        logger.warning("reports ConfigMap %s: unreadable %s; starting anew", name, KEY)
        return []
    found = []
    for item in items if isinstance(items, list) else []:
        try:
            found.append(from_json(item))
        except (AttributeError, KeyError, TypeError, ValueError) as error:
            logger.warning("reports ConfigMap %s: a report left out (%s)", name, error)
    return found


def listener(
    observe: Callable[[str, Callable[[PodRecord | None], PodRecord]], None],
    clock: Callable[[], datetime],
) -> Callable[[str, dict[str, Any]], None]:
    """The pod cache's listener: every pod change into the Tracker (``observe``), except
    DaemonSet and static pods (never user pods)."""

    def on_pod(kind: str, body: dict[str, Any]) -> None:
        metadata = body.get("metadata") or {}
        uid = metadata.get("uid")
        owners = metadata.get("ownerReferences") or []
        if (
            not uid
            or any(o.get("kind") == "DaemonSet" for o in owners)
            or ("kubernetes.io/config.mirror" in (metadata.get("annotations") or {}))
        ):
            return
        observe(uid, lambda old: pod_record(body, kind, clock(), old))

    return on_pod
