"""The sections of the configuration file: ``headroom``, ``reports``, ``leaderElection``,
``notifications``.

Pure. Each section is its table of keys (the one declaration of each key, as config/settings.py's
TOP, POOL and CALENDAR are), the frozen dataclass the program uses (its defaults are the
table's) and the reader that turns a Reader of the top mapping into it. config/settings.py puts them
together into Settings; the chart's schema (testkit.chart_schema) and the generated
"Configuration" block derive from SECTION_TABLES.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal

from .configkeys import Key, Reader, default

Strategy = Literal["balanced", "cpu", "memory"]

HEADROOM: tuple[Key, ...] = (
    Key(
        "strategy",
        "choice",
        "balanced",
        "Which resources count as free room: balanced (cpu "
        "and memory, and GPU where requested), cpu or memory",
        choices=("balanced", "cpu", "memory"),
    ),
    Key(
        "threshold",
        "number",
        0.2,
        "A node counts as free room only above this free fraction",
        low=0,
        below=1,
    ),
    Key(
        "nodeGracePeriod",
        "duration",
        "10m",
        "A new node counts as free room only after this time (it may be about to fill up)",
    ),
)
REPORTS: tuple[Key, ...] = (
    Key(
        "waitTarget",
        "duration",
        "30s",
        "A user pod waiting longer counts as a wait to avoid; the advice keeps every wait under it",
        positive=True,
    ),
    Key(
        "settleTime",
        "duration",
        "5m",
        "The report is made this long after the event's end (late nodes and waits are in)",
    ),
    Key("retention", "integer", 20, "Reports kept per pool (in its ConfigMap)", low=1, high=200),
)
LEADER: tuple[Key, ...] = (
    Key(
        "leaseName",
        "dnslabel",
        "node-placeholder-scaler",
        "Name of the Lease the replicas "
        "elect their leader on, in the placeholders' namespace (the chart sets its full name)",
    ),
    Key(
        "leaseDuration",
        "duration",
        "15s",
        "A standby takes over when the Lease has not changed for this long",
        positive=True,
    ),
    Key(
        "renewDeadline",
        "duration",
        "10s",
        "The leader writes only while its last renewal "
        "started less than this long ago (shorter than leaseDuration)",
        positive=True,
    ),
    Key(
        "retryPeriod",
        "duration",
        "2s",
        "How often the leader renews and a standby tries "
        "(renewDeadline is longer than 1.2 x retryPeriod)",
        positive=True,
    ),
)
NOTIFY: tuple[Key, ...] = (
    Key(
        "urlFromEnv",
        "text",
        None,
        "The environment variable holding the webhook URL (a "
        "Secret: the URL is never logged); unset: no notifications",
    ),
    Key(
        "format",
        "choice",
        "slack",
        'Body: slack (a Slack-compatible {"text": ...} body) '
        "or json (the problem or report as fields)",
        choices=("slack", "json"),
    ),
    Key("timeout", "duration", "5s", "Time allowed for one delivery", positive=True),
    Key("retries", "integer", 2, "Further attempts after a failed delivery", low=0, high=5),
    Key(
        "maxPerHour",
        "integer",
        30,
        "Messages sent per hour at most (the rest are counted and dropped)",
        low=1,
        high=3600,
    ),
)
SECTION_TABLES: Mapping[str, tuple[Key, ...]] = {
    "headroom": HEADROOM,
    "reports": REPORTS,
    "leaderElection": LEADER,
    "notifications": NOTIFY,
}


_STRATEGY: Strategy = default(HEADROOM, "strategy")
_THRESHOLD: float = default(HEADROOM, "threshold")
_GRACE: timedelta = default(HEADROOM, "nodeGracePeriod")


@dataclass(frozen=True)
class HeadroomSettings:
    strategy: Strategy = _STRATEGY
    threshold: float = _THRESHOLD
    node_grace_period: timedelta = _GRACE


_WAIT_TARGET: timedelta = default(REPORTS, "waitTarget")
_SETTLE: timedelta = default(REPORTS, "settleTime")
_RETENTION: int = default(REPORTS, "retention")


@dataclass(frozen=True)
class ReportSettings:
    """The event reports (docs/operations/event-reports.md)."""

    wait_target: timedelta = _WAIT_TARGET
    settle: timedelta = _SETTLE
    retention: int = _RETENTION


RETRY_JITTER = 0.2  # standbys retry after retryPeriod x (1 + up to 20 %), as client-go does


_LEASE_NAME: str = default(LEADER, "leaseName")
_LEASE: timedelta = default(LEADER, "leaseDuration")
_RENEW: timedelta = default(LEADER, "renewDeadline")
_RETRY: timedelta = default(LEADER, "retryPeriod")


@dataclass(frozen=True)
class LeaderElectionSettings:
    """The Lease and its timing (docs/operations/high-availability.md); client-go's defaults."""

    lease_name: str = _LEASE_NAME
    lease_duration: timedelta = _LEASE
    renew_deadline: timedelta = _RENEW
    retry_period: timedelta = _RETRY


_FORMAT: Literal["slack", "json"] = default(NOTIFY, "format")
_TIMEOUT: timedelta = default(NOTIFY, "timeout")
_RETRIES: int = default(NOTIFY, "retries")
_PER_HOUR: int = default(NOTIFY, "maxPerHour")


@dataclass(frozen=True)
class NotifySettings:
    """The optional webhook (problems/notifications.py); ``url`` empty: off."""

    url: str = field(default="", repr=False)
    format: Literal["slack", "json"] = _FORMAT
    timeout: timedelta = _TIMEOUT
    retries: int = _RETRIES
    max_per_hour: int = _PER_HOUR


def read_notifications(top: Reader, environ: Mapping[str, str]) -> NotifySettings:
    reader = top.section("notifications", NOTIFY)
    name = reader.value("urlFromEnv")
    url = environ.get(name, "").strip() if name else ""
    if name and not url:
        raise reader.fail("urlFromEnv", f"environment variable {name} is not set")
    if url and not url.startswith(("http://", "https://")):
        raise reader.fail("urlFromEnv", f"environment variable {name} is not an http(s) URL")
    return NotifySettings(
        url=url,
        format=reader.value("format"),
        timeout=reader.value("timeout"),
        retries=reader.value("retries"),
        max_per_hour=reader.value("maxPerHour"),
    )


def read_headroom(top: Reader) -> HeadroomSettings:
    reader = top.section("headroom", HEADROOM)
    return HeadroomSettings(
        strategy=reader.value("strategy"),
        threshold=reader.value("threshold"),
        node_grace_period=reader.value("nodeGracePeriod"),
    )


def read_reports(top: Reader) -> ReportSettings:
    reader = top.section("reports", REPORTS)
    return ReportSettings(
        wait_target=reader.value("waitTarget"),
        settle=reader.value("settleTime"),
        retention=reader.value("retention"),
    )


def read_leader_election(top: Reader) -> LeaderElectionSettings:
    reader = top.section("leaderElection", LEADER)
    found = LeaderElectionSettings(
        lease_name=reader.value("leaseName"),
        lease_duration=reader.value("leaseDuration"),
        renew_deadline=reader.value("renewDeadline"),
        retry_period=reader.value("retryPeriod"),
    )
    if found.renew_deadline >= found.lease_duration:
        raise reader.fail(
            "renewDeadline",
            "must be shorter than leaseDuration (a leader that "
            "cannot renew must stop writing before a standby may take over)",
        )
    if found.renew_deadline <= found.retry_period * (1 + RETRY_JITTER):
        raise reader.fail("renewDeadline", "must be longer than 1.2 x retryPeriod")
    return found
