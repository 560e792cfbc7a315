"""kube/podcache.py: list + watch into an in-memory index, against a scripted fake API."""

from __future__ import annotations

import json
import threading
from typing import Any

from node_placeholder_scaler.kube import ApiUsage
from node_placeholder_scaler.kube.podcache import PodCache
from testkit.fake_podapi import Response, pod


class FakeApi:
    """Serves scripted LIST pages and WATCH streams; the last watch blocks until released."""

    def __init__(self, pages: list[list[dict[str, Any]]], watches: list[list[dict[str, Any]]]):
        self.pages, self.watches = pages, watches
        self.calls: list[dict[str, Any]] = []
        self.done = threading.Event()
        self.release = threading.Event()

    def __call__(self, **kwargs: Any) -> Response:
        self.calls.append(kwargs)
        if kwargs.get("watch"):
            if not self.watches:
                self.done.set()
                self.release.wait(5)
                return Response()
            return Response(lines=self.watches.pop(0))
        index = int(kwargs.get("_continue") or 0)
        page = self.pages[index]
        more = str(index + 1) if index + 1 < len(self.pages) else None
        meta = {"resourceVersion": "10", **({"continue": more} if more else {})}
        return Response(json.dumps({"items": page, "metadata": meta}).encode())


def run_until_idle(api: FakeApi) -> PodCache:
    cache = PodCache(api, ApiUsage()).start()
    assert api.done.wait(5)
    return cache


def test_pages_then_watch_events():
    api = FakeApi(
        pages=[[pod("a", "n1"), pod("b", "n1")], [pod("c", "n2")]],
        watches=[
            [
                {"type": "ADDED", "object": pod("d", "n2")},
                {"type": "MODIFIED", "object": pod("a", "n1", cpu="2")},
                {"type": "MODIFIED", "object": pod("b", "n1", phase="Succeeded")},
                {"type": "DELETED", "object": pod("c", "n2")},
                {"type": "BOOKMARK", "object": {"metadata": {"resourceVersion": "42"}}},
            ]
        ],
    )
    cache = run_until_idle(api)
    pods = cache.pods_on(["n1", "n2", "n3"])
    assert pods is not None
    assert {n: sorted(p.name for p in v) for n, v in pods.items()} == {
        "n1": ["p-a"],
        "n2": ["p-d"],
        "n3": [],
    }
    assert pods["n1"][0].requests.cpu_milli == 2000
    assert api.calls[1].get("_continue") == "1"
    assert api.calls[-1]["resource_version"] == "42"  # resumed from the bookmark
    api.release.set()
    cache.stop()


def test_gone_relists():
    api = FakeApi(
        pages=[[pod("a", "n1")]],
        watches=[[{"type": "ERROR", "object": {"code": 410, "message": "too old"}}]],
    )
    cache = run_until_idle(api)
    assert [bool(c.get("watch")) for c in api.calls] == [False, True, False, True]
    assert cache.pods_on(["n1"]) is not None
    api.release.set()
    cache.stop()


def test_not_synced_returns_none():
    cache = PodCache(FakeApi([[]], []), ApiUsage())
    assert cache.pods_on(["n1"]) is None
