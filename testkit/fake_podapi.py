"""The raw answers the pod cache (kube/podcache.py) reads: pod JSON and a LIST or WATCH
response as the kubernetes client hands it over with ``_preload_content=False``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any


def pod(uid: str, node: str, phase: str = "Running", cpu: str = "1") -> dict[str, Any]:
    """A bound pod's API JSON."""
    return {
        "metadata": {"name": f"p-{uid}", "namespace": "ns", "uid": uid, "resourceVersion": "9"},
        "spec": {"nodeName": node, "containers": [{"resources": {"requests": {"cpu": cpu}}}]},
        "status": {"phase": phase},
    }


class Response:
    """A LIST answer (``data``) or a WATCH stream (``lines``: one JSON event each)."""

    def __init__(self, data: bytes = b"", lines: list[dict[str, Any]] | None = None) -> None:
        self.data = data
        self.lines = [json.dumps(x).encode() + b"\n" for x in lines or []]

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.lines)

    def close(self) -> None:
        pass

    def release_conn(self) -> None:
        pass
