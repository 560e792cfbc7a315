"""kube/reports.py: pod watch events -> PodRecords, over a recorded watch of the test cluster
(tests/fixtures/pods/preemption-watch.json: a student preempts a placeholder, a student with a
nodeSelector typo stays Pending), and the report ConfigMap's bounded list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from node_placeholder_scaler.kube.reports import KEY, _reports, listener
from node_placeholder_scaler.reports.measurement import measure
from node_placeholder_scaler.reports.record import EventReport
from node_placeholder_scaler.reports.timelines import (
    NodeTimeline,
    PodRecord,
    Window,
    selector_labels,
)

WATCH = json.loads((Path(__file__).parent / "fixtures/pods/preemption-watch.json").read_text())
NOW = datetime(2026, 11, 23, 16, 25, 40, tzinfo=UTC)


def replay() -> dict[str, PodRecord]:
    records: dict[str, PodRecord] = {}

    def observe(uid: str, update: Any) -> None:
        records[uid] = update(records.get(uid))

    on_pod = listener(observe, lambda: NOW)
    for event in WATCH["events"]:
        on_pod(event["type"], event["object"])
    return records


def by_name(records: dict[str, PodRecord]) -> dict[str, PodRecord]:
    return {r.name: r for r in records.values()}


def test_the_preempted_placeholder_is_marked_and_its_deletion_kept() -> None:
    pods = by_name(replay())
    placeholders = [r for n, r in pods.items() if n.startswith("placeholder-user-")]
    preempted = [r for r in placeholders if r.preempted]
    assert len(placeholders) == 2 and len(preempted) == 1
    [victim] = preempted
    assert victim.deleted == NOW and victim.node and victim.scheduled is not None
    [replacement] = [r for r in placeholders if not r.preempted]
    assert replacement.deleted is None and replacement.scheduled is None  # Pending


def test_times_selector_and_scheduler_message_come_from_the_pod() -> None:
    pods = by_name(replay())
    student, typo = pods["student-0"], pods["student-typo"]
    assert student.scheduled == student.ready == datetime(2026, 11, 23, 16, 25, 32, tzinfo=UTC)
    assert student.scheduled is not None
    assert student.created <= student.scheduled and student.node
    assert typo.scheduled is None and typo.node is None
    assert typo.unschedulable and "didn't match Pod's node affinity/selector" in typo.unschedulable
    assert typo.node_selector["hub.jupyter.org/node-purpose"] == "user"
    assert student.requests.cpu_milli == 1000


def test_the_recorded_watch_measures_as_one_preemption_and_one_blocked_wait() -> None:
    records = list(replay().values())
    pool = {k: v for k, v in records[0].node_selector.items() if k == "nps.test/pool"}
    namespace = records[0].namespace
    pods = [r.seen_from(pool, namespace, selector_labels("app=placeholder-user")) for r in records]
    start = min(r.created for r in records)
    window = Window("user", "s", "Lab", start, NOW, timedelta(0), 1)
    node = next(r.node for r in records if r.node)
    assert node is not None
    nodes = [NodeTimeline(node, start - timedelta(minutes=1), start - timedelta(minutes=1))]
    m = measure(window, pods, nodes, NOW, target_s=5.0)
    assert m.arrivals == 2 and m.preempted == 1
    assert m.scheduled == 1 and max(m.waits) >= 8  # the typo student, until NOW


def test_the_stored_list_survives_garbage() -> None:
    assert _reports({"data": {KEY: "not json"}, "metadata": {"name": "x"}}) == []
    assert _reports({"data": {KEY: '{"a": 1}'}}) == []
    stored = '[{"a": 1}, 3, {"series": "s", "start": "nope"}, {"series": "s", "start": '
    stored += '"2026-11-23T08:55:00-08:00", "pool": "user", "advice": {"nodes": 2}}]'
    [report] = _reports({"data": {KEY: stored}})  # an older report, with few keys, still reads
    assert (report.pool, report.advice.nodes, report.wait_s) == ("user", 2, None)
    assert report.start == datetime(2026, 11, 23, 16, 55, tzinfo=UTC)


class _Unreachable:
    """A CoreV1Api whose server does not answer (what urllib3 raises on a refused port)."""

    def read_namespaced_config_map(self, *args: Any, **kwargs: Any) -> Any:
        import urllib3

        raise urllib3.exceptions.MaxRetryError(None, "/api", "refused")  # type: ignore[arg-type]


def test_an_unreachable_server_is_a_cluster_error_not_a_crash() -> None:
    import pytest

    from node_placeholder_scaler.kube.reports import ReportStore
    from node_placeholder_scaler.observed import ClusterError

    with pytest.raises(ClusterError, match="no answer"):
        ReportStore(_Unreachable(), "ns").load("placeholder-user")
    with pytest.raises(ClusterError, match="no answer"):
        report = EventReport("user", "s", "Lab", datetime.now(UTC), datetime.now(UTC))
        ReportStore(_Unreachable(), "ns").add("placeholder-user", report, 3)
