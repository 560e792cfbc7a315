"""Helpers of the delivery tests (imported as a top-level module, as tests/cluster does)."""

from __future__ import annotations

import http.server
import subprocess
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE_SCRIPT = REPO / "scripts" / "image"


@dataclass(frozen=True)
class Image:
    tag: str

    def docker(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker client against our engine."""
        proc = subprocess.run(
            [str(IMAGE_SCRIPT), "docker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"docker {' '.join(args)} -> {proc.returncode}\n{proc.stderr[-3000:]}")
        return proc


def script(*args: str, timeout: float = 1800) -> str:
    proc = subprocess.run(
        [str(IMAGE_SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/image {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


class CalendarServer:
    """Serves .ics bodies over plain HTTP on one address (the host end of the real node's link:
    host-internal, reachable from pods, not from outside). ``put(path, body)`` changes a feed."""

    def __init__(self, host: str) -> None:
        feeds: dict[str, bytes] = {}
        self.feeds = feeds

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = feeds.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", "text/calendar; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.1,), daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}{path}"

    def put(self, path: str, body: bytes) -> str:
        self.feeds[path] = body
        return self.url(path)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def ics(*events: tuple[str, datetime, datetime, str]) -> bytes:
    """A calendar of (uid, start, end, description) events, times in UTC."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//nps delivery tests//EN"]
    for uid, start, end, description in events:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{uid}",
            f"DTSTAMP:{start:%Y%m%dT%H%M%SZ}",
            f"DTSTART:{start:%Y%m%dT%H%M%SZ}",
            f"DTEND:{end:%Y%m%dT%H%M%SZ}",
            f"SUMMARY:{uid}",
            f"DESCRIPTION:{description}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()
