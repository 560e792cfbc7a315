"""The configuration file -> one frozen, validated Settings object.

Pure: the caller reads the file and passes its text and the environment.
Every error names the file and the key (``config.yaml: pools.user.maxReplicas: ...``).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from .durations import DurationError, parse_duration

Overlap = Literal["sum", "max"]
Strategy = Literal["balanced", "cpu", "memory"]

RESERVED_WORDS = frozenset({"lead"})
DEFAULT_MAX_FEED_BYTES = 20 * 1024 * 1024
_POOL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")


class ConfigError(Exception):
    """A bad configuration: names the file and the key."""

    def __init__(self, path: str, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}" if key else f"{path}: {message}")
        self.path = path
        self.key = key
        self.message = message


@dataclass(frozen=True)
class CalendarSource:
    """One iCal feed. ``url`` is a secret: it is never in repr or logs."""

    name: str
    url: str = field(repr=False)
    url_from_env: str | None
    timezone: ZoneInfo | None
    pools: frozenset[str] | None  # allow-list (lower-case pool names), None = all
    base_dir: str = ""  # a relative path is looked up here (the config's folder), then in cwd


@dataclass(frozen=True)
class PoolSettings:
    name: str
    deployment: str
    node_selector: Mapping[str, str]
    min_replicas: int
    max_replicas: int
    lead_time: timedelta | None


@dataclass(frozen=True)
class HeadroomSettings:
    strategy: Strategy = "balanced"
    threshold: float = 0.2
    node_grace_period: timedelta = timedelta(minutes=10)


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

    @property
    def default_zone(self) -> ZoneInfo:
        return self.timezone or ZoneInfo("UTC")

    def max_lead(self) -> timedelta:
        """The longest lead configured (globally or per pool)."""
        leads = [self.lead_time] + [p.lead_time for p in self.pools.values() if p.lead_time]
        return max(leads)


_TOP_KEYS = {
    "namespace", "timezone", "leadTime", "overlap", "interval", "calendarRefreshInterval",
    "maxStaleness", "maxFeedBytes", "feedTimeout", "metricsPort", "metricsAddress", "calendars",
    "pools",
    "headroom",
}
_CALENDAR_KEYS = {"name", "url", "urlFromEnv", "timezone", "pools"}
_POOL_KEYS = {"deployment", "nodeSelector", "minReplicas", "maxReplicas", "leadTime"}
_HEADROOM_KEYS = {"strategy", "threshold", "nodeGracePeriod"}


class _Reader:
    """Typed access to one mapping of the file, with the key path for messages."""

    def __init__(self, path: str, prefix: str, data: Mapping[str, Any], allowed: set[str]):
        self.path, self.prefix, self.data = path, prefix, data
        unknown = sorted(str(k) for k in set(data) - allowed)
        if unknown:
            known = ", ".join(sorted(allowed))
            raise ConfigError(path, self.key(unknown[0]), f"unknown key (known keys: {known})")

    def key(self, name: str) -> str:
        return f"{self.prefix}{name}"

    def fail(self, name: str, message: str) -> ConfigError:
        return ConfigError(self.path, self.key(name), message)

    def duration(self, name: str, default: timedelta | None) -> timedelta | None:
        if self.data.get(name) is None:
            return default
        try:
            return parse_duration(self.data[name])
        except DurationError as error:
            raise self.fail(name, str(error)) from None

    def integer(self, name: str, default: int, low: int = 0, high: int | None = None) -> int:
        value = self.data.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(name, f"expected a whole number, got {value!r}")
        if value < low or (high is not None and value > high):
            limit = f"between {low} and {high}" if high is not None else f">= {low}"
            raise self.fail(name, f"must be {limit}, got {value}")
        return value

    def string(self, name: str, default: str | None = None) -> str | None:
        value = self.data.get(name, default)
        if value is not None and (not isinstance(value, str) or not value.strip()):
            raise self.fail(name, f"expected a non-empty text, got {value!r}")
        return value

    def zone(self, name: str) -> ZoneInfo | None:
        value = self.string(name)
        if value is None:
            return None
        try:
            return ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(name, f"unknown IANA time zone {value!r}") from None

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.data.get(name, default)
        if value not in choices:
            raise self.fail(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def mapping(self, name: str) -> Mapping[str, Any]:
        value = self.data.get(name) or {}
        if not isinstance(value, Mapping):
            raise self.fail(name, f"expected a mapping, got {type(value).__name__}")
        return value


def load_settings(text: str, path: str, environ: Mapping[str, str]) -> Settings:
    """Parse and validate a configuration file's text."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise ConfigError(path, "", f"not valid YAML: {error}") from None
    if not isinstance(data, Mapping):
        raise ConfigError(path, "", "expected a mapping of keys (calendars, pools, ...)")
    top = _Reader(path, "", data, _TOP_KEYS)
    for required in ("calendars", "pools"):
        if not data.get(required):
            raise top.fail(required, "is required and must not be empty")
    pools = _read_pools(top)
    lead = top.duration("leadTime", timedelta(0))
    assert lead is not None
    return Settings(
        path=path,
        namespace=top.string("namespace"),
        timezone=top.zone("timezone"),
        lead_time=lead,
        overlap=top.choice("overlap", "sum", ("sum", "max")),  # type: ignore[arg-type]
        interval=_positive(top, "interval", timedelta(seconds=30)),
        calendar_refresh_interval=_positive(top, "calendarRefreshInterval", timedelta(minutes=5)),
        max_staleness=_positive(top, "maxStaleness", timedelta(hours=24)),
        max_feed_bytes=top.integer("maxFeedBytes", DEFAULT_MAX_FEED_BYTES, low=1024),
        feed_timeout=_positive(top, "feedTimeout", timedelta(seconds=30)),
        metrics_port=top.integer("metricsPort", 8080, low=0, high=65535),
        metrics_address=_address(top),
        calendars=_read_calendars(top, pools, environ),
        pools=pools,
        headroom=_read_headroom(top),
    )


def _address(top: _Reader) -> str:
    value = top.data.get("metricsAddress", "")
    if not isinstance(value, str) or any(c.isspace() for c in value):
        raise top.fail("metricsAddress", f"expected an address such as 127.0.0.1, got {value!r}")
    return value


def _positive(reader: _Reader, name: str, default: timedelta) -> timedelta:
    value = reader.duration(name, default)
    if value is None or value <= timedelta(0):
        raise reader.fail(name, "must be longer than 0s")
    return value


def _read_pools(top: _Reader) -> dict[str, PoolSettings]:
    raw = top.mapping("pools")
    pools: dict[str, PoolSettings] = {}
    for name, body in raw.items():
        key = f"pools.{name}"
        if not isinstance(name, str) or not _POOL_NAME.fullmatch(name):
            raise ConfigError(top.path, key, "a pool name is a word of letters, digits, _ . -")
        if name.lower() in RESERVED_WORDS:
            raise ConfigError(top.path, key, f"{name!r} is reserved for event descriptions")
        if name.lower() in pools:
            raise ConfigError(top.path, key, "pool names are case-insensitive: duplicate")
        if body is not None and not isinstance(body, Mapping):
            raise ConfigError(top.path, key, "expected a mapping of pool settings")
        pools[name.lower()] = _read_pool(_Reader(top.path, f"{key}.", body or {}, _POOL_KEYS), name)
    return pools


def _read_pool(reader: _Reader, name: str) -> PoolSettings:
    deployment = reader.string("deployment", f"placeholder-{name.lower()}")
    assert deployment is not None
    if not _DNS_LABEL.fullmatch(deployment) or len(deployment) > 63:
        raise reader.fail("deployment", f"not a valid Deployment name: {deployment!r}")
    selector = reader.mapping("nodeSelector")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in selector.items()):
        raise reader.fail("nodeSelector", "keys and values must be texts (quote numbers)")
    minimum = reader.integer("minReplicas", 0)
    maximum = reader.integer("maxReplicas", max(10, minimum))
    if maximum < minimum:
        raise reader.fail("maxReplicas", f"must be >= minReplicas ({minimum}), got {maximum}")
    return PoolSettings(
        name=name,
        deployment=deployment,
        node_selector=dict(selector),
        min_replicas=minimum,
        max_replicas=maximum,
        lead_time=reader.duration("leadTime", None),
    )


def _read_calendars(
    top: _Reader, pools: Mapping[str, PoolSettings], environ: Mapping[str, str]
) -> tuple[CalendarSource, ...]:
    raw = top.data["calendars"]
    if not isinstance(raw, list):
        raise top.fail("calendars", "expected a list of calendars")
    sources: list[CalendarSource] = []
    for index, body in enumerate(raw):
        key = f"calendars[{index}]"
        if not isinstance(body, Mapping):
            raise ConfigError(top.path, key, "expected a mapping with url or urlFromEnv")
        reader = _Reader(top.path, f"{key}.", body, _CALENDAR_KEYS)
        sources.append(_read_calendar(reader, index, pools, environ))
    names = [s.name for s in sources]
    for name in names:
        if names.count(name) > 1:
            raise top.fail("calendars", f"two calendars are named {name!r}")
    return tuple(sources)


def _read_calendar(
    reader: _Reader, index: int, pools: Mapping[str, PoolSettings], environ: Mapping[str, str]
) -> CalendarSource:
    url, from_env = reader.string("url"), reader.string("urlFromEnv")
    if (url is None) == (from_env is None):
        raise reader.fail("url", "give exactly one of url and urlFromEnv")
    if from_env is not None:
        url = environ.get(from_env, "").strip()
        if not url:
            raise reader.fail("urlFromEnv", f"environment variable {from_env} is not set")
    allowed = reader.data.get("pools")
    allow: frozenset[str] | None = None
    if allowed is not None:
        if not isinstance(allowed, list) or not all(isinstance(p, str) for p in allowed):
            raise reader.fail("pools", "expected a list of pool names")
        unknown = [p for p in allowed if p.lower() not in pools]
        if unknown:
            raise reader.fail("pools", f"unknown pool {unknown[0]!r}")
        allow = frozenset(p.lower() for p in allowed)
    name = reader.string("name", f"calendar-{index}")
    assert name is not None and url is not None
    return CalendarSource(
        name=name, url=url, url_from_env=from_env, timezone=reader.zone("timezone"), pools=allow,
        base_dir=posixpath.dirname(reader.path),
    )


def _read_headroom(top: _Reader) -> HeadroomSettings:
    reader = _Reader(top.path, "headroom.", top.mapping("headroom"), _HEADROOM_KEYS)
    threshold = reader.data.get("threshold", 0.2)
    if isinstance(threshold, bool) or not isinstance(threshold, int | float):
        raise reader.fail("threshold", f"expected a number between 0 and 1, got {threshold!r}")
    if not 0 <= threshold < 1:
        raise reader.fail("threshold", f"must be >= 0 and < 1, got {threshold}")
    grace = reader.duration("nodeGracePeriod", timedelta(minutes=10))
    assert grace is not None
    strategy = reader.choice("strategy", "balanced", ("balanced", "cpu", "memory"))
    return HeadroomSettings(
        strategy=strategy,  # type: ignore[arg-type]
        threshold=float(threshold),
        node_grace_period=grace,
    )
