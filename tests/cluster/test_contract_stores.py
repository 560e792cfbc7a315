"""The Lease and report-store contracts: the same tests on the in-memory stores
(testkit/fake_stores.py, in the fast suite) and on kube/leases.py's KubeLeases and
kube/reports.py's ReportStore against the test cluster (marked ``cluster``): 404, 409 (a second
create, a stale resourceVersion, a conflicting write retried), 403 (an RBAC-limited
ServiceAccount) and a read that is not JSON.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from node_placeholder_scaler.observed import ClusterError
from node_placeholder_scaler.port import LeaseConflict, LeaseRecord
from node_placeholder_scaler.reports.record import EventReport
from testkit.contract import LEASE, open_target, targets

NOW = datetime(2026, 12, 7, 18, 0, 0, 123456, tzinfo=UTC)
MINE = LeaseRecord(holder="replica-a", lease_seconds=15, acquired=NOW, renewed=NOW, transitions=0)


@pytest.fixture(params=targets())
def t(request: pytest.FixtureRequest) -> Iterator[Any]:
    yield from open_target(request)


def raised(kind: type[ClusterError], call: Any, *args: Any) -> ClusterError:
    with pytest.raises(kind) as caught:
        call(*args)
    return caught.value


def test_a_missing_lease_reads_as_none_and_is_created(t: Any) -> None:
    assert t.lease.get() is None
    created = t.lease.create(MINE)
    assert created.version and replace(created, version="") == MINE
    assert t.lease.get() == created
    assert t.lease_requests() == 3


def test_a_second_create_and_a_stale_replace_are_conflicts(t: Any) -> None:
    first = t.lease.create(MINE)
    again = raised(LeaseConflict, t.lease.create, MINE)
    assert (again.action, again.status) == (f"create lease {t.namespace}/{LEASE}", 409)
    renewed = t.lease.replace(replace(first, renewed=NOW + timedelta(seconds=2)))
    assert renewed.version != first.version and renewed.renewed == NOW + timedelta(seconds=2)
    stale = raised(LeaseConflict, t.lease.replace, replace(first, holder="replica-b"))
    assert (stale.action, stale.status) == (f"update lease {t.namespace}/{LEASE}", 409)
    assert t.lease.get() == renewed


def test_replacing_a_missing_lease_creates_it(t: Any) -> None:
    """The API server allows create-on-update for Leases (whatever resourceVersion is sent)."""
    created = t.lease.replace(replace(MINE, version="1"))
    assert created.version and replace(created, version="") == MINE
    assert t.lease.get() == created


def test_a_refused_lease_read_is_a_403_not_a_missing_lease(t: Any) -> None:
    t.forbid("lease get")
    error = raised(ClusterError, t.lease.get)
    assert (error.action, error.status) == (f"get lease {t.namespace}/{LEASE}", 403)


def report(start: str, arrivals: int) -> EventReport:
    at = datetime.fromisoformat(f"2026-12-0{start}T09:00:00+00:00")
    return EventReport(
        pool="user",
        series="Data 8",
        title="Data 8 lab",
        start=at,
        end=at + timedelta(hours=1),
        arrivals=arrivals,
    )


def test_reports_are_created_replaced_and_kept_to_the_retention(t: Any) -> None:
    name = "ph-reports"
    assert t.reports.load("ph") == []
    t.reports.add("ph", report("1", 1), 2)
    t.reports.add("ph", report("1", 2), 2)  # the same occurrence: replaced
    t.reports.add("ph", report("2", 3), 2)
    t.reports.add("ph", report("3", 4), 2)
    assert t.reports.load("ph") == [report("2", 3), report("3", 4)]
    assert t.report_requests() == [
        ("get", name),
        ("get", name),
        ("create", name),
        ("get", name),
        ("update", name),
        ("get", name),
        ("update", name),
        ("get", name),
        ("update", name),
        ("get", name),
    ]


def test_a_conflicting_report_write_is_read_again_and_retried_three_times(t: Any) -> None:
    name = "ph-reports"
    t.reports.add("ph", report("1", 1), 5)
    t.conflict_reports(1)
    t.reset()
    t.reports.add("ph", report("2", 2), 5)
    assert t.report_requests() == [("get", name), ("update", name), ("get", name), ("update", name)]
    assert t.reports.load("ph") == [report("1", 1), report("2", 2)]
    t.conflict_reports(3)
    error = raised(ClusterError, t.reports.add, "ph", report("3", 3), 5)
    assert (error.action, error.status, error.reason) == (f"store report {name}", 409, "Conflict")


def test_a_refused_report_write_is_a_403(t: Any) -> None:
    t.forbid("reports create", "reports update")
    assert t.reports.load("ph") == []
    error = raised(ClusterError, t.reports.add, "ph", report("1", 1), 5)
    assert (error.action, error.status, error.reason) == (
        "store report ph-reports",
        403,
        "Forbidden",
    )


def test_a_report_read_that_is_not_json_is_a_cluster_error(t: Any) -> None:
    t.garble_reports()
    error = raised(ClusterError, t.reports.load, "ph")
    assert (error.action, error.status, error.reason) == (
        "read reports ph-reports",
        None,
        "not JSON",
    )
