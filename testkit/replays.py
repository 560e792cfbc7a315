"""A recorded surge replayed into the event reports' Tracker, as the pod watch and a round's
node LIST would feed it (tests of reports/tracker.py, reporter.py and the class-sized report)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from node_placeholder_scaler.config.settings import Settings, load_settings
from node_placeholder_scaler.observed import NodeInfo, Resources
from node_placeholder_scaler.reports.timelines import NodeTimeline, PodRecord

from .fakes import GI

SELECTOR = {"hub.jupyter.org/pool-name": "user-pool"}  # the surge bench's user pool
FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "timelines"
CONFIG = """
namespace: node-placeholder
calendars: [{name: course, url: https://example.org/c.ics}]
pools:
  user:
    nodeSelector: {hub.jupyter.org/pool-name: user-pool}
"""


def settings() -> Settings:
    """The surge bench's controller settings (one pool, user)."""
    return load_settings(CONFIG, "config.yaml", {})


def record(pod: Any, i: int) -> PodRecord:
    """The watch's record of a recorded pod (a student of 500m / 1.5 Gi)."""
    return PodRecord(
        uid=f"uid-{i}",
        name=pod.name,
        namespace="hub",
        created=pod.created,
        labels={},
        node_selector=SELECTOR,
        affinity=(),
        requests=Resources(500, 1536 * 2**20),
        scheduled=pod.scheduled,
        node=pod.node,
        deleted=pod.deleted,
    )


def recorder(pod: Any, i: int) -> Callable[[PodRecord | None], PodRecord]:
    """The tracker's update for the recorded pod ``i`` (whatever it held before)."""
    return lambda old: record(pod, i)


def node_info(n: NodeTimeline, at: datetime) -> NodeInfo:
    """A recorded node as a round's node LIST at ``at`` sees it (4 CPU, 16 Gi)."""
    ready = n.ready is not None and n.ready <= at
    return NodeInfo(
        n.name,
        dict(SELECTOR),
        Resources(3900, 16 * GI),
        ready,
        False,
        (),
        n.created,
        n.ready if ready else None,
    )
