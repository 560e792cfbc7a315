"""One HTTP port: /metrics, /healthz and /readyz (stdlib http.server in a daemon thread)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
POLL_SECONDS = 0.05  # how soon serve_forever notices stop(); a select() call each time


def utc_now() -> datetime:
    return datetime.now(UTC)


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


class Server:
    """Serves the probes and metrics until ``stop``."""

    def __init__(
        self,
        port: int,
        registry: CollectorRegistry,
        health: Health,
        clock: Clock,
        host: str = "",
    ) -> None:
        handler = _handler(registry, health, clock)
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
        logger.info("serving /metrics, /healthz and /readyz on port %s", self.port)
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


def _handler(
    registry: CollectorRegistry, health: Health, clock: Clock
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
            else:
                self._send(404, b"not found\n", "text/plain")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            logger.debug("http: " + format, *args)

    return Handler
