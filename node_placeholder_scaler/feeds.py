"""Fetching feeds: the only module that does HTTP for calendars.

Timeouts, a size cap, conditional GET (ETag / Last-Modified), content hashing so an
unchanged feed is never parsed twice, and a last good copy used up to maxStaleness.
A feed URL is a secret: only ``redact(url)`` is ever logged or printed.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import requests

from .calendar import CalendarError, ParsedCalendar, parse_calendar
from .model import Plan, Problem, ProblemKind
from .planning import CalendarView, plan
from .settings import CalendarSource, Settings

logger = logging.getLogger(__name__)
# urllib3 logs every request line, secret path included, at DEBUG: keep it quieter.
logging.getLogger("urllib3.connectionpool").setLevel(logging.INFO)
USER_AGENT = "node-placeholder-scaler (+calendar pre-warming)"


class FeedError(Exception):
    """A fetch that failed; ``result`` is a short metric label."""

    def __init__(self, result: str, message: str) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Fetched:
    """Bytes of a feed, or None when the server said it has not changed."""

    content: bytes | None
    etag: str | None = None
    last_modified: str | None = None


def redact(url: str) -> str:
    """scheme://host/… : enough to tell feeds apart, never the secret path or query."""
    parts = urlsplit(url)
    if parts.scheme in ("http", "https", "webcal", "webcals"):
        tail = parts.path.rstrip("/").rsplit("/", 1)[-1]
        shown = tail if tail.endswith(".ics") and len(tail) <= 20 else "…"
        return f"{parts.scheme}://{parts.hostname or '?'}/…/{shown}"
    return f"file://…/{Path(unquote(parts.path) if parts.scheme == 'file' else url).name}"


def fetch(source: CalendarSource, settings: Settings, previous: Fetched | None) -> Fetched:
    """Fetch one feed (HTTP(S), webcal, file:// or a path); raise FeedError on failure."""
    parts = urlsplit(source.url)
    if parts.scheme in ("http", "https", "webcal", "webcals"):
        url = source.url
        if parts.scheme.startswith("webcal"):  # webcal:// is https:// for calendar apps
            url = "https" + source.url[len(parts.scheme):]
        return _fetch_http(url, settings, previous)
    path = Path(unquote(parts.path) if parts.scheme == "file" else source.url)
    if not path.is_absolute() and (Path(source.base_dir) / path).exists():
        path = Path(source.base_dir) / path  # relative to the config file first, then cwd
    return _read_file(path, settings.max_feed_bytes)


def _fetch_http(url: str, settings: Settings, previous: Fetched | None) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if previous is not None and previous.etag:
        headers["If-None-Match"] = previous.etag
    if previous is not None and previous.last_modified:
        headers["If-Modified-Since"] = previous.last_modified
    timeout = settings.feed_timeout.total_seconds()
    deadline = time.monotonic() + timeout
    try:
        with requests.get(url, headers=headers, timeout=(min(10.0, timeout), timeout),
                          stream=True) as response:
            if response.status_code == 304:
                return Fetched(None, previous.etag if previous else None,
                               previous.last_modified if previous else None)
            if response.status_code != 200:
                raise FeedError("http-error", f"HTTP {response.status_code} {response.reason}")
            body = _read_capped(response.iter_content(65536), settings.max_feed_bytes, deadline)
            return Fetched(body, response.headers.get("ETag"),
                           response.headers.get("Last-Modified"))
    except requests.Timeout:
        raise FeedError("timeout", f"no answer within {timeout:g}s") from None
    except requests.RequestException as error:
        raise FeedError("network-error", f"{type(error).__name__}") from None


def _read_capped(chunks: Iterable[bytes], limit: int, deadline: float) -> bytes:
    body = bytearray()
    for chunk in chunks:
        body.extend(chunk)
        if len(body) > limit:
            raise FeedError("too-large", f"feed larger than the cap of {limit} bytes")
        if time.monotonic() > deadline:
            raise FeedError("timeout", "the feed took longer than feedTimeout to download")
    return bytes(body)


def _read_file(path: Path, limit: int) -> Fetched:
    try:
        with path.open("rb") as handle:
            body = handle.read(limit + 1)
    except OSError as error:
        raise FeedError("file-error", f"cannot read file: {error.strerror or error}") from None
    if len(body) > limit:
        raise FeedError("too-large", f"feed larger than the cap of {limit} bytes")
    return Fetched(body)


