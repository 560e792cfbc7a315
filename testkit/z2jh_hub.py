"""The hub process of testkit/z2jh_students.py: KubeSpawner's spawn path for each student.

Reads JSON lines on stdin (``config``, then ``spawn``/``stop`` with a student's name) and writes
one JSON line per result on stdout (``started``/``failed``/``stopped``). The Kubernetes client
is configured from $KUBECONFIG, as KubeSpawner does outside a cluster. End of input ends the
process (pods it started stay).
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class User:
    """What KubeSpawner reads of JupyterHub's User: its name, id and address."""

    name: str
    id: int

    @property
    def url(self) -> str:
        return f"/user/{self.name}/"


@dataclass(frozen=True)
class HubInfo:
    """What KubeSpawner reads of JupyterHub's Hub object (the addresses it gives the pod)."""

    public_host: str = ""
    url: str = "http://hub:8081/hub/"
    base_url: str = "/hub/"
    api_url: str = "http://hub:8081/hub/api"


def emit(result: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


class Students:
    """One KubeSpawner per student, as a hub keeps one Spawner per user server."""

    def __init__(self, config: dict[str, Any]) -> None:
        from traitlets.config import Config  # with JupyterHub's packages: this process only

        self.config = Config({"KubeSpawner": config})
        self.spawners: dict[str, Any] = {}
        self.tasks: set[asyncio.Task[None]] = set()

    def spawner(self, name: str) -> Any:
        from kubespawner import KubeSpawner

        if name not in self.spawners:
            self.spawners[name] = KubeSpawner(
                config=self.config,
                user=User(name, len(self.spawners) + 1),
                hub=HubInfo(),
                api_token=f"token-{name}",
                oauth_client_id=f"jupyterhub-user-{name}",
            )
        return self.spawners[name]

    async def spawn(self, name: str) -> None:
        """As JupyterHub's User.spawn: start() within start_timeout (z2jh: 300 s), and after a
        failure or timeout stop() the server (its pod is deleted)."""
        t0 = time.monotonic()
        spawner = self.spawner(name)
        try:
            url = await asyncio.wait_for(spawner.start(), spawner.start_timeout)
        except Exception as error:  # a student's failure is a result, not the hub's end
            seconds, message = time.monotonic() - t0, f"{type(error).__name__}: {error}"
            try:
                await spawner.stop()
            except Exception as cleanup:
                message += f"; stopping failed: {type(cleanup).__name__}: {cleanup}"
            emit({"name": name, "event": "failed", "seconds": seconds, "error": message})
            return
        emit(
            {
                "name": name,
                "event": "started",
                "pod": spawner.pod_name,
                "url": str(url),
                "seconds": time.monotonic() - t0,
            }
        )

    async def stop(self, name: str) -> None:
        try:
            await self.spawner(name).stop(now=True)
        except Exception as error:
            emit({"name": name, "event": "failed", "error": f"{type(error).__name__}: {error}"})
            return
        emit({"name": name, "event": "stopped"})

    def run(self, op: str, name: str) -> None:
        coroutine = self.spawn(name) if op == "spawn" else self.stop(name)
        task = asyncio.ensure_future(coroutine)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)


async def serve() -> None:
    students: Students | None = None
    while line := await asyncio.to_thread(sys.stdin.readline):
        message = json.loads(line)
        if message["op"] == "config":
            students = Students(message["config"])
        elif students is not None and message["op"] in ("spawn", "stop"):
            students.run(message["op"], str(message["name"]))
        else:
            raise SystemExit(f"unexpected request {message['op']!r}")
    if students is not None:
        for task in list(students.tasks):
            task.cancel()


def main() -> int:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(serve())
    return 0


if __name__ == "__main__":
    sys.exit(main())
