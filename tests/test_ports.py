"""testkit.ports.PortHolder on real sockets: a server's port held across its restart is never
free for another process, and the restarted server gets it back."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest

from testkit.ports import PortHolder, free_port, listeners

# A stand-in for kube-apiserver --permit-port-sharing: listens on 127.0.0.1:PORT with
# SO_REUSEPORT (or without, given "plain") and answers every connection with b"up".
SERVER = """
import socket, sys
sock = socket.socket()
sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
if sys.argv[2] == "shared":
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
sock.bind(("127.0.0.1", int(sys.argv[1])))
sock.listen(8)
print("listening", flush=True)
while True:
    conn, _ = sock.accept()
    conn.sendall(b"up")
    conn.close()
"""


def server(port: int, mode: str = "shared") -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port), mode], stdout=subprocess.PIPE
    )
    assert process.stdout is not None and process.stdout.readline() == b"listening\n"
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    process.kill()
    process.wait(timeout=10)


def answer(port: int) -> bytes:
    """What a client reads from the port: b"up" from the server, b"" or an error otherwise."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
            return conn.recv(2)
    except OSError as error:
        return type(error).__name__.encode()


def take(port: int, *, reuse_address: bool) -> str:
    """What another process trying to listen on the port gets: a plain bind (kwokctl's port
    probe) or a Go server's (net.Listen sets SO_REUSEADDR)."""
    with socket.socket() as sock:
        if reuse_address:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
            sock.listen(1)
        except OSError as error:
            return error.strerror or "error"
    return "taken"


def test_the_port_stays_taken_while_the_server_is_down_and_goes_back_to_it() -> None:
    port = free_port()
    first = server(port)
    holder = PortHolder(port)
    try:
        assert listeners(port) == 1  # bound beside the server, not listening: no client reaches it
        assert answer(port) == b"up"
        stop(first)
        for reuse_address in (False, True):  # between the server's exit and serve()
            assert take(port, reuse_address=reuse_address) == "Address already in use"
        holder.serve()
        for reuse_address in (False, True):
            assert take(port, reuse_address=reuse_address) == "Address already in use"
        assert answer(port) in (b"", b"ConnectionResetError")  # refused at once, no hang
        second = server(port)
        try:
            holder.hand_over(second, timeout=30)
            assert listeners(port) == 1  # the holder has let go, the new server stays
            assert answer(port) == b"up"
        finally:
            stop(second)
    finally:
        holder.close()
        stop(first)


def test_a_server_without_port_sharing_is_named() -> None:
    port = free_port()
    plain = server(port, "plain")
    try:
        with pytest.raises(RuntimeError, match="--permit-port-sharing=true"):
            PortHolder(port)
    finally:
        stop(plain)
