"""The configuration file -> one frozen, validated Settings object.

Pure: the caller reads the file and passes its text and the environment. Every error names
the file and the key (``config.yaml: pools.user.maxReplicas: ...``).

The tables below (TOP, POOL, CALENDAR; POOL takes its class-sized rows from config/seats.py)
and those of config/sections.py (HEADROOM, REPORTS, LEADER) are the one declaration of every
key: its name, kind, default and meaning. The reader, the dataclass defaults, the Helm chart's
``values.schema.json`` (tests/test_settings.py keeps it in step) and the generated page
docs/reference/configuration.md all derive from them. To add a key: a row in its table, its
use, a test, and `python -m testkit.docs_reference --write`.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from ..guardrails import Limits
from ..urls import UrlError, classify
from .configkeys import ConfigError, Key, Reader, load_yaml
from .seats import SEAT_KEYS, SeatSettings, read_seating
from .sections import (
    SECTION_TABLES,
    HeadroomSettings,
    LeaderElectionSettings,
    NotifySettings,
    ReportSettings,
    read_headroom,
    read_leader_election,
    read_notifications,
    read_reports,
)

__all__ = ["ConfigError", "Key", "Settings", "load_settings"]

Overlap = Literal["sum", "max"]
Backend = Literal["placeholders", "capacityBuffer"]
BACKENDS: tuple[Backend, ...] = ("placeholders", "capacityBuffer")

RESERVED_WORDS = frozenset({"lead"})
_POOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")

TOP: tuple[Key, ...] = (
    Key(
        "namespace",
        "text",
        None,
        "Where the placeholder Deployments live (unset: the controller's own namespace)",
        chart=False,
    ),
    Key(
        "timezone",
        "zone",
        None,
        "Default IANA time zone of floating and all-day event times (unset: UTC)",
    ),
    Key(
        "leadTime",
        "duration",
        "0s",
        "Default lead: placeholders come up this long before an "
        "event starts; a pool's leadTime and an event's lead: line override it",
    ),
    Key(
        "overlap",
        "choice",
        "sum",
        "How overlapping events of one pool combine: sum (room for both) or max",
        choices=("sum", "max"),
    ),
    Key("interval", "duration", "30s", "Reconcile period", positive=True),
    Key(
        "calendarRefreshInterval",
        "duration",
        "5m",
        "How often each feed is fetched (conditional GET)",
        positive=True,
    ),
    Key(
        "maxStaleness",
        "duration",
        "24h",
        "How long the last good copy of a failing feed is still used",
        positive=True,
    ),
    Key("maxFeedBytes", "integer", 10 * 1024 * 1024, "Largest feed accepted, in bytes", low=1024),
    Key("feedTimeout", "duration", "30s", "Total time cap of one feed fetch", positive=True),
    Key(
        "metricsPort",
        "integer",
        8080,
        "The one HTTP port: /metrics, /healthz, /readyz, /status",
        low=1,
        high=65535,
    ),
    Key(
        "metricsAddress",
        "address",
        "",
        "Listen address of that port: empty = every interface (in a pod), 127.0.0.1 locally",
    ),
    Key("calendars", "section", None, "The iCal feeds (list)", chart=False),
    Key("pools", "section", None, "The node pools, by name", chart=False),
    Key("headroom", "section", None, "How free room on a pool's nodes counts"),
    Key(
        "reports",
        "section",
        None,
        "The event reports after each event (docs: operations, event reports)",
    ),
    Key(
        "leaderElection",
        "section",
        None,
        "Leader election among the controller's replicas (docs: operations, high availability)",
    ),
    Key(
        "notifications",
        "section",
        None,
        "Optional webhook messages about calendar problems and event reports",
    ),
)
POOL: tuple[Key, ...] = (
    Key(
        "deployment",
        "dnslabel",
        None,
        "Name of the placeholder Deployment (unset: placeholder-<pool>)",
    ),
    Key("nodeSelector", "labels", None, "Labels of the pool's nodes (texts: quote numbers)"),
    Key("minReplicas", "integer", 0, "Placeholders outside events", low=0),
    Key("maxReplicas", "integer", 10, "Upper bound of placeholders (at least minReplicas)", low=0),
    Key("leadTime", "duration", None, "Lead of this pool (unset: the global leadTime)"),
    Key(
        "backend",
        "choice",
        "placeholders",
        "How the pool keeps warm room: placeholders "
        "(a Deployment of pause pods) or capacityBuffer (an upstream CapacityBuffer; docs: "
        "Backends)",
        choices=BACKENDS,
    ),
    Key(
        "buffer",
        "dnslabel",
        None,
        "Name of the pool's CapacityBuffer with backend capacityBuffer (unset: buffer-<pool>)",
    ),
    Key(
        "pricePerNodeHour",
        "number",
        None,
        "Price of one node-hour of this pool: plan shows "
        "what each event will cost (unset: node-hours only)",
        low=0,
    ),
    *SEAT_KEYS,
)
CALENDAR: tuple[Key, ...] = (
    Key("name", "text", None, "Name in logs and metrics (unset: calendar-<index>)"),
    Key(
        "url",
        "text",
        None,
        "Feed address: http(s)://, webcal://, file:// or a path",
        secret=True,
        chart=False,
    ),
    Key(
        "urlFromEnv",
        "text",
        None,
        "Instead of url: the environment variable holding it",
        chart=False,
    ),
    Key(
        "urlFromFile",
        "text",
        None,
        "Instead of url: a file holding it (a mounted Secret), "
        "read again at every refresh of the feed, so a rotated Secret needs no restart",
        chart=False,
    ),
    Key("timezone", "zone", None, "IANA time zone of floating and all-day times of this feed"),
    Key("pools", "names", None, "Pools this feed may request (unset: all)"),
    Key(
        "maxNodes",
        "integer",
        None,
        "Most nodes one event of this feed may request in one "
        "pool; more is clipped (unset: maxReplicas alone)",
        low=0,
    ),
    Key(
        "maxNodeHoursPerDay",
        "number",
        None,
        "Most node-hours this feed's events may hold "
        "per calendar day, all pools together; later events are clipped (unset: no limit)",
        low=0,
    ),
    Key(
        "maxNodeHoursPerWeek",
        "number",
        None,
        "Most node-hours this feed's events may hold "
        "per ISO week, all pools together (unset: no limit)",
        low=0,
    ),
    Key(
        "maxLead",
        "duration",
        None,
        "Longest lead: an event of this feed may give; a longer "
        "one is clipped (unset: the parser's own cap)",
    ),
)
SECTIONS: Mapping[str, tuple[Key, ...]] = {
    "": TOP,
    **{f"{name}.": table for name, table in SECTION_TABLES.items()},
    "pools.<pool>.": POOL,
    "calendars[]": CALENDAR,
}


@dataclass(frozen=True)
class CalendarSource:
    """One iCal feed. ``url`` is a secret: it is never in repr or logs."""

    name: str
    url: str = field(repr=False)
    url_from_env: str | None
    timezone: ZoneInfo | None
    pools: frozenset[str] | None  # allow-list (lower-case pool names), None = all
    base_dir: str = ""  # a relative path is looked up here (the config's folder), then in cwd
    url_from_file: str | None = None  # feeds/book.py reads ``url`` from it at every refresh
    limits: Limits = field(default_factory=Limits)  # cost guardrails (guardrails.py)


@dataclass(frozen=True)
class PoolSettings:
    name: str
    deployment: str
    node_selector: Mapping[str, str]
    min_replicas: int
    max_replicas: int
    lead_time: timedelta | None
    backend: Backend = "placeholders"
    buffer: str = ""  # backend capacityBuffer: the pool's CapacityBuffer (default buffer-<pool>)
    price_per_node_hour: float | None = None  # plan shows the cost of each event
    seating: SeatSettings = field(default_factory=SeatSettings)  # class-sized requests


@dataclass(frozen=True)
class Settings:
    path: str
    namespace: str | None
    timezone: ZoneInfo | None
    lead_time: timedelta
    overlap: Overlap
    interval: timedelta
    calendar_refresh_interval: timedelta
    max_staleness: timedelta
    max_feed_bytes: int
    feed_timeout: timedelta
    metrics_port: int
    metrics_address: str
    calendars: tuple[CalendarSource, ...]
    pools: Mapping[str, PoolSettings]  # keyed by lower-case pool name, config order
    headroom: HeadroomSettings
    reports: ReportSettings = field(default_factory=ReportSettings)
    leader_election: LeaderElectionSettings = field(default_factory=LeaderElectionSettings)
    notifications: NotifySettings = field(default_factory=NotifySettings)

    @property
    def default_zone(self) -> ZoneInfo:
        return self.timezone or ZoneInfo("UTC")

    def max_lead(self) -> timedelta:
        """The longest lead configured (globally or per pool)."""
        leads = [self.lead_time] + [p.lead_time for p in self.pools.values() if p.lead_time]
        return max(leads)


def load_settings(
    text: str, path: str, environ: Mapping[str, str], *, calendars: bool = True
) -> Settings:
    """Parse and validate a configuration file's text. ``calendars=False``: for commands that
    read no feed (report, size); the file's calendars are not read and may be absent."""
    data = load_yaml(text, path)
    if not isinstance(data, Mapping):
        raise ConfigError(path, "", "expected a mapping of keys (calendars, pools, ...)")
    top = Reader(path, "", data, TOP)
    for required in ("calendars", "pools") if calendars else ("pools",):
        if not data.get(required):
            raise top.fail(required, "is required and must not be empty")
    pools = _read_pools(top)
    return Settings(
        path=path,
        namespace=top.value("namespace"),
        timezone=top.value("timezone"),
        lead_time=top.value("leadTime"),
        overlap=top.value("overlap"),
        interval=top.value("interval"),
        calendar_refresh_interval=top.value("calendarRefreshInterval"),
        max_staleness=top.value("maxStaleness"),
        max_feed_bytes=top.value("maxFeedBytes"),
        feed_timeout=top.value("feedTimeout"),
        metrics_port=top.value("metricsPort"),
        metrics_address=top.value("metricsAddress"),
        calendars=_read_calendars(top, pools, environ) if calendars else (),
        pools=pools,
        headroom=read_headroom(top),
        reports=read_reports(top),
        leader_election=read_leader_election(top),
        notifications=read_notifications(top, environ),
    )


