"""The cluster tests' replica watch fails a reading when it is not watching.

Pointed at a port where nothing listens, the watch never gets an answer: a reading fails
instead of returning the (empty) values seen so far, before and after ``stop``.
"""

from __future__ import annotations

import socket

import pytest
from kubernetes import client

from testkit.controller import ReplicaWatch


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_a_watch_without_answers_fails_its_readings() -> None:
    config = client.Configuration()
    config.host = f"http://127.0.0.1:{_closed_port()}"
    config.retries = False
    watch = ReplicaWatch(client.ApiClient(config), "ns", "placeholder-user")
    watch.LIVE_WAIT = 1.0
    watch.start()
    try:
        with pytest.raises(AssertionError, match=r"stopped watching \(last answer: never"):
            watch.values()
    finally:
        watch.stop()
    with pytest.raises(AssertionError, match="stopped watching"):
        watch.since(0.0)
