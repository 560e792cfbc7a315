"""Event reports, live: what the controller saw for them (reports/reporter.py reports it).

The pod watch (kube/podcache.py) tells the Tracker of every pod change (no extra API call);
each round the Reporter tells it the active occurrences (the plan) and the pools' nodes, and
``Observing`` remembers what reconcile read (the nodes, the placeholder Deployments and
CapacityBuffers). The Tracker keeps pod records, node timelines and open occurrences until no
open occurrence can need them.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from ..backends.capacitybuffers import CapacityBuffer
from ..observed import NodeInfo, Placeholders
from ..port import PlaceholderCluster
from .timelines import NodeTimeline, PodRecord, Window

MAX_RECORDS = 50_000  # pods remembered at once (a cluster's live pods and recent deletions)


class Observing:
    """A port.Cluster that remembers what this round's reconcile read (the nodes, the
    placeholder Deployments): the two reads are its own, everything else is the cluster's."""

    def __init__(self, cluster: PlaceholderCluster) -> None:
        self.cluster = cluster
        self.nodes: dict[frozenset[tuple[str, str]], list[NodeInfo]] = {}
        self.placeholders: dict[str, Placeholders] = {}
        self.buffers: dict[str, CapacityBuffer] = {}  # buffer pools: their CapacityBuffer

    def read_buffer(self, namespace: str, name: str) -> CapacityBuffer:
        found: CapacityBuffer = self.cluster.read_buffer(namespace, name)  # type: ignore[attr-defined]
        self.buffers[name] = found
        return found

    def read_placeholders(self, namespace: str, deployment: str) -> Placeholders:
        found = self.cluster.read_placeholders(namespace, deployment)
        self.placeholders[deployment] = found
        return found

    def list_nodes(self, node_selector: Mapping[str, str]) -> list[NodeInfo]:
        found = self.cluster.list_nodes(node_selector)
        self.nodes[frozenset(node_selector.items())] = found
        return found

    def __getattr__(self, name: str) -> Any:
        """Every other call of the cluster (the pods, the writes, a buffer pool's calls) goes
        straight through."""
        return getattr(self.cluster, name)


class Tracker:
    """Pod records (from the watch), node timelines and open occurrences. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: dict[str, PodRecord] = {}
        self._nodes: dict[str, dict[str, NodeTimeline]] = {}
        self._open: dict[tuple[str, str, datetime], Window] = {}
        self.dropped = 0  # pod records not kept (MAX_RECORDS reached)

    def observe(self, uid: str, update: Callable[[PodRecord | None], PodRecord]) -> None:
        """The watch saw pod ``uid`` change: ``update(old record)`` is its new record."""
        with self._lock:
            old = self._records.get(uid)
            if old is None and len(self._records) >= MAX_RECORDS:
                self.dropped += 1
                return
            record = update(old)
            if record.deleted is not None and not self._open:
                self._records.pop(uid, None)  # nothing open needs a deleted pod
            else:
                self._records[uid] = record

    def open(self, window: Window) -> bool:
        key = (window.pool, window.series, window.start)
        with self._lock:
            new = key not in self._open
            self._open[key] = window
        return new

    def is_open(self, pool: str) -> bool:
        with self._lock:
            return any(w.pool == pool for w in self._open.values())

    def nodes_seen(self, pool: str, nodes: Sequence[NodeInfo], now: datetime) -> None:
        with self._lock:
            known = self._nodes.setdefault(pool, {})
            names = {n.name for n in nodes}
            for n in nodes:
                old = known.get(n.name)
                ready = (old.ready if old else None) or n.ready_since
                known[n.name] = NodeTimeline(n.name, n.created, ready)
            for name, old in list(known.items()):
                if name not in names and old.deleted is None:
                    known[name] = NodeTimeline(name, old.created, old.ready, now)

    def due(self, now: datetime, settle: timedelta) -> list[Window]:
        """Open occurrences whose end + settle has passed (closed by this call)."""
        with self._lock:
            done = [k for k, w in self._open.items() if now >= w.end + settle]
            return [self._open.pop(k) for k in done]

    def snapshot(self, pool: str) -> tuple[list[PodRecord], list[NodeTimeline]]:
        with self._lock:
            return list(self._records.values()), list(self._nodes.get(pool, {}).values())

    def prune(self) -> None:
        """Forget deleted pods and nodes no open occurrence can need."""
        with self._lock:
            oldest = min((w.opens for w in self._open.values()), default=None)
            for uid, r in list(self._records.items()):
                if r.deleted is not None and (oldest is None or r.deleted < oldest):
                    del self._records[uid]
            for known in self._nodes.values():
                for name, n in list(known.items()):
                    if n.deleted is not None and (oldest is None or n.deleted < oldest):
                        del known[name]