@dataclass
class FeedState:
    """What we know of one feed (mutable: owned by CalendarBook)."""

    source: CalendarSource
    calendar: ParsedCalendar | None = None
    fetched: Fetched | None = None
    digest: str | None = None
    last_attempt: datetime | None = None
    last_success: datetime | None = None
    last_result: str = "never"
    last_error: str | None = None

    @property
    def name(self) -> str:
        return self.source.name

    def staleness(self, now: datetime) -> float | None:
        return None if self.last_success is None else (now - self.last_success).total_seconds()

    def usable(self, now: datetime, max_staleness: timedelta) -> bool:
        return self.calendar is not None and self.last_success is not None and (
            now - self.last_success <= max_staleness)


Fetcher = Callable[[CalendarSource, Settings, Fetched | None], Fetched]


class CalendarBook:
    """Every configured feed, refreshed when due, and the plan they give."""

    def __init__(self, settings: Settings, fetcher: Fetcher = fetch) -> None:
        self.settings = settings
        self._fetch = fetcher
        self._states = {s.name: FeedState(s) for s in settings.calendars}

    def states(self) -> list[FeedState]:
        return list(self._states.values())

    def refresh(self, now: datetime, force: bool = False) -> None:
        """Fetch each feed whose refresh interval has passed (all of them if force)."""
        for state in self._states.values():
            due = state.last_attempt is None or (
                now - state.last_attempt >= self.settings.calendar_refresh_interval)
            if force or due:
                self._refresh_one(state, now)

    def _refresh_one(self, state: FeedState, now: datetime) -> None:
        state.last_attempt = now
        started = time.monotonic()
        try:
            fetched = self._fetch(state.source, self.settings, state.fetched)
            state.last_result = self._accept(state, fetched, now)
            state.last_success, state.last_error = now, None
        except FeedError as error:
            state.last_result, state.last_error = error.result, str(error)
        except CalendarError as error:
            state.last_result, state.last_error = "parse-error", str(error)
        level = logging.INFO if state.last_error is None else logging.WARNING
        logger.log(level, "calendar=%s feed=%s result=%s seconds=%.2f%s", state.name,
                   redact(state.source.url), state.last_result, time.monotonic() - started,
                   f" error={state.last_error!r}" if state.last_error else "")

    def _accept(self, state: FeedState, fetched: Fetched, now: datetime) -> str:
        if fetched.content is None:
            return "not-modified"
        digest = hashlib.sha256(fetched.content).hexdigest()
        if digest == state.digest and state.calendar is not None:
            state.fetched = fetched
            return "unchanged"
        calendar = parse_calendar(
            fetched.content, name=state.name, pools=list(self.settings.pools),
            source_zone=state.source.timezone, default_zone=self.settings.timezone,
            window=(now - timedelta(days=1), now + timedelta(days=15)),
        )
        state.calendar, state.fetched, state.digest = calendar, fetched, digest
        return "ok"

    def views(self, now: datetime) -> list[CalendarView]:
        return [self._view(state, now) for state in self._states.values()]

    def _view(self, state: FeedState, now: datetime) -> CalendarView:
        max_staleness = self.settings.max_staleness
        problems: list[Problem] = []
        if state.last_error is not None:
            age = state.staleness(now)
            kept = "" if age is None else f"; using the copy from {age:.0f}s ago"
            if not state.usable(now, max_staleness):
                kept = "; no usable copy, its pools are left as they are"
            problems.append(Problem(ProblemKind.FEED_ERROR, f"{state.last_error}{kept}",
                                    state.name))
        elif state.calendar is not None and not state.usable(now, max_staleness):
            problems.append(Problem(ProblemKind.FEED_STALE, "last good copy is older than "
                                    "maxStaleness; its pools are left as they are", state.name))
        calendar = state.calendar if state.usable(now, max_staleness) else None
        if calendar is not None:
            problems.extend(calendar.warnings)
        return CalendarView(state.source, calendar, tuple(problems))

    def plan(self, at: datetime, now: datetime | None = None) -> Plan:
        """The plan at ``at``; feed staleness is judged at ``now`` (default: ``at``)."""
        return plan(self.views(now or at), self.settings, at)


def environment() -> Mapping[str, str]:
    """The process environment (for urlFromEnv), kept here to keep settings pure."""
    return dict(os.environ)
