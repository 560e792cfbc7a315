"""One refresh of one feed (fetch + parse + expand) in a bounded child process.

The child is forked from a forkserver that has the calendar modules preloaded (never from the
threaded parent). It caps its own memory (``resource.setrlimit``), fetches under a total
deadline, and sends back a compact, picklable Outcome. The parent kills it at a hard wall
deadline (fetch timeout + parse budget + start-up grace). A fresh process per parse also
scopes a feed's custom time zones to that feed (icalendar caches them process-wide).
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import pickle
import resource
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from multiprocessing.connection import Connection, wait
from zoneinfo import ZoneInfo

from ..ical.calendar import CalendarError, ParsedCalendar, parse_calendar
from ..urls import printable
from .types import FetchResult

logger = logging.getLogger(__name__)

START_GRACE = 5.0  # seconds for the child to start before its own deadlines run
MEMORY_EXIT = 86  # the child's exit code after a MemoryError it could not report
# The largest answer the controller reads from a worker (pickled): a parsed calendar of
# 100,000 occurrences is about 12 MB pickled and 60 MiB in memory.
MAX_ANSWER_BYTES = 16 * 1024 * 1024
# Imported once in the forkserver, not per child: __main__, the calendar engine and the HTTP
# stack (a child that imported it under its memory cap could fail to map a shared library and
# die with an ImportError, reported as a worker error instead of a memory result)
_PRELOAD = [
    "__main__",
    "node_placeholder_scaler.feeds.worker",
    "node_placeholder_scaler.feeds.fetch",
]


@dataclass(frozen=True)
class Job:
    """Everything the child needs (picklable). ``packed``: re-expand these zlib-compressed
    bytes instead of fetching."""

    name: str
    url: str = field(repr=False)
    base_dir: str
    pools: tuple[str, ...]
    source_zone: ZoneInfo | None
    default_zone: ZoneInfo | None
    window: tuple[datetime, datetime]
    max_bytes: int
    fetch_seconds: float
    parse_seconds: float
    memory_bytes: int
    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = None
    packed: bytes | None = field(default=None, repr=False)

    @property
    def wall_seconds(self) -> float:
        return self.fetch_seconds + self.parse_seconds + START_GRACE


@dataclass(frozen=True)
class Outcome:
    """What one refresh came to. ``packed`` holds the new bytes (zlib) when result is ok."""

    result: FetchResult
    message: str | None = None
    calendar: ParsedCalendar | None = None
    packed: bytes | None = field(default=None, repr=False)
    etag: str | None = None
    last_modified: str | None = None
    digest: str | None = None
    seconds: float = 0.0
    peak_rss: int = 0  # bytes: the child's peak resident size (0 when unknown)
    logs: tuple[str, ...] = ()  # the child's warnings, sanitised


Runner = Callable[[Job, threading.Event | None], Outcome]


def work(job: Job) -> Outcome:
    """The refresh itself (in the child, or inline in tests); never raises."""
    # The HTTP stack is imported in the worker only (the forkserver preloads it), never in the
    # controller's own process.
    from .fetch import FeedError, fetch

    started = time.monotonic()
    try:
        if job.packed is not None:
            outcome = _parse(job, zlib.decompress(job.packed), job.etag, job.last_modified)
        else:
            fetched = fetch(
                job.url,
                base_dir=job.base_dir,
                limit=job.max_bytes,
                timeout=job.fetch_seconds,
                etag=job.etag,
                last_modified=job.last_modified,
            )
            if fetched.content is None:
                outcome = Outcome(
                    FetchResult.NOT_MODIFIED,
                    etag=job.etag,
                    last_modified=job.last_modified,
                    digest=job.digest,
                )
            else:
                outcome = _parse(job, fetched.content, fetched.etag, fetched.last_modified)
    except FeedError as error:
        outcome = Outcome(error.result, str(error))
    except MemoryError:
        outcome = Outcome(FetchResult.MEMORY, _memory_text(job))
    except Exception as error:  # a bug or a library's surprise: this feed only
        outcome = Outcome(FetchResult.WORKER_ERROR, f"unexpected {type(error).__name__}")
    return replace(outcome, seconds=time.monotonic() - started)


def _parse(job: Job, content: bytes, etag: str | None, modified: str | None) -> Outcome:
    digest = hashlib.sha256(content).hexdigest()
    if job.packed is None and digest == job.digest:
        return Outcome(FetchResult.UNCHANGED, etag=etag, last_modified=modified, digest=digest)
    problem = not_a_calendar(content)
    if problem:
        return Outcome(FetchResult.NOT_A_CALENDAR, problem)
    try:
        calendar = parse_calendar(
            content,
            name=job.name,
            pools=job.pools,
            source_zone=job.source_zone,
            default_zone=job.default_zone,
            window=job.window,
            keep_source=False,
        )  # we keep the bytes
    except CalendarError as error:
        if _out_of_memory(error):  # the engine wraps every error of the library it calls
            raise MemoryError from None
        return Outcome(FetchResult.PARSE_ERROR, printable(str(error)))
    packed = job.packed if job.packed is not None else zlib.compress(content, 6)
    return Outcome(FetchResult.OK, None, calendar, packed, etag, modified, digest)


def _out_of_memory(error: BaseException) -> bool:
    seen = 0
    current: BaseException | None = error
    while current is not None and seen < 10:
        if isinstance(current, MemoryError):
            return True
        current, seen = current.__cause__ or current.__context__, seen + 1
    return False


def not_a_calendar(content: bytes) -> str | None:
    """Why these bytes are plainly no calendar (without echoing them), or None."""
    head = content[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").upper()
    if head.startswith(b"BEGIN:VCALENDAR"):
        return None
    if not head:
        return "not a calendar: the feed is empty"
    if head.startswith(b"<") or b"<HTML" in head or b"<!DOCTYPE" in head:
        return "not a calendar: an HTML page (a login page? check the address and its sharing)"
    return "not a calendar: it does not start with BEGIN:VCALENDAR"


def _memory_text(job: Job) -> str:
    return f"parsing needed more than the worker's memory cap ({job.memory_bytes >> 20} MiB)"


def _context() -> multiprocessing.context.ForkServerContext:
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(_PRELOAD)
    return context


def run_bounded(job: Job, cancel: threading.Event | None = None) -> Outcome:
    """``work(job)`` in a child process: killed at ``job.wall_seconds`` or on ``cancel``."""
    started = time.monotonic()
    receiver, sender = multiprocessing.Pipe(duplex=False)
    process = _context().Process(
        target=_child, args=(job, sender), daemon=True, name=f"feed-{job.name[:20]}"
    )
    process.start()
    sender.close()
    try:
        outcome = _await(process, receiver, started + job.wall_seconds, cancel)
    finally:
        receiver.close()
        if process.is_alive():
            process.kill()
        process.join(5)
        process.close()
    return replace(outcome, seconds=time.monotonic() - started)


def _await(
    process: multiprocessing.process.BaseProcess,
    receiver: Connection,
    end: float,
    cancel: threading.Event | None,
) -> Outcome:
    while True:
        left = end - time.monotonic()
        if left <= 0 or (cancel is not None and cancel.is_set()):
            process.kill()
            if left > 0:
                return Outcome(FetchResult.TIMEOUT, "the refresh was cancelled (stopping)")
            return Outcome(
                FetchResult.TIMEOUT,
                "the refresh did not finish within feedTimeout "
                "+ the parse budget; the worker was killed",
            )
        ready = wait([receiver, process.sentinel], timeout=min(left, 0.2))
        if receiver in ready:
            answer = _receive(receiver)
            if answer is not None:
                return answer
        if process.sentinel in ready or receiver in ready:
            process.join(1)
            return _died(process.exitcode)


def _receive(receiver: Connection) -> Outcome | None:
    """The worker's answer, read only up to MAX_ANSWER_BYTES (the controller's memory)."""
    try:
        data = receiver.recv_bytes(MAX_ANSWER_BYTES)
    except OSError:  # longer than the cap ("bad message length")
        return Outcome(
            FetchResult.TOO_LARGE,
            "the parsed calendar is over the controller's "
            f"cap of {MAX_ANSWER_BYTES:,} bytes (too many occurrences in the window)",
        )
    except EOFError:
        return None
    answer = pickle.loads(data)  # our own child's Outcome, over our own pipe
    return answer if isinstance(answer, Outcome) else None


def _died(code: int | None) -> Outcome:
    if code in (MEMORY_EXIT, -9):
        return Outcome(FetchResult.MEMORY, "the worker ran out of memory and was stopped")
    return Outcome(FetchResult.WORKER_ERROR, f"the worker ended without an answer (exit {code})")


def _child(job: Job, sender: Connection) -> None:
    """Child process entry: cap memory, quiet and collect logs, work, send the Outcome."""
    try:
        _cap_memory(job.memory_bytes)
        logs = _collect_logs()
        outcome = work(job)
        sender.send(replace(outcome, peak_rss=_peak_rss(), logs=tuple(logs)))
    except MemoryError:
        os._exit(MEMORY_EXIT)
    finally:
        sender.close()


def _cap_memory(limit: int) -> None:
    if limit > 0:
        _soft, hard = resource.getrlimit(resource.RLIMIT_AS)
        cap = limit if hard == resource.RLIM_INFINITY else min(limit, hard)
        resource.setrlimit(resource.RLIMIT_AS, (cap, hard))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _collect_logs() -> list[str]:
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            if len(lines) < 20:
                lines.append(printable(f"{record.levelname} {record.getMessage()}", 300))

    root = logging.getLogger()
    root.handlers[:] = [Collect(logging.WARNING)]
    root.setLevel(logging.WARNING)
    return lines
