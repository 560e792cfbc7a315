"""Feeds over real HTTP on loopback: conditional GET, caps, failures, last good copy."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta

import pytest

from node_placeholder_scaler.config.settings import ConfigError
from node_placeholder_scaler.feeds.book import CalendarBook
from node_placeholder_scaler.planning import plan as plan_at
from testkit.feedserver import FeedServer
from testkit.unit import FIXTURES, make_settings, utc

GOOGLE = (FIXTURES / "google.ics").read_bytes()


@pytest.fixture()
def server() -> Iterator[FeedServer]:
    with FeedServer(GOOGLE) as feed:
        yield feed


def config(url: str, extra: str = "") -> str:
    calendars = f"calendars: [{{name: courses, url: '{url}'}}]\n"
    return calendars + "pools: {user: {}, gpu: {}}\n" + extra


def test_conditional_get_and_no_reparse(server):
    book = CalendarBook(make_settings(config(server.url)))
    book.refresh(utc("2026-03-02T00:00"))
    first = book.feeds()[0].copy
    assert book.feeds()[0].last_result == "ok"
    book.refresh(utc("2026-03-02T00:01"))  # not due yet (5m)
    assert len(server.requests) == 1
    book.refresh(utc("2026-03-02T00:06"))
    assert server.requests[-1]["If-None-Match"] == '"v1"'
    assert book.feeds()[0].last_result == "not-modified"
    copy = book.feeds()[0].copy
    assert first is not None and copy is not None
    assert copy.calendar is first.calendar  # not parsed again
    at = utc("2026-03-02T16:55")
    assert plan_at(book.views(at), book.settings, at).pools["user"].target == 3


def test_failure_keeps_last_good_copy_until_max_staleness(server):
    book = CalendarBook(make_settings(config(server.url, "maxStaleness: 1h\n")))
    book.refresh(utc("2026-03-02T16:00"))
    server.status = 500
    book.refresh(utc("2026-03-02T16:50"))
    plan = plan_at(book.views(utc("2026-03-02T16:55")), book.settings, utc("2026-03-02T16:55"))
    assert plan.pools["user"].target == 3 and plan.pools["user"].known
    assert [p.kind for p in plan.problems] == ["feed-error"]
    assert "HTTP 500" in plan.problems[0].message
    later = plan_at(book.views(utc("2026-03-02T17:05")), book.settings, utc("2026-03-02T17:05"))
    assert not later.pools["user"].known  # older than maxStaleness: left alone


def test_broken_feed_is_a_problem_not_an_exception(server):
    server.body = b"<html>Sign in to Google</html>"
    book = CalendarBook(make_settings(config(server.url)))
    book.refresh(utc("2026-03-02T16:00"))
    feed = book.feeds()[0]
    assert feed.last_result == "not-a-calendar" and feed.copy is None
    assert feed.last_error is not None and "Sign in" not in feed.last_error  # body not echoed
    plan = plan_at(book.views(utc("2026-03-02T16:55")), book.settings, utc("2026-03-02T16:55"))
    assert not plan.pools["user"].known
    assert plan.problems[0].kind == "feed-error"


def test_size_cap(server):
    server.body = GOOGLE * 2
    book = CalendarBook(make_settings(config(server.url, f"maxFeedBytes: {len(GOOGLE)}\n")))
    book.refresh(utc("2026-03-02T16:00"))
    assert book.feeds()[0].last_result == "too-large"


@pytest.mark.slow  # waits for the feed timeout
def test_timeout(server):
    server.delay = 2.0
    book = CalendarBook(make_settings(config(server.url, "feedTimeout: 1s\n")))
    book.refresh(utc("2026-03-02T16:00"))
    assert book.feeds()[0].last_result == "timeout"


def test_unreachable_and_missing_file():
    book = CalendarBook(
        make_settings(
            "calendars: [{name: a, url: 'http://127.0.0.1:9/x.ics'},"
            " {name: b, url: /nonexistent.ics}]\n"
            "pools: {user: {}}\n"
        )
    )
    book.refresh(utc("2026-03-02T16:00"))
    assert [f.last_result for f in book.feeds()] == ["network-error", "file-error"]


def test_url_is_never_logged_whole(server, caplog):
    caplog.set_level(logging.DEBUG)
    server.status = 404
    book = CalendarBook(make_settings(config(server.url)))
    book.refresh(utc("2026-03-02T16:00"))
    assert "s3cr3t" not in caplog.text
    assert "127.0.0.1" in caplog.text
    at = utc("2026-03-02T16:00")
    assert "s3cr3t" not in str(plan_at(book.views(at), book.settings, at).problems)


def test_refresh_interval_is_respected(server):
    book = CalendarBook(make_settings(config(server.url, "calendarRefreshInterval: 1m\n")))
    start = utc("2026-03-02T16:00")
    for second in range(0, 300, 30):
        book.refresh(start + timedelta(seconds=second))
    assert len(server.requests) == 5


def test_url_from_file_is_read_again_at_every_refresh(tmp_path, server):
    """A rotated Secret (the mounted file changes) is used at the next refresh, no restart;
    an unreadable or wrong file is a feed problem that never shows the address."""
    address = tmp_path / "calendar-0-url"
    address.write_text("http://127.0.0.1:9/nothing-listens-here.ics\n")
    text = f"calendars: [{{name: courses, urlFromFile: '{address}'}}]\npools: {{user: {{}}}}\n"
    book = CalendarBook(make_settings(text))
    book.refresh(utc("2026-03-02T16:00"))
    assert book.feeds()[0].last_result == "network-error"
    address.write_text(server.url + "\n")  # the Secret rotated
    book.refresh(utc("2026-03-02T16:06"))
    assert book.feeds()[0].last_result == "ok" and len(server.requests) == 1
    at = utc("2026-03-02T16:55")
    assert plan_at(book.views(at), book.settings, at).pools["user"].target == 3
    address.write_text("htps://typo.example.org/private-secret.ics")
    book.refresh(utc("2026-03-02T16:12"))
    feed = book.feeds()[0]
    assert feed.last_result == "bad-url" and feed.copy is not None  # the good copy is kept
    assert feed.last_error is not None and "private-secret" not in feed.last_error
    assert str(address) in feed.last_error
    address.unlink()
    book.refresh(utc("2026-03-02T16:18"))
    assert book.feeds()[0].last_result == "file-error"
    assert "cannot read the feed address" in (book.feeds()[0].last_error or "")


def test_url_from_file_is_one_of_the_three_ways(tmp_path):
    text = "calendars: [{url: 'https://a.example/x.ics', urlFromFile: /x}]\npools: {user: {}}\n"
    with pytest.raises(ConfigError, match="exactly one of url, urlFromEnv and urlFromFile"):
        make_settings(text)
