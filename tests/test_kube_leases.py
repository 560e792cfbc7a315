"""kube/leases.py's lease_record and lease_body on Leases recorded from the test cluster,
written by client-go's leader election (kube-scheduler's and kube-controller-manager's in
kube-system, read raw from the API: tests/fixtures/leases/*.json), and our Elector beside a
client-go holder: it reads the record, follows it while it is renewed, takes over only when it
expired, and writes a record client-go reads the same way."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from node_placeholder_scaler.config.sections import LeaderElectionSettings
from node_placeholder_scaler.kube.leases import lease_body, lease_record
from node_placeholder_scaler.leadership import Elector
from node_placeholder_scaler.port import LeaseRecord
from testkit.fake_stores import MemoryLease

LEASES = Path(__file__).parent / "fixtures" / "leases"
RECORDED = ["kube-scheduler", "kube-controller-manager"]


def recorded(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((LEASES / f"{name}.json").read_text())
    return body


def test_a_client_go_lease_reads_as_its_record() -> None:
    record = lease_record(recorded("kube-scheduler"))
    assert record == LeaseRecord(
        holder="vm_9fedf1a2-3f72-469c-868d-e69cd7b77fdc",
        lease_seconds=15,
        acquired=datetime(2026, 12, 7, 18, 41, 58, 372166, tzinfo=UTC),
        renewed=datetime(2026, 12, 7, 18, 42, 37, 124331, tzinfo=UTC),
        transitions=0,
        version="310",
    )


@pytest.mark.parametrize("name", RECORDED)
def test_our_body_of_a_client_go_record_is_client_go_s_spec(name: str) -> None:
    """The same fields in the same formats (MicroTime with microseconds, in UTC), so either
    implementation reads what the other wrote."""
    body = recorded(name)
    metadata = body["metadata"]
    ours = lease_body(metadata["name"], metadata["namespace"], lease_record(body))
    assert ours["spec"] == body["spec"]
    assert (ours["apiVersion"], ours["kind"]) == (body["apiVersion"], body["kind"])
    assert ours["metadata"] == {
        "name": metadata["name"],
        "namespace": metadata["namespace"],
        "resourceVersion": metadata["resourceVersion"],
    }
    assert lease_record(ours) == lease_record(body)


def test_a_released_lease_of_either_kind_has_no_holder() -> None:
    """client-go releases with holderIdentity "" and we with no holderIdentity; both read as
    free."""
    body = recorded("kube-scheduler")
    body["spec"]["holderIdentity"] = ""
    assert lease_record(body).holder is None
    ours = lease_body("l", "ns", replace(lease_record(body), holder=None))
    assert "holderIdentity" not in ours["spec"]
    assert lease_record(ours).holder is None


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def test_our_elector_follows_a_client_go_holder_and_takes_over_only_when_it_expired() -> None:
    body = recorded("kube-controller-manager")
    held = lease_record(body)
    assert held.acquired is not None and held.renewed is not None
    lease = MemoryLease(namespace="kube-system", name="kube-controller-manager", record=held)
    clock = Clock()
    wall = held.renewed + timedelta(seconds=1)
    ours = Elector(lease, "ours", LeaderElectionSettings(), clock=clock, wall=lambda: wall)
    ours.step()
    assert not ours.is_leader() and ours.role() == f"standby (leader: {held.holder})"
    clock.now += 10  # client-go renews: a new renewTime, a new resourceVersion
    assert lease.record is not None
    lease.record = replace(
        lease.record, renewed=held.renewed + timedelta(seconds=10), version="400"
    )
    ours.step()
    clock.now += 14  # 14 s since the last change we saw: not expired (15 s)
    ours.step()
    assert not ours.is_leader() and lease.record.holder == held.holder
    clock.now += 2
    ours.step()
    assert ours.is_leader()
    taken = lease.record
    assert (taken.holder, taken.transitions, taken.lease_seconds) == ("ours", 1, 15)
    assert taken.acquired == taken.renewed == wall
    spec = lease_body("kube-controller-manager", "kube-system", taken)["spec"]
    assert set(spec) == set(body["spec"])  # every field client-go writes and reads
