"""A calendar feed over HTTP, on loopback unless told (a stand-in for Google or Outlook), for
tests, benchmarks and the demo.

It serves ``body`` at its ``path`` (other paths: 404) with an ETag (``"v<version>"``) and
answers a conditional GET with that ETag by 304; a test changes ``body``, ``status`` and
``delay`` as it goes (``publish`` also moves the ETag on, as a calendar app does when the
calendar changes) and reads ``requests`` (the headers of each request). It stops at once (no
half-second poll). Hostile answers are testkit.hostile_feed's job.
"""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType


class FeedServer:
    """``host``: the address to listen on (loopback unless a pod must reach it)."""

    def __init__(
        self,
        body: bytes = b"",
        path: str = "/calendar/ical/s3cr3t/basic.ics",
        host: str = "127.0.0.1",
    ) -> None:
        self.body, self.status, self.delay, self.version = body, 200, 0.0, 1
        self.path = path
        self.requests: list[dict[str, str]] = []
        self.httpd = ThreadingHTTPServer((host, 0), _handler(self))
        self.url = f"http://{host}:{self.httpd.server_address[1]}{path}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    @property
    def etag(self) -> str:
        return f'"v{self.version}"'

    def publish(self, body: bytes) -> None:
        """A changed calendar: new body, new ETag."""
        self.body, self.version = body, self.version + 1

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FeedServer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _handler(server: FeedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(dict(self.headers))
            time.sleep(server.delay)
            if self.path != server.path:
                self.send_error(404)
                return
            if self.headers.get("If-None-Match") == server.etag and server.status == 200:
                self.send_response(304)
                self.end_headers()
                return
            body = server.body
            self.send_response(server.status)
            self.send_header("ETag", server.etag)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler
