"""A hostile calendar server on loopback: every way a feed server can misbehave.

Raw sockets (no http.server), so a scenario can break HTTP itself: trickle a body, drip
headers, flood ``100 Continue``, send a gzip bomb or a malformed ``Location``. Each scenario is a
path prefix: ``server.url("trickle")`` -> ``http://127.0.0.1:<port>/trickle/private-<SECRET>/
basic.ics?token=<SECRET>``. Starting is immediate and ``stop()`` returns at once: it closes the
listening socket and every open connection (no 0.5 s poll loop).
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib
from collections.abc import Callable
from pathlib import Path

CHUNK = 64 * 1024
SECRET = "s3cr3tT0KEN"  # in every URL path and query; must never appear in any output
CALENDAR = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//hostile//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:1@hostile\r\nDTSTAMP:20260301T000000Z\r\n"
    b"DTSTART:20260302T085000Z\r\nDTEND:20260302T091000Z\r\n"
    b"SUMMARY:Data 8 surge\r\nDESCRIPTION:user: 3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
OTHER = CALENDAR.replace(b"user: 3", b"user: 5")
LOGIN_PAGE = (
    "<!DOCTYPE html><html><head><title>Sign in</title></head><body>"
    f"<form action='/login?next=/private-{SECRET}/basic.ics'>Sign in to continue</form>"
    "</body></html>"
).encode()


Handler = Callable[["HostileFeedServer", "Connection"], None]


class Connection:
    """One accepted client: its request and helpers that stop when the server stops."""

    def __init__(self, sock: socket.socket, stopping: threading.Event, request: bytes) -> None:
        self.sock, self.stopping, self.request = sock, stopping, request
        self.headers = _headers(request)
        self.count = 0  # this request's number among its scenario's requests (from 1)

    def send(self, data: bytes) -> bool:
        if self.stopping.is_set():
            return False
        try:
            self.sock.sendall(data)
        except OSError:
            return False
        return True

    def trickle(self, data: bytes, every: float) -> None:
        for index in range(len(data)):
            if not self.send(data[index : index + 1]) or self.stopping.wait(every):
                return

    def answer(self, status: str, body: bytes = b"", headers: tuple[str, ...] = ()) -> None:
        head = [
            f"HTTP/1.1 {status}",
            *headers,
            f"Content-Length: {len(body)}",
            "Connection: close",
            "",
            "",
        ]
        self.send("\r\n".join(head).encode("latin-1") + body)


class HostileFeedServer:
    """Serves every scenario of SCENARIOS on 127.0.0.1 (and ``localhost`` names the same host
    under another name, for the cross-host redirect)."""

    def __init__(self, every: float = 1.0) -> None:
        self.every = every  # seconds between trickled bytes
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.counter = 0  # requests served, all scenarios
        self.counts: dict[str, int] = {}  # requests served, by scenario
        self.mode = "ok"  # what the "switch" scenario serves (a test changes it)
        self.raw = b""  # what the "raw" scenario sends, byte for byte, before it closes
        self.big: Path | None = None  # the file the "big" scenario streams (a benchmark sets it)
        self._stopping = threading.Event()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="hostile-feed", daemon=True)

    def __enter__(self) -> HostileFeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> HostileFeedServer:
        bomb()
        self._thread.start()
        return self

    def url(self, scenario: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}/{scenario}/private-{SECRET}/basic.ics?token={SECRET}"

    def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        with self._lock:
            for sock in list(self._open):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(2)

    def _accept(self) -> None:
        while not self._stopping.is_set():
            try:
                sock, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        with self._lock:
            self._open.add(sock)
        try:
            self._answer(sock)
        except OSError:  # the client went away: nothing to do (and no thread exception)
            pass
        finally:
            with self._lock:
                self._open.discard(sock)
            with contextlib.suppress(OSError):
                sock.close()

    def _answer(self, sock: socket.socket) -> None:
        request = _read_request(sock)
        if request is not None and request[:1] == b"\x16":
            sock.sendall(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n")
        elif request is not None:
            conn = Connection(sock, self._stopping, request)
            path = request.split(b" ", 2)[1].decode("latin-1") if b" " in request else "/"
            scenario = path.strip("/").split("/", 1)[0]
            with self._lock:
                self.counter += 1
                conn.count = self.counts[scenario] = self.counts.get(scenario, 0) + 1
                self.requests.append((path, conn.headers))
            SCENARIOS.get(scenario, _not_found)(self, conn)


def _read_request(sock: socket.socket) -> bytes | None:
    sock.settimeout(5)
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = sock.recv(4096)
            if not chunk:
                return None
            data += chunk
            if data[:1] == b"\x16":  # a TLS ClientHello: answered in plain HTTP, as servers do
                break
    return data or None


def _headers(request: bytes) -> dict[str, str]:
    found = {}
    for line in request.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if value:
            found[name.strip().lower()] = value.strip()
    return found


def _not_found(server: HostileFeedServer, conn: Connection) -> None:
    conn.answer("404 Not Found")


def _gzip_bomb(size: int) -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: the gzip container
    block = b"\0" * (1 << 20)
    return b"".join(packer.compress(block) for _ in range(size >> 20)) + packer.flush()


_BOMB: list[bytes] = []


def bomb() -> bytes:
    """A gzip body of about 64 KB that inflates to 64 MiB (built once, at the first start)."""
    if not _BOMB:
        _BOMB.append(_gzip_bomb(64 << 20))
    return _BOMB[0]


def _ok(server: HostileFeedServer, conn: Connection) -> None:
    if conn.headers.get("if-none-match") == '"v1"':
        conn.answer("304 Not Modified", headers=('ETag: "v1"',))
        return
    conn.answer("200 OK", CALENDAR, ('ETag: "v1"', "Content-Type: text/calendar"))


def _big(server: HostileFeedServer, conn: Connection) -> None:
    if server.big is None:
        conn.answer("404 Not Found")
        return
    size = server.big.stat().st_size
    conn.send(f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\nConnection: close\r\n\r\n".encode())
    with server.big.open("rb") as file:
        while (chunk := file.read(CHUNK)) and conn.send(chunk):
            pass


def _trickle(server: HostileFeedServer, conn: Connection) -> None:
    conn.send(f"HTTP/1.1 200 OK\r\nContent-Length: {len(CALENDAR)}\r\n\r\n".encode())
    conn.trickle(CALENDAR, server.every)


def _trickle_no_length(server: HostileFeedServer, conn: Connection) -> None:
    conn.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n")
    conn.trickle(CALENDAR * 100, server.every)


def _drip_headers(server: HostileFeedServer, conn: Connection) -> None:
    conn.send(b"HTTP/1.1 200 OK\r\n")
    for index in range(100000):
        if not conn.send(f"X-Drip-{index}: {'a' * 10}\r\n".encode()) or conn.stopping.wait(
            server.every
        ):
            return


def _continue_flood(server: HostileFeedServer, conn: Connection) -> None:
    while conn.send(b"HTTP/1.1 100 Continue\r\n\r\n") and not conn.stopping.wait(server.every / 10):
        pass


def _huge(server: HostileFeedServer, conn: Connection) -> None:
    conn.send(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + CALENDAR[:-15])
    block = b"BEGIN:VEVENT\r\nSUMMARY:x\r\nEND:VEVENT\r\n" * 2000
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and conn.send(block):
        pass


def _gzip(server: HostileFeedServer, conn: Connection) -> None:
    conn.answer("200 OK", bomb(), ("Content-Encoding: gzip", "Content-Type: text/calendar"))


def _redirect(location: str) -> Handler:
    def handler(server: HostileFeedServer, conn: Connection) -> None:
        target = location.format(port=server.port, secret=SECRET)
        conn.answer("302 Found", headers=(f"Location: {target}",))

    return handler


def _html_login(server: HostileFeedServer, conn: Connection) -> None:
    conn.answer("200 OK", LOGIN_PAGE, ("Content-Type: text/html; charset=utf-8",))


def _flapping_etag(server: HostileFeedServer, conn: Connection) -> None:
    conn.answer("200 OK", CALENDAR, (f'ETag: "v{conn.count}"',))


def _flapping_content(server: HostileFeedServer, conn: Connection) -> None:
    body = CALENDAR if conn.count % 2 else OTHER
    conn.answer("200 OK", body, (f'ETag: "v{conn.count % 2}"',))


def _not_modified(server: HostileFeedServer, conn: Connection) -> None:
    conn.answer("304 Not Modified", headers=('ETag: "v1"',))


def _secret_reason(server: HostileFeedServer, conn: Connection) -> None:
    conn.answer(
        f"403 Forbidden for /private-{SECRET}/basic.ics?token={SECRET}",
        f"denied: {SECRET}\n".encode(),
    )


def _reset(server: HostileFeedServer, conn: Connection) -> None:
    conn.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")


def _binary(server: HostileFeedServer, conn: Connection) -> None:
    conn.answer("200 OK", bytes(range(256)) * 64, ("Content-Type: application/octet-stream",))


def _raw(server: HostileFeedServer, conn: Connection) -> None:
    conn.send(server.raw)


def _switch(server: HostileFeedServer, conn: Connection) -> None:
    SCENARIOS[server.mode](server, conn)


SCENARIOS: dict[str, Handler] = {
    "switch": _switch,
    "raw": _raw,
    "big": _big,
    "ok": _ok,
    "trickle": _trickle,
    "trickle-no-length": _trickle_no_length,
    "drip-headers": _drip_headers,
    "continue-flood": _continue_flood,
    "huge": _huge,
    "gzip-bomb": _gzip,
    "redirect-loop": _redirect("/redirect-loop/private-{secret}/basic.ics"),
    "redirect-ok": _redirect("/ok/private-{secret}/basic.ics"),
    "redirect-other-host": _redirect("http://localhost:{port}/ok/private-{secret}/basic.ics"),
    "redirect-to-file": _redirect("file:///etc/passwd"),
    "redirect-bad-ipv6": _redirect("http://[::1/private-{secret}"),
    "redirect-bad-port": _redirect("http://127.0.0.1:99999999/private-{secret}"),
    "redirect-empty": _redirect(""),
    "redirect-to-error": _redirect("/secret-reason/private-{secret}/basic.ics"),
    "html-login": _html_login,
    "flapping-etag": _flapping_etag,
    "flapping-content": _flapping_content,
    "not-modified": _not_modified,
    "secret-reason": _secret_reason,
    "reset": _reset,
    "binary": _binary,
}
