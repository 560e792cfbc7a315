"""One HTTP port: /metrics, /healthz, /readyz and the status page /status (stdlib
http.server in a daemon thread). The page is rendered by the loop after each round and only
served from here (StatusBoard): a request never plans, reads a feed or calls the API."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

from .port import Clock

logger = logging.getLogger(__name__)

POLL_SECONDS = 0.05  # how soon serve_forever notices stop(); a select() call each time


@dataclass
class Health:
    """What the probes report; the loop updates it after every round (thread-safe).

    Both probes depend only on this process: the controller started and completes rounds.
    Feed and API health are in the metrics, ``plan``/``validate`` and Events, never here, so
    an outage of a calendar server or of the API cannot fail a rollout or restart the pod.
    """

    interval: timedelta
    started: datetime
    last_round: datetime | None = None
    role: Callable[[], str] = field(default=lambda: "")  # leader election: leader / standby
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def round_done(self, at: datetime) -> None:
        with self._lock:
            self.last_round = at

    def healthy(self, now: datetime) -> tuple[bool, str]:
        """A round was made within three intervals (counted from the start before the first)."""
        with self._lock:
            since = self.last_round or self.started
        age = now - since
        ok = age <= 3 * self.interval
        what = "last round" if self.last_round else "started, no round yet,"
        return ok, f"{what} {age.total_seconds():.0f}s ago"

    def ready(self, now: datetime) -> tuple[bool, str]:
        """Started and completing rounds: a round finished, the last within three intervals."""
        with self._lock:
            last = self.last_round
        if last is None:
            return False, "not ready: started, no round completed yet"
        age = (now - last).total_seconds()
        if now - last > 3 * self.interval:
            return False, f"not ready: last round {age:.0f}s ago"
        role = self.role()  # leader election: ready as leader and as standby
        return True, f"ok: last round {age:.0f}s ago" + (f" ({role})" if role else "")


STATUS_PATH = "/status"
# The page has no script, frame, form or remote resource: the browser may load nothing else.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def is_page(path: str) -> bool:
    """The status page answers at /status and /, also under a prefix that a proxy keeps
    (JupyterHub's /services/<name>/ and /services/<name>/status)."""
    return path.endswith("/") or path.rsplit("/", 1)[-1] == STATUS_PATH.lstrip("/")


class StatusBoard:
    """The latest status page, published by the loop after each round (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._page: bytes | None = None

    def publish(self, html: str) -> None:
        with self._lock:
            self._page = html.encode()

    def page(self) -> bytes | None:
        with self._lock:
            return self._page


class Server:
    """Serves the probes, the metrics and the status page until ``stop``."""

    def __init__(
        self,
        port: int,
        registry: CollectorRegistry,
        health: Health,
        clock: Clock,
        *,
        host: str = "",
        board: StatusBoard | None = None,
    ) -> None:
        handler = _handler(registry, health, clock, board or StatusBoard())
        self.httpd = ThreadingHTTPServer((host, port), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever,
            kwargs={"poll_interval": POLL_SECONDS},
            name="http",
            daemon=True,
        )

    def start(self) -> Server:
        self.thread.start()
        logger.info("serving /metrics, /healthz, /readyz and %s on port %s", STATUS_PATH, self.port)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _handler(
    registry: CollectorRegistry, health: Health, clock: Clock, board: StatusBoard
) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                self._send(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif path == "/healthz":
                ok, text = health.healthy(clock())
                self._send(200 if ok else 503, (text + "\n").encode(), "text/plain")
            elif path == "/readyz":
                ok, text = health.ready(clock())
                self._send(200 if ok else 503, (text + "\n").encode(), "text/plain")
            elif is_page(path):
                self._page()
            else:
                self._send(404, b"not found\n", "text/plain")

        def _page(self) -> None:
            page = board.page()
            if page is None:
                self._send(503, b"no round completed yet: reload in a moment\n", "text/plain")
            else:
                self._send(200, page, "text/html; charset=utf-8", PAGE_HEADERS)

        def _send(
            self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None
        ) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("http: " + format, *args)

    return Handler
