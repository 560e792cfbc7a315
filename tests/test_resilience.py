"""Resilience branches that run in this process, each reached by injecting its fault.

The elector's campaign thread survives a failing step and a release that cannot reach the API
leaves the Lease to expire; the feed refresher survives its own loop error; the CapacityBuffer
backend turns a bug of one pool into that pool's error. (The worker processes and the pod
cache's back-off: tests/test_resilience_slow.py; the Lease and report store on the real API:
tests/cluster/test_resilience_api.py.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from node_placeholder_scaler.config.sections import LeaderElectionSettings
from node_placeholder_scaler.feeds import book as feeds
from node_placeholder_scaler.feeds.book import CalendarBook, FeedRefresher
from node_placeholder_scaler.feeds.worker import Job, Outcome
from node_placeholder_scaler.leadership import Elector
from node_placeholder_scaler.port import LeaseRecord
from testkit.buffer_pools import fake_with, plan, run
from testkit.fake_stores import Clock, MemoryLease, replica
from testkit.fakes import FakeCluster
from testkit.unit import FIXTURES, make_settings, utc
from testkit.worker import run_in_process

NOW = utc("2026-03-02T08:00")
FAST = LeaderElectionSettings(
    "nps", timedelta(seconds=4), timedelta(seconds=3), timedelta(milliseconds=20)
)


def eventually(condition: Callable[[], bool], seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


# --- the elector --------------------------------------------------------------------------


@dataclass
class BrokenOnce(MemoryLease):
    """A Lease store whose first read fails with a bug (not an API error)."""

    broken: int = 1

    def get(self) -> LeaseRecord | None:
        if self.broken:
            self.broken -= 1
            raise RuntimeError("a bug in the store")
        return super().get()


def test_the_campaign_thread_survives_a_failing_step(caplog: pytest.LogCaptureFixture) -> None:
    lease = BrokenOnce()
    elector = Elector(lease, "a", FAST).start()
    try:
        assert eventually(elector.is_leader), "the campaign ended with its first step"
    finally:
        elector.stop(release=True)
    failed = [r for r in caplog.records if r.getMessage() == "leader election step failed"]
    assert len(failed) == 1 and failed[0].exc_info is not None
    assert isinstance(failed[0].exc_info[1], RuntimeError)
    assert lease.record is not None and lease.record.holder is None  # released at the stop


def test_a_release_that_cannot_reach_the_api_leaves_the_lease_to_expire(
    caplog: pytest.LogCaptureFixture,
) -> None:
    lease, clock = MemoryLease(), Clock()
    a, b = replica("a", lease, clock), replica("b", lease, clock)
    a.step()
    b.step()
    lease.down = True
    a.stop(release=True)  # no exception: the shutdown goes on
    assert not a.is_leader()  # it stops writing although the Lease still names it
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "lease test/lease: could not release: get lease test/lease: no answer (MaxRetryError)"
    ], warnings
    lease.down = False
    assert lease.record is not None and lease.record.holder == "a"
    clock.now += 2  # the standby's next retry: the Lease was not handed over
    b.step()
    assert not b.is_leader()
    clock.now += 14  # the lease duration (15 s) after b first saw a's last write
    b.step()
    assert b.is_leader() and lease.record.holder == "b"


# --- the feed refresher -------------------------------------------------------------------


def test_the_refresher_goes_on_after_an_error_of_its_own(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(feeds, "TICK", 0.05)  # the look for due feeds after a failed pass
    answers: list[Outcome | None] = [None]  # the first answer cannot be applied (a bug)

    def runner(job: Job, cancel: Any) -> Outcome:
        answer = answers.pop() if answers else run_in_process(job)
        return answer  # type: ignore[return-value]

    book = CalendarBook(
        make_settings(
            f"calendars: [{{name: courses, url: {FIXTURES / 'google.ics'}}}]\n"
            f"pools: {{user: {{}}}}\n"
        ),
        runner,
    )
    refresher = FeedRefresher(book, lambda: NOW).start()
    try:
        assert eventually(lambda: book.feeds()[0].last_result == "ok"), book.statuses(NOW)
        assert refresher.alive
    finally:
        refresher.stop()
    errors = [
        r for r in caplog.records if r.getMessage() == "feed refresher: unexpected error; going on"
    ]
    assert len(errors) == 1 and errors[0].exc_info is not None
    assert isinstance(errors[0].exc_info[1], AttributeError)


# --- the CapacityBuffer backend -----------------------------------------------------------


@dataclass
class BuggyBuffers(FakeCluster):
    """Raises an exception that is no ClusterError (a bug) for one request on one buffer."""

    bug: tuple[str, str] = ("", "")

    def _request(self, request: str, key: str) -> None:
        if (request, key) == self.bug:
            raise KeyError(f"{request} {key}")
        super()._request(request, key)


def buggy(request: str, buffer: str) -> BuggyBuffers:
    base = fake_with(("karpenter-empty", 0), ("karpenter-empty", 0))
    return BuggyBuffers(buffers=base.buffers, bug=(request, f"{base.namespace}/{buffer}"))


def test_a_bug_reading_a_buffer_is_an_error_of_its_pool_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = buggy("get capacitybuffer", "buffer-user")
    decisions = run(fake, plan(user=2, gpu=1))
    user = decisions["user"]
    assert (user.action, user.stage) == ("error", "buffer")
    assert user.error == "KeyError: 'get capacitybuffer node-placeholder/buffer-user'"
    assert decisions["gpu"].action == "scaled" and fake.scales == [("buffer-gpu", 1)]
    logged = [r for r in caplog.records if "unexpected error" in r.getMessage()]
    assert [r.getMessage() for r in logged] == ["pool=user stage=buffer unexpected error"]
    assert logged[0].exc_info is not None


def test_a_bug_in_the_event_keeps_the_scale_and_names_the_event(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = buggy("create event", "buffer-user")
    user = run(fake, plan(user=2))["user"]
    assert (user.action, user.desired, user.stage) == ("scaled", 2, "event")
    assert user.event_error == "KeyError: 'create event node-placeholder/buffer-user'"
    assert fake.scales == [("buffer-user", 2)]
    assert [r.getMessage() for r in caplog.records if "unexpected" in r.getMessage()] == [
        "pool=user stage=event unexpected error"
    ]
