"""Resilience branches that take real processes or real waits, each reached by its fault.

The feed worker (real forkserver children, a trickling loopback server): a frozen child is
killed at the wall deadline, a child killed from outside is a worker error, a MemoryError in
the child and an OOM kill are memory results. The pod cache (its list/watch function
scripted with the client's own exceptions): back-off doubling from 1 s and reset after a good
list, a resync that drops the pods deleted meanwhile, a non-410 watch error relists.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from node_placeholder_scaler.feeds.types import FetchResult
from node_placeholder_scaler.feeds.worker import Job, Outcome, run_bounded
from node_placeholder_scaler.kube import ApiUsage
from node_placeholder_scaler.kube.podcache import PodCache
from testkit.fake_podapi import Response, pod
from testkit.hostile_feed import HostileFeedServer

pytestmark = pytest.mark.slow  # real worker processes and real waits

NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)


def job(url: str, *, fetch: float = 30.0, memory: int = 160 << 20) -> Job:
    window = (NOW - timedelta(days=1), NOW + timedelta(days=30))
    return Job("courses", url, ".", ("user",), None, None, window, 1 << 20, fetch, 1.0, memory)


def in_thread(the_job: Job) -> tuple[threading.Thread, list[Outcome]]:
    answers: list[Outcome] = []
    thread = threading.Thread(target=lambda: answers.append(run_bounded(the_job)), daemon=True)
    thread.start()
    return thread, answers


def child_pid(seconds: float = 30.0) -> int:
    """The pid of the running feed worker (the parent knows its children)."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        children = [p for p in multiprocessing.active_children() if p.name.startswith("feed-")]
        if children and children[0].pid is not None:
            return children[0].pid
        time.sleep(0.01)
    raise AssertionError("no feed worker started")


def answer(thread: threading.Thread, answers: list[Outcome], seconds: float) -> Outcome:
    thread.join(seconds)
    assert not thread.is_alive(), f"no answer within {seconds} s"
    return answers[0]


def test_a_frozen_worker_is_killed_at_the_wall_deadline(hostile: HostileFeedServer) -> None:
    the_job = job(hostile.url("trickle"), fetch=1.0)
    started = time.monotonic()
    thread, answers = in_thread(the_job)
    os.kill(child_pid(), signal.SIGSTOP)  # it can answer nothing, not even its own timeout
    outcome = answer(thread, answers, the_job.wall_seconds + 60)
    assert (outcome.result, outcome.message) == (
        FetchResult.TIMEOUT,
        "the refresh did not finish within feedTimeout + the parse budget; the worker was killed",
    )
    assert time.monotonic() - started >= the_job.wall_seconds  # not before its deadline
    print(f"killed after {outcome.seconds:.2f} s (wall deadline {the_job.wall_seconds} s)")


def test_a_worker_killed_from_outside_is_a_worker_error(hostile: HostileFeedServer) -> None:
    thread, answers = in_thread(job(hostile.url("trickle")))
    os.kill(child_pid(), signal.SIGTERM)
    outcome = answer(thread, answers, 20)
    assert (outcome.result, outcome.message) == (
        FetchResult.WORKER_ERROR,
        "the worker ended without an answer (exit -15)",
    )


def test_a_memory_error_in_the_child_is_a_memory_result(fixtures: Any) -> None:
    """A cap below what the parse needs: the child's MemoryError is its answer."""
    outcome = run_bounded(job(str(fixtures / "google.ics"), memory=1 << 20))
    assert (outcome.result, outcome.message) == (
        FetchResult.MEMORY,
        "parsing needed more than the worker's memory cap (1 MiB)",
    )


def test_a_worker_killed_by_the_oom_killer_is_a_memory_result(hostile: HostileFeedServer) -> None:
    """The kernel's (or the container's) OOM killer sends SIGKILL: no answer, exit -9."""
    thread, answers = in_thread(job(hostile.url("trickle")))
    os.kill(child_pid(), signal.SIGKILL)
    outcome = answer(thread, answers, 20)
    assert (outcome.result, outcome.message) == (
        FetchResult.MEMORY,
        "the worker ran out of memory and was stopped",
    )


# --- the pod cache ------------------------------------------------------------------------


class ScriptedApi:
    """list_pod_for_all_namespaces answering from a script: an exception to raise, a LIST page
    (a list of pods) or a WATCH stream (a list of events); the last watch blocks until
    released. Each call notes when it came and whether the cache was in sync then."""

    def __init__(self, script: list[Any]) -> None:
        self.script = script
        self.calls: list[tuple[str, float, bool]] = []
        self.cache: PodCache | None = None
        self.idle, self.release = threading.Event(), threading.Event()

    def __call__(self, **kwargs: Any) -> Response:
        kind = "watch" if kwargs.get("watch") else "list"
        synced = self.cache is not None and self.cache.pods_on([]) is not None
        self.calls.append((kind, time.monotonic(), synced))
        if not self.script:
            self.idle.set()
            self.release.wait(10)
            return Response()
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        if kind == "watch":
            return Response(lines=step)
        meta = {"resourceVersion": "10"}
        return Response(json.dumps({"items": step, "metadata": meta}).encode())


def start(api: ScriptedApi) -> Callable[[], None]:
    api.cache = PodCache(api, ApiUsage())
    api.cache.start()
    assert api.idle.wait(30), api.calls

    def stop() -> None:
        api.release.set()
        assert api.cache is not None
        api.cache.stop()

    return stop


def test_the_pod_cache_backs_off_resyncs_and_relists_after_a_watch_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    refused = urllib3.exceptions.ProtocolError("Connection aborted.")
    unavailable = ApiException(status=503, reason="Service Unavailable")
    watch_error = {"type": "ERROR", "object": {"code": 500, "message": "etcd leader changed"}}
    api = ScriptedApi(
        [
            refused,
            unavailable,  # two failed lists: 1 s, then 2 s back-off
            [pod("a", "n1"), pod("b", "n1")],  # in sync
            [{"type": "ADDED", "object": pod("c", "n2")}, watch_error],
            [pod("b", "n1"), pod("c", "n2")],  # the resync: a was deleted meanwhile
        ]
    )
    stop = start(api)
    try:
        assert api.cache is not None
        pods = api.cache.pods_on(["n1", "n2"])
        assert pods is not None
        assert {n: [p.name for p in v] for n, v in pods.items()} == {"n1": ["p-b"], "n2": ["p-c"]}
    finally:
        stop()
    kinds = [(kind, synced) for kind, _, synced in api.calls]
    assert kinds == [
        ("list", False),
        ("list", False),
        ("list", False),
        ("watch", True),
        ("list", False),
        ("watch", True),
    ]  # out of sync while relisting
    times = [at for _, at, _ in api.calls]
    waits = [times[1] - times[0], times[2] - times[1], times[4] - times[3]]
    assert waits[0] >= 1.0 and waits[1] >= 2.0 and waits[2] >= 1.0, waits
    warnings = [
        r.getMessage()
        for r in caplog.records
        if r.name.endswith("podcache") and r.levelno == logging.WARNING
    ]
    assert warnings == [
        f"pod cache: {refused}; relisting in 1s",
        f"pod cache: {unavailable}; relisting in 2s",
        "pod cache: watch error: etcd leader changed; relisting in 1s",  # reset by the good list
    ], warnings
    print("back-off waits (s):", ", ".join(f"{w:.2f}" for w in waits))
