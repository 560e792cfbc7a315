"""The calendar served to the controller over loopback HTTP, its config, and its process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

import yaml

from testkit.ics import Event, calendar

REPO = Path(__file__).resolve().parents[2]
POOL_SELECTOR = {"hub.jupyter.org/pool-name": "user-pool"}
SERIES = "surge-1@node-placeholder-scaler"  # the event's UID


def course_ics(
    start: datetime,
    length: timedelta,
    nodes: int,
    lead: timedelta,
    title: str = "Course login surge",
) -> bytes:
    """One event, T0 .. T0 + length, asking for `user: nodes` with its own lead."""
    description = f"{title}\nuser: {nodes}\nlead: {int(lead.total_seconds())}s"
    event = Event(title, start, start + length, description, uid=SERIES)
    return calendar([event], prodid="-//node-placeholder-scaler//surge//EN")


def events_ics(events: list[tuple[str, str, datetime, datetime, str]]) -> bytes:
    """Several events (title, uid, start, end, description): the courses of a scenario."""
    return calendar(
        [
            Event(title, start, end, description, uid=uid)
            for title, uid, start, end, description in events
        ],
        prodid="-//node-placeholder-scaler//surge//EN",
    )


def write_config(
    path: Path,
    *,
    namespace: str,
    feed_url: str,
    interval_s: int,
    max_nodes: int,
    grace_s: int,
    metrics_port: int,
    reports: dict[str, object] | None = None,
    buffer: str | None = None,
    pool_extra: dict[str, object] | None = None,
    extra: dict[str, object] | None = None,
) -> Path:
    pool: dict[str, object] = {
        "nodeSelector": POOL_SELECTOR,
        "minReplicas": 0,
        "maxReplicas": max_nodes,
    }
    if buffer:
        pool.update(backend="capacityBuffer", buffer=buffer)
    pool.update(pool_extra or {})
    config = {
        "namespace": namespace,
        "leadTime": 0,
        "interval": max(1, interval_s),
        "calendarRefreshInterval": max(1, interval_s),
        "metricsPort": metrics_port,
        "metricsAddress": "127.0.0.1",
        "calendars": [{"name": "course", "url": feed_url}],
        "pools": {"user": pool},
        "headroom": {"nodeGracePeriod": max(1, grace_s)},
    }
    if reports:
        config["reports"] = reports
    config.update(extra or {})
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path


def start_controller(config: Path, kubeconfig: Path, log: Path) -> subprocess.Popen[bytes]:
    """``node-placeholder-scaler run`` (metrics on loopback) against the test cluster."""
    env = dict(os.environ, KUBECONFIG=str(kubeconfig))
    out = log.open("wb")
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "node_placeholder_scaler",
            "run",
            "--config",
            str(config),
            "--kubeconfig",
            str(kubeconfig),
        ],
        stdout=out,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=REPO,
    )


def stop_controller(proc: subprocess.Popen[bytes] | None) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


_ROUND = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) .*? desired=(\d+) .*?"
    r"phase=(\w+) .*?why=\"([^\"]*)\""
)


def class_rounds(log: Path) -> list[dict[str, object]]:
    """The class-sized rounds of the controller's log: when (wall seconds; the log's local
    time), the desired warm count, the phase and why, one entry per change of phase or
    count."""
    out: list[dict[str, object]] = []
    if not log.is_file():
        return out
    for line in log.read_text(errors="replace").splitlines():
        m = _ROUND.match(line)
        if m is None:
            continue
        at = time.mktime(time.strptime(m[1], "%Y-%m-%d %H:%M:%S")) + int(m[2]) / 1000
        entry: dict[str, object] = {"t": at, "desired": int(m[3]), "phase": m[4], "why": m[5]}
        if not out or (out[-1]["phase"], out[-1]["desired"]) != (m[4], int(m[3])):
            out.append(entry)
    return out


def metrics(port: int) -> dict[str, float]:
    """The controller's gauges for pool user (name without prefix -> value); {} if down."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=2) as r:
            text = r.read().decode()
    except OSError:
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("node_placeholder_") and 'pool="user"' in line:
            name = line.split("{", 1)[0].removeprefix("node_placeholder_")
            try:
                values[name] = float(line.rsplit(" ", 1)[1])
            except ValueError:
                continue
    return values
