"""The running controller's upcoming problems: told once (log, Event), counted by the leader
alone, on a real feed file read by the real CalendarBook; Events go to an in-memory recorder
of our own interface (the test cluster test covers the API server)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.feeds.book import CalendarBook, expansion_window, load_once
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.problems import watch as problemwatch
from node_placeholder_scaler.problems.upcoming import UpcomingProblem, upcoming, window
from node_placeholder_scaler.problems.watch import ProblemWatch
from node_placeholder_scaler.reasons import CALENDAR_PROBLEM
from node_placeholder_scaler.subjects import Subject
from testkit import calendar_problems
from testkit.worker import run_in_process

NOW = datetime.now(UTC).replace(microsecond=0)
UPCOMING = "node_placeholder_upcoming_problems"


@dataclass
class Recorder:
    events: list[tuple[str, Subject, str, str, bool]] = field(default_factory=list)
    fail: bool = False

    def record_about(
        self,
        namespace: str,
        subject: Subject,
        reason: str,
        message: str,
        now: datetime,
        *,
        warning: bool = False,
    ) -> None:
        if self.fail:
            raise RuntimeError("API server away")
        self.events.append((namespace, subject, reason, message, warning))


def upcoming_of(book: CalendarBook) -> Callable[[datetime], tuple[UpcomingProblem, ...]]:
    """The problems the controller watches: the book's views over the default window."""
    return lambda now: upcoming(book.views(now), *window(now), book.settings)


def _book(tmp_path: Path, *, fixed: bool = False) -> CalendarBook:
    feed = tmp_path / "course.ics"
    feed.write_bytes(calendar_problems.feed(NOW, fixed=fixed))
    settings = load_settings(
        f"calendars: [{{name: course, url: {feed}}}]\n"
        "pools: {user: {}, gpu: {backend: capacityBuffer}}\n",
        str(tmp_path / "c.yaml"),
        {},
    )
    return load_once(settings, NOW, expansion_window(settings, NOW, NOW), runner=run_in_process)


def _watch(book: CalendarBook, events: Recorder) -> tuple[ProblemWatch, Metrics]:
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(list(book.settings.pools), ["course"])
    return ProblemWatch(
        book.settings, upcoming_of(book), metrics, events=events, namespace="ns"
    ), metrics


def _gauge(metrics: Metrics, kind: str) -> float | None:
    return metrics.registry.get_sample_value(UPCOMING, {"calendar": "course", "kind": kind})


def test_the_leader_tells_each_problem_once(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, "node_placeholder_scaler.problems.watch")
    events = Recorder()
    watch, metrics = _watch(_book(tmp_path), events)
    for _ in range(3):
        watch.round(NOW, leading=True)
    assert len(watch.current) == len(calendar_problems.NEAR_MISSES)
    assert [p.suggestion for p in watch.current] == ["user: 3"] * 6
    lines = [r.getMessage() for r in caplog.records]
    assert len(lines) == 6 and all("calendar=course" in line for line in lines)
    assert "event='Lab 1'" in lines[0] and "line='usr: 3' suggestion=user: 3" in lines[0]
    assert str(tmp_path) not in "\n".join(lines)  # never the feed's address
    assert len(events.events) == 6
    namespace, subject, reason, message, warning = events.events[0]
    assert (namespace, subject, reason, warning) == (
        "ns",
        Subject("apps/v1", "Deployment", "placeholder-user"),
        CALENDAR_PROBLEM.name,
        True,
    )
    assert "event 'Lab 1' on " in message and "did you mean `user: 3`?" in message
    assert (
        _gauge(metrics, "unknown-pool"),
        _gauge(metrics, "near-miss"),
        _gauge(metrics, "bad-value"),
        _gauge(metrics, "bad-lead"),
    ) == (2, 2, 2, 0)


def test_fixed_problems_clear_the_gauge_and_a_return_is_told_again(tmp_path) -> None:
    events = Recorder()
    watch, metrics = _watch(_book(tmp_path), events)
    watch.round(NOW, leading=True)
    watch.source = upcoming_of(_book(tmp_path, fixed=True))
    watch.round(NOW, leading=True)
    assert watch.current == () and _gauge(metrics, "unknown-pool") == 0
    watch.source = upcoming_of(_book(tmp_path))
    watch.round(NOW, leading=True)
    assert len(events.events) == 12


def test_a_standby_keeps_the_list_but_tells_and_counts_nothing(tmp_path, caplog) -> None:
    caplog.set_level(logging.WARNING, "node_placeholder_scaler.problems.watch")
    events = Recorder()
    watch, metrics = _watch(_book(tmp_path), events)
    metrics.forget_calendar()  # what the loop does for a standby
    watch.round(NOW, leading=False)
    assert len(watch.current) == 6
    assert (events.events, caplog.records, _gauge(metrics, "unknown-pool")) == ([], [], None)


def test_a_failed_event_is_counted_and_written_next_round(tmp_path) -> None:
    events = Recorder(fail=True)
    watch, metrics = _watch(_book(tmp_path), events)
    watch.round(NOW, leading=True)
    errors = metrics.registry.get_sample_value(
        "node_placeholder_errors_total", {"stage": "event", "pool": "user"}
    )
    assert errors == 6 and events.events == []
    events.fail = False
    watch.round(NOW, leading=True)
    assert len(events.events) == 6


@pytest.mark.parametrize(
    ("pool", "subject"),
    [
        ("user", Subject("apps/v1", "Deployment", "placeholder-user")),
        ("gpu", Subject("autoscaling.x-k8s.io/v1beta1", "CapacityBuffer", "buffer-gpu")),
        (None, Subject("coordination.k8s.io/v1", "Lease", "node-placeholder-scaler")),
    ],
)
def test_the_object_an_event_is_about(tmp_path, pool: str | None, subject: Subject) -> None:
    watch, _ = _watch(_book(tmp_path), Recorder())
    assert watch.subject(pool) == subject


def test_a_burst_is_told_over_several_rounds(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(problemwatch, "MAX_PER_ROUND", 4)
    events = Recorder()
    watch, _ = _watch(_book(tmp_path), events)
    watch.round(NOW, leading=True)
    assert len(events.events) == 4
    watch.round(NOW, leading=True)
    watch.round(NOW, leading=True)
    assert len(events.events) == 6
