"""Every hostile feed server scenario against the real bounded worker on loopback.

Each refresh runs in the worker process exactly as in the controller. The checks are the
result label, the message a user sees, the last good copy, and that the secret in the URL
never reaches a log line, a message, a problem or the metrics.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest
from prometheus_client import generate_latest

from node_placeholder_scaler.config.settings import ConfigError
from node_placeholder_scaler.feeds.book import CalendarBook, load_once
from node_placeholder_scaler.feeds.types import FetchResult
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.planning import plan as plan_at
from testkit.feed_files import ordinary_calendar, special_files
from testkit.hostile_feed import SECRET
from testkit.unit import make_settings, utc

pytestmark = pytest.mark.slow  # hostile loopback servers with real deadlines

NOW = utc("2026-03-02T08:00")
EVENT = utc("2026-03-02T08:55")


def book_on(url: str, extra: str = "") -> CalendarBook:
    return CalendarBook(
        make_settings(
            f"feedTimeout: 2s\ncalendars: [{{name: courses, url: '{url}'}}]\n"
            f"pools: {{user: {{}}}}\n{extra}"
        )
    )


def once(url: str, extra: str = "") -> tuple[CalendarBook, str, str | None]:
    book = book_on(url, extra)
    book.refresh(NOW, force=True)
    (status,) = book.statuses(NOW)
    return book, status.last_result, status.last_error


def leaked(book: CalendarBook, caplog: pytest.LogCaptureFixture) -> list[str]:
    """Every place a secret could reach: logs, errors, problems, metrics."""
    metrics = Metrics()
    metrics.initialise(["user"], ["courses"])
    metrics.observe_feeds(book.statuses(NOW))
    texts = {
        "logs": caplog.text,
        "statuses": repr(book.statuses(NOW)),
        "problems": repr(plan_at(book.views(NOW), book.settings, EVENT).problems),
        "metrics": generate_latest(metrics.registry).decode(),
    }
    return [where for where, text in texts.items() if SECRET in text]


@pytest.mark.parametrize(
    ("scenario", "result", "says"),
    [
        ("trickle", FetchResult.TIMEOUT, "feedTimeout"),
        ("trickle-no-length", FetchResult.TIMEOUT, "feedTimeout"),
        ("drip-headers", FetchResult.TIMEOUT, "feedTimeout"),
        ("continue-flood", FetchResult.TIMEOUT, "feedTimeout"),
        ("huge", FetchResult.TOO_LARGE, "maxFeedBytes"),
        ("gzip-bomb", FetchResult.TOO_LARGE, "maxFeedBytes"),
        ("redirect-loop", FetchResult.BAD_REDIRECT, "more than 5 redirects"),
        ("redirect-other-host", FetchResult.BAD_REDIRECT, "another host (localhost)"),
        ("redirect-to-file", FetchResult.BAD_REDIRECT, "non-http Location"),
        ("redirect-bad-ipv6", FetchResult.BAD_REDIRECT, "malformed"),
        ("redirect-bad-port", FetchResult.BAD_REDIRECT, "malformed"),
        ("redirect-empty", FetchResult.BAD_REDIRECT, "malformed"),
        ("redirect-to-error", FetchResult.HTTP_ERROR, "HTTP 403 Forbidden"),
        ("html-login", FetchResult.NOT_A_CALENDAR, "an HTML page (a login page?"),
        ("binary", FetchResult.NOT_A_CALENDAR, "does not start with BEGIN:VCALENDAR"),
        ("not-modified", FetchResult.HTTP_ERROR, "304 Not Modified to a request without"),
        ("secret-reason", FetchResult.HTTP_ERROR, "HTTP 403 Forbidden"),
        ("reset", FetchResult.NETWORK_ERROR, "the server"),  # reset by / closed the connection
    ],
)
def test_hostile_server_is_a_clear_problem(hostile, caplog, scenario, result, says):
    caplog.set_level(logging.DEBUG)
    extra = "maxFeedBytes: 65536\n" if scenario in ("huge", "gzip-bomb") else ""
    book, got, error = once(hostile.url(scenario), extra)
    assert (got, says in (error or "")) == (result.value, True), error
    (status,) = book.statuses(NOW)
    assert not status.ok  # no copy: feed_up 0, its pools are left as they are
    plan = plan_at(book.views(NOW), book.settings, EVENT)
    assert not plan.pools["user"].known
    assert [p.kind for p in plan.problems] == ["feed-error"]
    assert leaked(book, caplog) == []


def test_redirect_on_the_same_host_is_followed(hostile):
    book, result, error = once(hostile.url("redirect-ok"))
    assert (result, error) == ("ok", None)
    assert plan_at(book.views(NOW), book.settings, EVENT).pools["user"].target == 3


@pytest.mark.parametrize("mode", ["trickle", "redirect-other-host", "html-login", "gzip-bomb"])
def test_failure_after_a_good_copy_keeps_it(hostile, caplog, mode):
    caplog.set_level(logging.DEBUG)
    hostile.mode = "ok"
    book = book_on(hostile.url("switch"), "feedTimeout: 1s\nmaxFeedBytes: 65536\n")
    book.refresh(NOW, force=True)
    hostile.mode = mode  # the same address now misbehaves
    later = NOW + timedelta(minutes=5)
    try:
        book.refresh(later, force=True)
    finally:
        hostile.mode = "ok"
    (status,) = book.statuses(later)
    assert status.last_result != "ok" and status.ok  # the copy is kept, feed_up stays 1
    plan = plan_at(book.views(later), book.settings, EVENT)
    assert plan.pools["user"].target == 3
    assert "using the copy from 300s ago" in plan.problems[0].message
    assert leaked(book, caplog) == []


def test_flapping_etag_with_the_same_bytes_is_not_parsed_again(hostile):
    book = book_on(hostile.url("flapping-etag"))
    book.refresh(NOW, force=True)
    first = book.feeds()[0].copy
    book.refresh(NOW + timedelta(minutes=5), force=True)
    feed = book.feeds()[0]
    assert feed.last_result == "unchanged"
    assert feed.copy is not None and first is not None
    assert feed.copy.calendar is first.calendar and feed.copy.success > first.success


def test_flapping_content_follows_the_server(hostile):
    book = book_on(hostile.url("flapping-content"))
    targets = []
    for minutes in (0, 5, 10):
        now = NOW + timedelta(minutes=minutes)
        book.refresh(now, force=True)
        target = plan_at(book.views(now), book.settings, EVENT).pools["user"].target
        targets.append((book.feeds()[0].last_result, target))
    assert [r for r, _ in targets] == ["ok", "ok", "ok"]
    assert {t for _, t in targets} == {3, 5}


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "directory"])
def test_special_files_do_not_block(tmp_path: Path, kind: str) -> None:
    path = special_files(tmp_path)[kind]
    _, result, error = once(path)
    assert result == "file-error" and error is not None
    assert "not a regular file" in error


@pytest.mark.parametrize(
    "url",
    [
        f"htps://calendar.google.com/calendar/ical/x/private-{SECRET}/basic.ics?token={SECRET}",
        f"ftp://example.org/private-{SECRET}/basic.ics",
    ],
)
def test_scheme_typo_is_not_a_file_path(url: str) -> None:
    # Refused when the configuration is loaded (settings classifies with urls.classify).
    with pytest.raises(ConfigError) as caught:
        book_on(url)
    assert "unsupported address scheme" in str(caught.value)
    assert SECRET not in str(caught.value)


def test_unreachable_host_names_the_cause_not_the_url(caplog):
    caplog.set_level(logging.DEBUG)
    book, result, error = once(f"http://127.0.0.1:9/private-{SECRET}/basic.ics")
    assert (result, error) == ("network-error", "connection refused")
    assert leaked(book, caplog) == []


def test_load_once_is_the_bounded_path(hostile):
    settings = make_settings(
        f"feedTimeout: 1s\ncalendars: [{{name: a, url: '{hostile.url('trickle')}'}},"
        f" {{name: b, url: '{hostile.url('ok')}'}}]\npools: {{user: {{}}}}\n"
    )
    book = load_once(settings, NOW, (NOW - timedelta(days=1), NOW + timedelta(days=30)))
    assert [s.last_result for s in book.statuses(NOW)] == ["timeout", "ok"]
    assert plan_at(book.views(NOW), book.settings, EVENT).pools["user"].target == 3


def test_worker_memory_cap_is_a_memory_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from node_placeholder_scaler.feeds import book as feeds

    big = tmp_path / "big.ics"
    big.write_bytes(ordinary_calendar(20_000))  # 4.6 MB: about 75 MiB to parse
    monkeypatch.setattr(feeds, "WORKER_BASE_BYTES", 0)
    monkeypatch.setattr(feeds, "WORKER_BYTES_PER_FEED_BYTE", 6)  # 60 MiB at 10 MiB
    _, result, error = once(str(big))
    assert result == "memory" and error is not None
    assert "memory" in error


def test_first_refresh_with_no_copy_is_not_silent(hostile):
    """The day-one outage: a 304 or an error before any good copy is a visible problem."""
    book, _, _ = once(hostile.url("not-modified"))
    plan = plan_at(book.views(NOW), book.settings, EVENT)
    assert "no usable copy" in plan.problems[0].message


def test_tls_to_a_plain_http_server_names_the_tls_error(hostile, caplog):
    caplog.set_level(logging.DEBUG)
    book, result, error = once(hostile.url("ok").replace("http://", "https://"))
    assert result == "network-error" and error is not None
    assert error.startswith("TLS error: "), error
    assert leaked(book, caplog) == []


def test_an_answer_over_the_cap_is_not_read(hostile, monkeypatch):
    """The controller reads at most MAX_ANSWER_BYTES of a worker's answer (its own memory)."""
    from node_placeholder_scaler.feeds import worker

    monkeypatch.setattr(worker, "MAX_ANSWER_BYTES", 512)  # smaller than any parsed calendar
    book, result, error = once(hostile.url("ok"))
    assert (result, error) == (
        "too-large",
        "the parsed calendar is over the controller's cap "
        "of 512 bytes (too many occurrences in the window)",
    )
    assert book.feeds()[0].copy is None
