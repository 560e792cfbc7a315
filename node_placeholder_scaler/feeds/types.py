"""The feed vocabulary shared by feeds, metrics and the loop. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol


class FetchResult(StrEnum):
    """What one refresh of a feed came to (a metric label: a small fixed set)."""

    OK = "ok"  # new content, parsed
    UNCHANGED = "unchanged"  # downloaded, same bytes as the copy in use: not parsed again
    NOT_MODIFIED = "not-modified"  # 304 to a conditional GET
    TIMEOUT = "timeout"  # the fetch (feedTimeout, total) or the parse budget ran out
    TOO_LARGE = "too-large"  # more than maxFeedBytes (decompressed)
    MEMORY = "memory"  # the parse went over the worker's memory cap
    HTTP_ERROR = "http-error"  # a status other than 200 (or 304 to a conditional GET)
    BAD_REDIRECT = "bad-redirect"  # a loop, too many, another host, a malformed Location
    NETWORK_ERROR = "network-error"  # DNS, refused, reset, TLS
    NOT_A_CALENDAR = "not-a-calendar"  # an HTML page, an empty or binary body
    PARSE_ERROR = "parse-error"  # nothing of the calendar could be read
    FILE_ERROR = "file-error"  # missing, unreadable or not a regular file
    BAD_URL = "bad-url"  # an address that is neither http(s)/webcal nor a file
    WORKER_ERROR = "worker-error"  # the bounded worker died without an answer

    @property
    def good(self) -> bool:
        """True when the feed's copy in use is current after this result."""
        return self in (FetchResult.OK, FetchResult.UNCHANGED, FetchResult.NOT_MODIFIED)


@dataclass(frozen=True)
class FeedStatus:
    """One feed as the loop, the metrics, `plan` and `validate` see it, judged at a time.

    ``ok``: a usable good copy (not older than maxStaleness). ``last_error`` is safe to show
    (never the URL, never the body or reason phrase sent by the server).
    """

    name: str
    ok: bool
    last_success: datetime | None
    staleness_seconds: float | None
    last_result: str  # a FetchResult, or "never" before the first attempt
    last_attempt: datetime | None
    last_error: str | None = None
    event_count: int = 0
    seconds: float | None = None  # wall time of the last attempt (fetch + parse)


class FetchSink(Protocol):
    """Told each fetch's result as it happens (metrics.Metrics: the fetch counter)."""

    def fetched(self, calendar: str, result: FetchResult) -> None: ...