def _read_pools(top: Reader) -> dict[str, PoolSettings]:
    pools: dict[str, PoolSettings] = {}
    for name, body in top.mapping("pools").items():
        key = f"pools.{str(name)[:40]}"
        if not isinstance(name, str) or not _POOL_NAME.fullmatch(name):
            raise ConfigError(top.path, key, "a pool name is a word of letters, digits, _ . -")
        if name.lower() in RESERVED_WORDS:
            raise ConfigError(top.path, key, f"{name!r} is reserved for event descriptions")
        if name.lower() in pools:
            raise ConfigError(top.path, key, "pool names are case-insensitive: duplicate")
        if body is not None and not isinstance(body, Mapping):
            raise ConfigError(top.path, key, "expected a mapping of pool settings")
        pools[name.lower()] = _read_pool(Reader(top.path, f"{key}.", body or {}, POOL), name)
    return pools


def _read_pool(reader: Reader, name: str) -> PoolSettings:
    minimum = reader.value("minReplicas")
    maximum = reader.value("maxReplicas")
    if reader.data.get("maxReplicas") is None:
        maximum = max(maximum, minimum)
    if maximum < minimum:
        raise reader.fail("maxReplicas", f"must be >= minReplicas ({minimum}), got {maximum}")
    return PoolSettings(
        name=name,
        deployment=reader.value("deployment") or f"placeholder-{name.lower()}",
        node_selector=reader.value("nodeSelector") or {},
        min_replicas=minimum,
        max_replicas=maximum,
        lead_time=reader.value("leadTime"),
        backend=reader.value("backend"),
        buffer=reader.value("buffer") or f"buffer-{name.lower()}",
        price_per_node_hour=reader.value("pricePerNodeHour"),
        seating=read_seating(reader),
    )


