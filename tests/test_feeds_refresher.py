"""Feeds off the critical path: the background refresher, re-expansion, the Planner adapter.

Real loopback servers and the real bounded worker; the controller's rounds run against the
in-memory cluster fake while a feed server trickles.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.feeds.book import CalendarBook, FeedRefresher
from node_placeholder_scaler.feeds.types import FetchResult
from node_placeholder_scaler.loop import BookPlanner, Controller
from node_placeholder_scaler.metrics import FETCH_RESULTS, Metrics
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.planning import plan as plan_at
from node_placeholder_scaler.server import Health
from testkit.fakes import GI, T0, FakeCluster, FakeDeployment
from testkit.hostile_feed import HostileFeedServer
from testkit.ics import Event, calendar
from testkit.unit import make_settings, utc

pytestmark = pytest.mark.slow  # the refresher's worker processes and real intervals

NOW = utc("2026-03-02T08:00")
EVENT = utc("2026-03-02T08:55")


def two_feeds(hostile: HostileFeedServer, slow: str = "trickle") -> str:
    return (
        f"feedTimeout: 3s\ncalendars: [{{name: good, url: '{hostile.url('ok')}'}},"
        f" {{name: slow, url: '{hostile.url(slow)}'}}]\n"
        "pools: {user: {nodeSelector: {pool: user}}}\n"
    )


def wait_for(condition, seconds: float = 20.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return False


def test_a_plan_is_read_while_a_feed_is_still_refreshing(hostile):
    book = CalendarBook(make_settings(two_feeds(hostile)))
    refresher = FeedRefresher(book, lambda: NOW).start()
    try:
        assert wait_for(lambda: book.feeds()[0].copy is not None)
        # meanwhile the worker of "slow" is trickling
        plan = plan_at(book.views(NOW), book.settings, EVENT)
        slow = book.feeds()[1]
        assert (plan.pools["user"].target, slow.last_attempt) == (3, None)
        assert wait_for(refresher.loaded.is_set)
        assert book.feeds()[1].last_result == "timeout"
    finally:
        refresher.stop()
    assert not refresher.alive


def test_stop_kills_the_running_worker(hostile):
    slow = two_feeds(hostile).replace("feedTimeout: 3s", "feedTimeout: 60s")
    book = CalendarBook(make_settings(slow))
    trickles = hostile.counts.get("trickle", 0)
    refresher = FeedRefresher(book, lambda: NOW).start()
    # the slow feed's worker is running once its request reaches the server (a copy of the
    # good feed alone left a window in which stop() came before that worker started)
    running = wait_for(lambda: hostile.counts.get("trickle", 0) > trickles)
    refresher.stop()
    assert running, "the slow feed's worker never sent its request"
    assert not refresher.alive
    assert book.feeds()[1].last_error == "the refresh was cancelled (stopping)"


def test_controller_rounds_go_on_while_a_feed_trickles(hostile):
    settings = make_settings(two_feeds(hostile))
    fake = FakeCluster(
        namespace="np",
        deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))},
    )
    planner = BookPlanner(settings, clock=lambda: EVENT)
    controller = Controller(
        settings,
        fake,
        fake,
        planner,
        Metrics(CollectorRegistry()),
        Health(settings.interval, T0),
        "np",
        clock=lambda: EVENT,
    )
    planner.start(wait=0)
    try:
        assert wait_for(lambda: planner.book.feeds()[0].copy is not None)
        results = [controller.round() for _ in range(3)]  # the slow feed is still refreshing
        assert planner.book.feeds()[1].last_attempt is None
    finally:
        planner.stop()
    assert all(r is not None for r in results)
    assert fake.deployments["placeholder-user"].replicas == 3


def test_reexpands_stored_bytes_without_a_fetch(hostile):
    body = (
        f"calendarRefreshInterval: 400d\ncalendars: [{{name: c, url: '{hostile.url('ok')}'}}]"
        "\npools: {user: {}}\n"
    )
    book = CalendarBook(make_settings(body))
    book.refresh(NOW)
    copy = book.feeds()[0].copy
    assert copy is not None
    fetched = hostile.counter
    later = NOW + timedelta(days=20)
    assert book.copy_too_short(book.feeds()[0], later)
    book.refresh(later)
    again = book.feeds()[0].copy
    assert again is not None and hostile.counter == fetched  # no request to the server
    assert again.calendar.window[0] > copy.calendar.window[0]
    assert (again.success, book.feeds()[0].last_result) == (copy.success, "ok")


def test_book_planner_adapts_the_calendar_book(tmp_path):
    ics = tmp_path / "c.ics"
    start = datetime(2026, 11, 23, 8, 55, tzinfo=UTC)
    ics.write_bytes(calendar([Event("Data 8 final", start, start.replace(hour=10), "user: 3")]))
    settings = load_settings(
        f"calendars: [{{name: c, url: {ics}}}]\npools: {{user: {{nodeSelector: {{p: u}}}}}}\n",
        "config.yaml",
        {},
    )
    planner = BookPlanner(settings, clock=lambda: T0)
    assert not planner.plan(T0).pools["user"].known  # nothing fetched yet
    planner.start(wait=30)
    planner.stop()
    target = planner.plan(T0).pools["user"]
    assert (target.target, target.known, target.event_names) == (3, True, ("Data 8 final",))
    (feed,) = planner.feeds(T0)
    assert (feed.name, feed.ok, feed.last_result, feed.last_attempt) == ("c", True, "ok", T0)


def test_every_fetch_result_is_a_precreated_metric() -> None:
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["courses"])
    assert set(FETCH_RESULTS) == {r.value for r in FetchResult}
    for result in FetchResult:
        assert (
            metrics.registry.get_sample_value(
                "node_placeholder_feed_fetches_total",
                {"calendar": "courses", "result": result.value},
            )
            == 0
        )


def test_refresher_survives_a_bug_in_a_refresh(hostile):
    calls = []

    def broken(job, cancel):
        calls.append(job.name)
        raise RuntimeError("boom")

    book = CalendarBook(make_settings(two_feeds(hostile)), runner=broken)
    refresher = FeedRefresher(book, lambda: NOW).start()
    try:
        assert wait_for(refresher.loaded.is_set)
    finally:
        refresher.stop()
    assert calls == ["good", "slow"] and not refresher.alive
    assert [f.last_result for f in book.feeds()] == ["worker-error", "worker-error"]
    assert book.feeds()[0].last_error == "the feed worker could not run (RuntimeError)"
