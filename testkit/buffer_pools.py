"""Two CapacityBuffer pools on the fake cluster, their buffers taken from recorded API objects
(tests/fixtures/capacitybuffers/*.json, recorded from the test cluster), and a round over them."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.decisions import PoolDecision
from node_placeholder_scaler.model import Occurrence, Plan, PoolTarget
from node_placeholder_scaler.reconcile import reconcile_once
from testkit.fakes import T0, FakeCluster
from testkit.unit import FIXTURES

RECORDED = FIXTURES / "capacitybuffers"
NAMESPACE = "node-placeholder"  # FakeCluster's
CONFIG = f"""
namespace: {NAMESPACE}
calendars: [{{name: courses, url: /dev/null}}]
pools:
  user: {{nodeSelector: {{pool: user}}, backend: capacityBuffer, buffer: buffer-user}}
  gpu: {{nodeSelector: {{pool: gpu}}, backend: capacityBuffer}}
"""
SETTINGS = load_settings(CONFIG, "config.yaml", {})


def recorded(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((RECORDED / f"{name}.json").read_text())
    return body


def with_name(body: dict[str, Any], name: str, replicas: int | None = None) -> dict[str, Any]:
    """A recorded buffer renamed into the pools' namespace, its replicas set."""
    body = copy.deepcopy(body)
    body["metadata"]["name"] = name
    body["metadata"]["namespace"] = NAMESPACE
    if replicas is not None:
        body["spec"]["replicas"] = replicas
    return body


def fake_with(user: tuple[str, int | None], gpu: tuple[str, int | None] | None) -> FakeCluster:
    """A fake holding buffer-user (and buffer-gpu) from recorded states, replicas set."""
    buffers = {"buffer-user": with_name(recorded(user[0]), "buffer-user", user[1])}
    if gpu is not None:
        buffers["buffer-gpu"] = with_name(recorded(gpu[0]), "buffer-gpu", gpu[1])
    return FakeCluster(buffers=buffers)


def plan(user: int, gpu: int = 0, *, events: Sequence[Occurrence] = ()) -> Plan:
    pools = {
        "user": PoolTarget("user", user, user or None, False, tuple(events)),
        "gpu": PoolTarget("gpu", gpu, gpu or None, False, ()),
    }
    return Plan(T0, pools, (), ())


def run(fake: FakeCluster, the_plan: Plan, *, dry_run: bool = False) -> dict[str, PoolDecision]:
    """One round over both pools -> each pool's decision."""
    result = reconcile_once(fake, the_plan, SETTINGS, NAMESPACE, dry_run=dry_run)
    return {d.pool: d for d in result.pools}
