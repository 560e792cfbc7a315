"""Reading a feed's bytes: the only module that does HTTP (``requests``).

Every read is bounded: ``timeout`` is the TOTAL time of the fetch (a SIGALRM deadline in the
worker process, so a server that trickles its body or drips its headers or floods ``100
Continue`` is cut off), ``limit`` caps the body after decompression, at most
``MAX_REDIRECTS`` redirects are followed and only to http(s) on the same host (or its https
upgrade). Files must be regular files (a FIFO, a device or a directory is refused before it is
opened). No message here contains the URL, the body or the server's reason phrase.
"""

from __future__ import annotations

import contextlib
import errno
import http
import signal
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests

from ..urls import UrlError, classify, printable
from .files import FileTooLarge, NotRegularFile, read_regular
from .types import FetchResult

USER_AGENT = "node-placeholder-scaler (+calendar pre-warming)"
MAX_REDIRECTS = 5
CHUNK = 64 * 1024


class FeedError(Exception):
    """A fetch that failed; ``result`` is its label, the message is safe to show."""

    def __init__(self, result: FetchResult, message: str) -> None:
        super().__init__(message)
        self.result = result


@dataclass(frozen=True)
class Fetched:
    """Bytes of a feed, or None when the server said it has not changed (304)."""

    content: bytes | None
    etag: str | None = None
    last_modified: str | None = None


