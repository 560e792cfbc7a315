"""A watch-fed cache of the cluster's bound, non-terminated pods (what an informer does).

One paged LIST at start (and after a lost watch), then one WATCH stream: a round reads pods
from memory, so its API cost no longer grows with the pool's nodes, and never with the pods
outside the pools. ``pods_on`` returns None while the cache is not in sync (starting, or
relisting after an error); the caller then falls back to one LIST per node.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from ..observed import PodInfo
from . import objects

logger = logging.getLogger(__name__)

# Pending pods are watched too (for the event reports' waits); the cache keeps bound ones.
SELECTOR = "status.phase!=Succeeded,status.phase!=Failed"
PAGE = 500
WATCH_SECONDS = 300


class Gone(Exception):
    """The watch's resourceVersion is too old (410): relist."""


Listener = Callable[[str, dict[str, Any]], None]


class PodCache:
    def __init__(
        self,
        list_pods: Callable[..., Any],
        meter: Any,
        *,
        timeout: float = 30,
        listener: Listener | None = None,
    ) -> None:
        """``list_pods``: CoreV1Api.list_pod_for_all_namespaces; ``meter``: an ApiUsage;
        ``listener(kind, pod JSON)``: told of every pod listed (kind SYNC) or watched."""
        self._list = list_pods
        self._listener = listener
        self._meter = meter
        self._timeout = timeout
        self._lock = threading.Lock()
        self._pods: dict[str, PodInfo] = {}  # by uid
        self._by_node: dict[str, dict[str, PodInfo]] = {}
        self._stop = threading.Event()
        self.synced = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pod-cache", daemon=True)

    def start(self) -> PodCache:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching. The reading thread is a daemon blocked in a socket read: closing an
        SSL socket under it from here would block, so it is left to end with the process (or
        with its watch's timeout)."""
        self._stop.set()
        self.synced.clear()
        self._thread.join(timeout=0.5)

    def pods_on(self, nodes: Sequence[str]) -> dict[str, list[PodInfo]] | None:
        if not self.synced.is_set():
            return None
        with self._lock:
            return {n: list(self._by_node.get(n, {}).values()) for n in nodes}

    def __len__(self) -> int:
        with self._lock:
            return len(self._pods)

    def _run(self) -> None:
        backoff = 1.0
        while not self._stop.is_set():
            try:
                version = self._relist()
                backoff = 1.0
                while not self._stop.is_set():
                    version = self._watch(version)
            except Gone:
                logger.info("pod cache: watch expired, relisting")
            except Exception as error:
                if self._stop.is_set():
                    break
                logger.warning("pod cache: %s; relisting in %.0fs", error, backoff)
                self.synced.clear()
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 30.0)
        self.synced.clear()

    def _relist(self) -> str:
        items: list[dict[str, Any]] = []
        token: str | None = None
        while True:
            kwargs: dict[str, Any] = {"field_selector": SELECTOR, "limit": PAGE}
            if token:
                kwargs["_continue"] = token
            response = self._list(**kwargs, _preload_content=False, _request_timeout=self._timeout)
            data = response.data
            self._meter.add(len(data))
            body = json.loads(data)
            items.extend(body["items"])
            token = body["metadata"].get("continue")
            if not token:
                break
        self._replace((item["metadata"]["uid"], objects.pod(item)) for item in items)
        for item in items:
            self._tell("SYNC", item)
        self.synced.set()
        logger.info("pod cache: %s bound pods listed", len(items))
        return str(body["metadata"]["resourceVersion"])

    def _watch(self, version: str) -> str:
        response = self._list(
            field_selector=SELECTOR,
            watch=True,
            resource_version=version,
            allow_watch_bookmarks=True,
            timeout_seconds=WATCH_SECONDS,
            _preload_content=False,
            _request_timeout=(self._timeout, WATCH_SECONDS + 30),
        )
        self._meter.add(0)
        try:
            for line in response:
                if not line.strip():
                    continue
                self._meter.add_bytes(len(line))
                version = self._apply(json.loads(line), version)
        finally:
            response.release_conn()
        return version

    def _apply(self, event: dict[str, Any], version: str) -> str:
        kind, body = event.get("type"), event.get("object") or {}
        if kind == "ERROR":
            if body.get("code") == 410:
                raise Gone()
            raise RuntimeError(f"watch error: {body.get('message')}")
        metadata = body.get("metadata") or {}
        uid = metadata.get("uid", "")
        if kind in ("ADDED", "MODIFIED", "DELETED"):
            self._tell(str(kind), body)
        if kind in ("ADDED", "MODIFIED"):
            pod = objects.pod(body)
            with self._lock:
                self._remove(uid)
                if not pod.terminated and pod.node:
                    self._add(uid, pod)
        elif kind == "DELETED":
            with self._lock:
                self._remove(uid)
        return str(metadata.get("resourceVersion") or version)

    def _tell(self, kind: str, body: dict[str, Any]) -> None:
        if self._listener is None:
            return
        try:
            self._listener(kind, body)
        except Exception:  # a listener's bug must not stop the watch
            logger.exception("pod cache: listener failed")

    def _replace(self, pods: Iterable[tuple[str, PodInfo]]) -> None:
        with self._lock:
            self._pods, self._by_node = {}, {}
            for uid, pod in pods:
                if pod.node:
                    self._add(uid, pod)

    def _add(self, uid: str, pod: PodInfo) -> None:
        self._pods[uid] = pod
        self._by_node.setdefault(pod.node or "", {})[uid] = pod

    def _remove(self, uid: str) -> None:
        old = self._pods.pop(uid, None)
        if old is not None:
            on_node = self._by_node.get(old.node or "", {})
            on_node.pop(uid, None)
            if not on_node:
                self._by_node.pop(old.node or "", None)


__all__ = ["PodCache"]
