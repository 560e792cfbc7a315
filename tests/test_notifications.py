"""Webhook notifications against a real HTTP receiver on 127.0.0.1: the Slack and the JSON
body, retries after a failed delivery, a timeout, the hourly limit, and no secret anywhere."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.config.sections import NotifySettings
from node_placeholder_scaler.config.settings import ConfigError, load_settings
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import ProblemKind
from node_placeholder_scaler.problems.notifications import Notifier, notifier_for
from node_placeholder_scaler.problems.upcoming import UpcomingProblem
from node_placeholder_scaler.reports.record import EventReport, ReportAdvice, to_json
from testkit import webhook
from testkit.webhook import Receiver

PROBLEM = UpcomingProblem(
    calendar="courses",
    title="Lab 3",
    start=datetime(2026, 12, 9, 8, tzinfo=UTC),
    pool="user",
    kind=ProblemKind.UNKNOWN_POOL,
    line="usr: 3",
    suggestion="user: 3",
    message="'usr: 3': 'usr' is not a pool; did you mean `user: 3`?",
)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with webhook.receiver() as server:
        yield server


def _notifier(receiver: Receiver, **options: object) -> tuple[Notifier, Metrics]:
    metrics = Metrics(CollectorRegistry())
    settings = NotifySettings(url=receiver.url, **options)  # type: ignore[arg-type]
    return Notifier(settings, metrics, pause=0.05), metrics


def _count(metrics: Metrics, kind: str, result: str) -> float:
    value = metrics.registry.get_sample_value(
        "node_placeholder_notifications_total", {"kind": kind, "result": result}
    )
    return value or 0.0


def test_slack_body_for_a_new_problem(receiver: Receiver) -> None:
    notifier, metrics = _notifier(receiver)
    notifier.problem(PROBLEM)
    notifier.stop()
    (body,) = receiver.bodies
    assert set(body) == {"text"}
    assert body["text"] == (
        "Calendar problem in courses: event 'Lab 3' on 2026-12-09 08:00 "
        "UTC: 'usr: 3': 'usr' is not a pool; did you mean `user: 3`?"
    )
    assert _count(metrics, "problem", "sent") == 1


def test_json_body_for_a_problem_and_a_report(receiver: Receiver) -> None:
    notifier, _ = _notifier(receiver, format="json")
    notifier.problem(PROBLEM)
    start = datetime(2026, 12, 9, 8, tzinfo=UTC)
    sent = EventReport(
        "user", "c/lab", "Lab 3", start, start, arrivals=12, advice=ReportAdvice(nodes=3)
    )
    notifier.report("user", "12 arrivals, 0 waits", sent)
    notifier.stop()
    problem, report = receiver.bodies
    assert problem["type"] == "problem" and problem["problem"] == PROBLEM.as_dict()
    assert (report["type"], report["pool"], report["report"]) == ("report", "user", to_json(sent))
    assert (report["report"]["arrivals"], report["report"]["advice"]["nodes"]) == (12, 3)
    assert report["report"]["start"] == "2026-12-09T08:00:00+00:00"
    assert report["text"] == "Event report, pool user: 12 arrivals, 0 waits"


def test_a_failed_delivery_is_retried_then_given_up(receiver: Receiver, caplog) -> None:
    caplog.set_level(logging.WARNING, "node_placeholder_scaler.problems.notifications")
    receiver.answers = [500, 503]
    notifier, metrics = _notifier(receiver, retries=2)
    notifier.problem(PROBLEM)
    notifier.stop()
    assert len(receiver.bodies) == 3 and _count(metrics, "problem", "sent") == 1
    receiver.answers = [500, 500, 500]
    notifier, metrics = _notifier(receiver, retries=1)
    notifier.problem(PROBLEM)
    notifier.stop()
    assert _count(metrics, "problem", "failed") == 1 and len(receiver.bodies) == 5
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "attempt 2 failed (500)" in logged
    assert "SECRET" not in logged and "127.0.0.1" not in logged


def test_a_slow_receiver_costs_the_timeout_not_the_round(receiver: Receiver) -> None:
    receiver.delay = 1.0
    notifier, metrics = _notifier(receiver, timeout=timedelta(seconds=0.2), retries=0)
    notifier.problem(PROBLEM)  # returns at once: delivery is the notifier's thread's
    assert notifier.queue.qsize() <= 1
    notifier.stop(timeout=5)
    assert _count(metrics, "problem", "failed") == 1


def test_the_hourly_limit_drops_and_counts(receiver: Receiver) -> None:
    notifier, metrics = _notifier(receiver, max_per_hour=2)
    for _ in range(5):
        notifier.problem(PROBLEM)
    notifier.stop()
    assert len(receiver.bodies) == 2
    assert (_count(metrics, "problem", "sent"), _count(metrics, "problem", "dropped")) == (2, 3)


def test_off_by_default_and_the_url_comes_from_the_environment(receiver: Receiver) -> None:
    base = "calendars: [{url: a.ics}]\npools: {user: {}}\n"
    metrics = Metrics(CollectorRegistry())
    assert notifier_for(load_settings(base, "c.yaml", {}), metrics) is None
    settings = load_settings(
        base + "notifications: {urlFromEnv: HOOK}\n", "c.yaml", {"HOOK": receiver.url}
    )
    assert settings.notifications.url == receiver.url
    assert receiver.url not in repr(settings)
    notifier = notifier_for(settings, metrics)
    assert notifier is not None
    notifier.stop()
    for env, needle in (({}, "HOOK is not set"), ({"HOOK": "ftp://x"}, r"not an http\(s\) URL")):
        with pytest.raises(ConfigError, match=needle) as error:
            load_settings(base + "notifications: {urlFromEnv: HOOK}\n", "c.yaml", env)
        assert "ftp://x" not in str(error.value)