class _Expired(BaseException):
    """The total deadline passed (BaseException: no library's ``except Exception`` eats it)."""


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[None]:
    """Raise _Expired in this (main) thread after ``seconds``; elsewhere a no-op (the
    worker's parent still kills the process at its hard deadline)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise _Expired()

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, max(seconds, 0.001))
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _Session(requests.Session):
    """A session that leaves redirects to ``_next_hop`` (requests would parse a hostile
    Location even with allow_redirects=False, and raise odd errors doing so)."""

    def resolve_redirects(self, *args: Any, **kwargs: Any) -> Iterator[Any]:
        return iter(())


def fetch(
    url: str,
    *,
    base_dir: str,
    limit: int,
    timeout: float,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Fetched:
    """Fetch one feed (http(s), webcal, file:// or a path); raise FeedError on failure."""
    try:
        target = classify(url)
    except UrlError as error:
        raise FeedError(FetchResult.BAD_URL, str(error)) from None
    if target.kind == "file":
        return read_file(_resolve(target.location, base_dir), limit)
    started = time.monotonic()
    try:
        with deadline(timeout):
            return _fetch_http(target.location, limit, started + timeout, etag, last_modified)
    except _Expired:
        raise FeedError(
            FetchResult.TIMEOUT, f"the fetch took longer than feedTimeout ({timeout:g}s)"
        ) from None


def _resolve(location: str, base_dir: str) -> Path:
    path = Path(location)
    if not path.is_absolute() and base_dir and (Path(base_dir) / path).exists():
        return Path(base_dir) / path  # relative to the config file first, then cwd
    return path


def _fetch_http(
    url: str, limit: int, end: float, etag: str | None, last_modified: str | None
) -> Fetched:
    headers = {"User-Agent": USER_AGENT, "Accept": "text/calendar, */*;q=0.5"}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    origin = urlsplit(url)
    with _Session() as session:
        session.max_redirects = MAX_REDIRECTS
        for _hop in range(MAX_REDIRECTS + 1):
            response = _get(session, url, headers, end)
            with response:
                if response.is_redirect:
                    url = _next_hop(
                        url, response.headers.get("Location", ""), origin.hostname, origin.scheme
                    )
                    continue
                return _answer(response, limit, conditional=bool(etag or last_modified))
    raise FeedError(FetchResult.BAD_REDIRECT, f"more than {MAX_REDIRECTS} redirects")


def _get(session: _Session, url: str, headers: dict[str, str], end: float) -> requests.Response:
    left = max(0.001, end - time.monotonic())
    try:
        return session.get(
            url,
            headers=headers,
            timeout=(min(10.0, left), left),
            stream=True,
            allow_redirects=False,
        )
    except requests.Timeout:
        raise FeedError(FetchResult.TIMEOUT, "no answer in time") from None
    except (
        requests.RequestException,
        ValueError,
        UnicodeError,
        http.client.HTTPException,
        OSError,
    ) as error:
        raise FeedError(FetchResult.NETWORK_ERROR, cause(error)) from None


def _next_hop(current: str, location: str, host: str | None, scheme: str) -> str:
    """The redirect target, if our policy follows it: http(s), the same host, no downgrade."""
    try:
        target = urljoin(current, location.strip())
        parts = urlsplit(target)
        hostname, _port = parts.hostname, parts.port
    except ValueError:
        raise FeedError(
            FetchResult.BAD_REDIRECT, "a redirect with a malformed Location header"
        ) from None
    if not location.strip() or parts.scheme not in ("http", "https") or not hostname:
        raise FeedError(
            FetchResult.BAD_REDIRECT, "a redirect with a malformed or non-http Location header"
        )
    if hostname != (host or "").lower():
        raise FeedError(
            FetchResult.BAD_REDIRECT,
            f"a redirect to another host ({printable(hostname, 80)}) is not followed;"
            " put the final address in the configuration",
        )
    if scheme == "https" and parts.scheme == "http":
        raise FeedError(FetchResult.BAD_REDIRECT, "a redirect from https to http is not followed")
    return target


def _answer(response: requests.Response, limit: int, conditional: bool) -> Fetched:
    if response.status_code == 304:
        if not conditional:
            raise FeedError(
                FetchResult.HTTP_ERROR, "HTTP 304 Not Modified to a request without a cached copy"
            )
        return Fetched(None)
    if response.status_code != 200:
        raise FeedError(FetchResult.HTTP_ERROR, status_text(response.status_code))
    declared = response.headers.get("Content-Length", "")
    if declared.isascii() and declared.isdigit() and int(declared) > limit:
        raise FeedError(FetchResult.TOO_LARGE, f"the feed is larger than maxFeedBytes ({limit})")
    body = bytearray()
    try:
        for chunk in response.iter_content(CHUNK):
            body += chunk
            if len(body) > limit:  # decompressed bytes: a gzip bomb stops here
                raise FeedError(
                    FetchResult.TOO_LARGE, f"the feed is larger than maxFeedBytes ({limit})"
                )
    except requests.RequestException as error:
        raise FeedError(FetchResult.NETWORK_ERROR, cause(error)) from None
    return Fetched(bytes(body), _header(response, "ETag"), _header(response, "Last-Modified"))


def _header(response: requests.Response, name: str) -> str | None:
    value = response.headers.get(name)
    return value if value and len(value) <= 200 and value.isprintable() else None


def status_text(code: int) -> str:
    """``HTTP 404 Not Found``: the standard phrase, never the server's (it may echo the URL)."""
    try:
        return f"HTTP {code} {http.HTTPStatus(code).phrase}"
    except ValueError:
        return f"HTTP {code}"


def cause(error: BaseException) -> str:
    """A readable cause from an exception chain, without the URL the outer ones repeat."""
    seen: list[BaseException] = []
    stack = [error]
    while stack and len(seen) < 20:
        current = stack.pop()
        if current in seen:
            continue
        seen.append(current)
        stack.extend(
            e
            for e in (
                current.__cause__,
                current.__context__,
                *current.args,
                getattr(current, "reason", None),
            )
            if isinstance(e, BaseException)
        )
    for item in reversed(seen):  # the deepest first
        text = _known(item)
        if text:
            return text
    return f"{type(error).__name__} (no further detail)"


def _known(error: BaseException) -> str | None:
    if isinstance(error, ssl.SSLCertVerificationError):
        return f"TLS certificate not accepted: {printable(error.verify_message or '', 100)}"
    if isinstance(error, ssl.SSLError):
        return f"TLS error: {printable(str(error.reason or type(error).__name__), 100)}"
    if isinstance(error, socket.gaierror):
        return "cannot resolve the host name"
    if isinstance(error, ConnectionRefusedError):
        return "connection refused"
    if isinstance(error, ConnectionResetError):
        return "connection reset by the server"
    if isinstance(error, http.client.RemoteDisconnected | requests.exceptions.ChunkedEncodingError):
        return "the server closed the connection before a complete answer"
    if isinstance(error, http.client.HTTPException | requests.exceptions.ContentDecodingError):
        return f"a malformed HTTP answer ({type(error).__name__})"
    if isinstance(error, OSError) and error.errno is not None and error.strerror:
        return printable(error.strerror.lower(), 100)
    return None


def read_file(path: Path, limit: int) -> Fetched:
    """A regular file of at most ``limit`` bytes; a FIFO, device or directory is refused."""
    try:
        return Fetched(read_regular(path, limit))
    except NotRegularFile:
        raise FeedError(
            FetchResult.FILE_ERROR, "not a regular file (a directory, a pipe or a device)"
        ) from None
    except FileTooLarge:
        raise FeedError(
            FetchResult.TOO_LARGE, f"the feed is larger than maxFeedBytes ({limit})"
        ) from None
    except OSError as error:
        text = error.strerror or errno.errorcode.get(error.errno or 0, type(error).__name__)
        raise FeedError(FetchResult.FILE_ERROR, f"cannot read the file: {text}") from None
