"""A recording, fault-injecting HTTP proxy in front of the test cluster's API server.

A client aimed at ``proxy.url`` (plain HTTP on loopback, no credentials) reaches the API server
through the proxy, which authenticates with the admin client's certificate. Every request is
logged as ``(method, path, query)``: the requests a client really made, counted on the wire.
``answer(method, pattern, status, body)`` makes matching requests get that answer instead (a 500,
a body that is not JSON) without reaching the API server. Streams (watches) are passed through
as they come.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import urllib3
from kubernetes import client


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes


@dataclass(frozen=True)
class Rule:
    method: str
    path: re.Pattern[str]
    status: int
    body: bytes
    times: list[int]  # answers left (a one-element list: the count; -1: always)


class ApiProxy:
    """See the module's text. Use as a context manager (``serving``)."""

    def __init__(self, admin: client.ApiClient) -> None:
        configuration = admin.configuration
        self.upstream = configuration.host.rstrip("/")
        self.pool = urllib3.PoolManager(
            cert_file=configuration.cert_file,
            key_file=configuration.key_file,
            ca_certs=configuration.ssl_ca_cert,
            cert_reqs="CERT_REQUIRED",
            headers=_auth_headers(configuration),
        )
        self.log: list[Request] = []
        self.rules: list[Rule] = []
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def client(self) -> client.ApiClient:
        """A kubernetes ApiClient whose every request goes through the proxy."""
        configuration = client.Configuration()
        configuration.host = self.url
        configuration.retries = 0
        return client.ApiClient(configuration)

    def answer(self, method: str, path: str, status: int, body: bytes, *, times: int = -1) -> None:
        """Requests ``method`` to a path (with ``?query`` if any) that fully matches the regex
        ``path`` get this answer (``times`` times; -1: always); ``status`` 0: the connection is
        closed with no answer at all."""
        with self.lock:
            self.rules.append(Rule(method, re.compile(path), status, body, [times]))

    def clear(self) -> None:
        with self.lock:
            self.rules.clear()
            self.log.clear()

    def requests(self) -> list[Request]:
        """The requests logged so far, watches and all."""
        with self.lock:
            return list(self.log)

    def _rule(self, method: str, path: str) -> Rule | None:
        with self.lock:
            for rule in self.rules:
                if rule.method == method and rule.times[0] != 0 and rule.path.fullmatch(path):
                    rule.times[0] -= rule.times[0] > 0
                    return rule
            return None

    @contextmanager
    def serving(self) -> Iterator[ApiProxy]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=10)


def _auth_headers(configuration: client.Configuration) -> dict[str, str]:
    token = (configuration.api_key or {}).get("authorization")
    return {"Authorization": token} if token else {}


def _handler(proxy: ApiProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # the body ends when the connection closes

        def log_message(self, format: str, *args: Any) -> None:
            return  # quiet

        def _any(self) -> None:
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else None
            with proxy.lock:
                proxy.log.append(Request(self.command, parts.path, query, body or b""))
            rule = proxy._rule(self.command, self.path)
            if rule is not None and rule.status == 0:  # hang up without an answer
                self.close_connection = True
                return
            if rule is not None:
                self._send(rule.status, {"Content-Type": "application/json"}, [rule.body])
                return
            headers = {
                k: v
                for k, v in self.headers.items()
                if k.lower() in ("content-type", "accept", "user-agent")
            }
            upstream = proxy.pool.request(
                self.command,
                proxy.upstream + self.path,
                body=body,
                headers=headers,
                preload_content=False,
                redirect=False,
                retries=False,
            )
            try:
                kept = {k: v for k, v in upstream.headers.items() if k.lower() == "content-type"}
                self._send(upstream.status, kept, upstream.stream(4096))
            finally:
                upstream.release_conn()

        def _send(self, status: int, headers: dict[str, str], chunks: Any) -> None:
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            try:
                for chunk in chunks:
                    self.wfile.write(chunk)
                    self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

    return Handler
