"""Resilience branches on the real API server: ``run --once`` beside a leader, and the event
report store meeting a rival writer (409) and an unreadable ConfigMap.

The faults are real: the Lease is held by another identity (as a running replica holds it);
the rival writes go to the API server between the store's read and its write, so the 409s are
the API server's own answers to a stale resourceVersion or a second create.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from node_placeholder_scaler.kube.leases import lease_body
from node_placeholder_scaler.kube.reports import KEY, ReportStore, configmap_name
from node_placeholder_scaler.observed import ClusterError
from node_placeholder_scaler.port import LeaseRecord
from node_placeholder_scaler.reports.record import EventReport, from_json
from testkit.cluster_env import REPO, Env, ical
from testkit.cluster_env import env as env  # noqa: PLC0414  (the fixture, re-exported)

pytestmark = pytest.mark.cluster

LEASE = "node-placeholder-scaler"  # leaderElection.leaseName's default
DOCS = REPO / "docs/operations/high-availability.md"


def documented_refusal() -> str:
    """The message the HA page quotes, placeholders as written there."""
    quoted = re.search(
        r"`(error: <pod> holds the Lease [^`]+)`", " ".join(DOCS.read_text().split())
    )
    assert quoted, f"{DOCS.name} no longer quotes run --once's refusal"
    return quoted.group(1)


def test_run_once_beside_a_leader_writes_nothing_and_says_so(env: Env) -> None:
    env.placeholders("user")
    now = datetime.now(UTC)
    held = LeaseRecord("nps-7d9f-0", 15, now - timedelta(minutes=5), now, 2)
    client.CoordinationV1Api(env.api).create_namespaced_lease(
        env.ns, lease_body(LEASE, env.ns, held)
    )
    calendar = ical([("Lab", now - timedelta(minutes=1), now + timedelta(minutes=30), "user: 2")])
    result = env.run(env.config({"user": ""}, calendar=calendar))
    assert result.returncode == 1, result.stderr[-3000:]
    last = result.stderr.strip().splitlines()[-1]
    expected = (
        documented_refusal()
        .replace("<pod>", "nps-7d9f-0")
        .replace("<ns>", env.ns)
        .replace("<leaseName>", LEASE)
    )
    assert last == f"{expected} (use --dry-run to see its decisions)", last
    assert env.replicas("placeholder-user") == 0  # the calendar asked for 2
    lease = client.CoordinationV1Api(env.api).read_namespaced_lease(LEASE, env.ns)
    assert lease.spec.holder_identity == "nps-7d9f-0"  # neither taken nor released


# --- the report store -------------------------------------------------------------------


class RivalBeforeWrites:
    """A CoreV1Api whose store writes each meet a rival's write made just before them (on the
    same API server), for the first ``rivals`` writes; every answer status is noted."""

    def __init__(self, core: client.CoreV1Api, rivals: int) -> None:
        self.core, self.rivals = core, rivals
        self.statuses: list[int] = []

    def read_namespaced_config_map(self, *args: Any, **kwargs: Any) -> Any:
        return self.core.read_namespaced_config_map(*args, **kwargs)

    def create_namespaced_config_map(self, namespace: str, body: Any, **kwargs: Any) -> Any:
        self._rival(namespace, body["metadata"]["name"])
        return self._noted(self.core.create_namespaced_config_map, namespace, body, **kwargs)

    def replace_namespaced_config_map(
        self, name: str, namespace: str, body: Any, **kwargs: Any
    ) -> Any:
        self._rival(namespace, name)
        return self._noted(self.core.replace_namespaced_config_map, name, namespace, body, **kwargs)

    def _rival(self, namespace: str, name: str) -> None:
        if self.rivals <= 0:
            return
        self.rivals -= 1
        ReportStore(self.core, namespace).add(
            name.removesuffix("-reports"), report(f"rival-{self.rivals}"), retention=10
        )

    def _noted(self, call: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            answer = call(*args, **kwargs)
        except ApiException as error:
            self.statuses.append(int(error.status))
            raise
        self.statuses.append(200)
        return answer


def report(series: str) -> EventReport:
    return from_json({"series": series, "start": "2026-12-07T09:00:00Z", "pool": "user"})


def stored(env: Env) -> list[str]:
    body = env.core.read_namespaced_config_map(configmap_name("placeholder-user"), env.ns)
    return [r["series"] for r in json.loads(body.data[KEY])]


def test_a_rival_write_before_the_create_and_the_replace_is_retried(env: Env) -> None:
    rival = RivalBeforeWrites(env.core, rivals=2)
    store = ReportStore(rival, env.ns)
    store.add("placeholder-user", report("lab"), retention=10)  # create: 409, replace: 409
    assert rival.statuses == [409, 409, 200], rival.statuses
    assert stored(env) == ["rival-1", "rival-0", "lab"]  # nothing of the rival's lost
    store.add("placeholder-user", report("exam"), retention=3)
    assert rival.statuses[-1:] == [200] and stored(env) == ["rival-0", "lab", "exam"]


def test_a_third_409_in_a_row_is_a_cluster_error_and_stores_nothing(env: Env) -> None:
    ReportStore(env.core, env.ns).add("placeholder-user", report("lab"), retention=10)
    rival = RivalBeforeWrites(env.core, rivals=3)
    with pytest.raises(ClusterError) as raised:
        ReportStore(rival, env.ns).add("placeholder-user", report("exam"), retention=10)
    assert raised.value.status == 409 and raised.value.action == (
        "store report placeholder-user-reports"
    )
    assert rival.statuses == [409, 409, 409]
    assert stored(env) == ["lab", "rival-2", "rival-1", "rival-0"]


def test_an_unreadable_report_configmap_is_started_anew(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    name = configmap_name("placeholder-user")
    env.core.create_namespaced_config_map(
        env.ns, {"metadata": {"name": name}, "data": {KEY: '[{"series": "lab", '}}
    )  # cut off
    store = ReportStore(env.core, env.ns)
    with caplog.at_level(logging.WARNING):
        assert store.load("placeholder-user") == []
    assert [r.getMessage() for r in caplog.records] == [
        f"reports ConfigMap {name}: unreadable {KEY}; starting anew"
    ]
    store.add("placeholder-user", report("exam"), retention=10)
    assert stored(env) == ["exam"]