def _read_calendars(
    top: Reader, pools: Mapping[str, PoolSettings], environ: Mapping[str, str]
) -> tuple[CalendarSource, ...]:
    raw = top.data["calendars"]
    if not isinstance(raw, list):
        raise top.fail("calendars", "expected a list of calendars")
    sources: list[CalendarSource] = []
    for index, body in enumerate(raw):
        key = f"calendars[{index}]"
        if not isinstance(body, Mapping):
            raise ConfigError(top.path, key, "expected a mapping with url or urlFromEnv")
        reader = Reader(top.path, f"{key}.", body, CALENDAR)
        sources.append(_read_calendar(reader, index, pools, environ))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise top.fail("calendars", f"two calendars are named {name!r}")
    return tuple(sources)


def _read_calendar(
    reader: Reader, index: int, pools: Mapping[str, PoolSettings], environ: Mapping[str, str]
) -> CalendarSource:
    url, from_env = reader.value("url"), reader.value("urlFromEnv")
    from_file = reader.value("urlFromFile")
    if [url, from_env, from_file].count(None) != 2:
        raise reader.fail("url", "give exactly one of url, urlFromEnv and urlFromFile")
    where = "url"
    if from_env is not None:
        url, where = environ.get(from_env, "").strip(), "urlFromEnv"
        if not url:
            raise reader.fail("urlFromEnv", f"environment variable {from_env} is not set")
    if from_file is not None:
        url = ""  # read (and checked) by feeds/book.py at every refresh: the file can change
    else:
        try:
            classify(url)  # a scheme typo (htps://...) is an error now, not a file path later
        except UrlError as error:
            raise reader.fail(where, str(error)) from None
    allowed = reader.value("pools")
    allow: frozenset[str] | None = None
    if allowed is not None:
        unknown = [p for p in allowed if p.lower() not in pools]
        if unknown:
            raise reader.fail("pools", f"unknown pool {unknown[0][:40]!r}")
        allow = frozenset(p.lower() for p in allowed)
    return CalendarSource(
        name=reader.value("name") or f"calendar-{index}",
        url=url,
        url_from_env=from_env,
        timezone=reader.value("timezone"),
        pools=allow,
        base_dir=posixpath.dirname(reader.path),
        url_from_file=from_file,
        limits=Limits(
            reader.value("maxNodes"),
            reader.value("maxNodeHoursPerDay"),
            reader.value("maxNodeHoursPerWeek"),
            reader.value("maxLead"),
        ),
    )
