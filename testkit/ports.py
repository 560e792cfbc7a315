"""Loopback ports for test processes: a free one, and holding one across a server's restart.

Several test clusters share this machine, and kwokctl gives each cluster's components ports
counting down from 32767, so a port a stopped API server gives back is soon taken by another
cluster. ``PortHolder`` keeps it: it binds the port with SO_REUSEPORT beside the running server
(started with ``--permit-port-sharing``) before the server stops, and gives it back only once
the restarted server listens on it too. At no moment is the port free for anyone else.
"""

from __future__ import annotations

import socket
import subprocess
import threading
import time
from pathlib import Path

LISTEN = "0A"  # the TCP state LISTEN in /proc/net/tcp


def free_port() -> int:
    """A port the kernel has just given out on 127.0.0.1 (free when this returns)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
    return True


def listeners(port: int) -> int:
    """How many sockets of this network namespace listen on TCP ``port`` (any address)."""
    count = 0
    for table in (Path("/proc/net/tcp"), Path("/proc/net/tcp6")):
        if not table.is_file():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                count += 1
    return count


class PortHolder:
    """Holds ``address:port`` beside the server that listens there (SO_REUSEPORT on both).

    ``serve()`` once the server is gone: it listens and closes every connection at once
    (clients see a reset, as with no server). ``hand_over(process)`` once the server is started
    again: it waits until the new server listens too, then lets go."""

    def __init__(self, port: int, address: str = "127.0.0.1") -> None:
        self.port = port
        self.sock = socket.socket()
        # SO_REUSEPORT and not SO_REUSEADDR: two SO_REUSEADDR sockets may both bind a port
        # that neither listens on yet, so with it a Go server (net.Listen sets SO_REUSEADDR)
        # could take the port between the stop and ``serve``.
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            self.sock.bind((address, port))
        except OSError as error:
            self.sock.close()
            raise RuntimeError(
                f"cannot hold {address}:{port} beside its server ({error}): the server must "
                "bind it with SO_REUSEPORT (kube-apiserver --permit-port-sharing=true, which "
                "scripts/testcluster up sets)"
            ) from None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def serve(self) -> None:
        self.sock.listen(64)
        self.sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._serve, name="port-holder", daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
            conn.close()

    def hand_over(self, process: subprocess.Popen[bytes], timeout: float = 120) -> None:
        """Wait until ``process`` listens on the port beside us (or exits, or ``timeout``
        passes), then close."""
        ours = 1 if self._thread is not None else 0
        deadline = time.monotonic() + timeout
        while (
            listeners(self.port) <= ours and process.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        self.close()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.sock.close()
