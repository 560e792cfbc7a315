"""leadership.py: the Lease protocol on an in-memory Lease with the API server's rules
(resourceVersion bumps on every write, 409 on a stale replace or a second create), replicas on
one shared fake clock, steps driven by the test (no threads, no sleeping)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.config.sections import LeaderElectionSettings
from node_placeholder_scaler.config.settings import ConfigError, load_settings
from node_placeholder_scaler.leadership import Elector, GatedCluster, NotLeader
from node_placeholder_scaler.loop import Controller
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import Plan, PoolTarget
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.port import LeaseRecord
from node_placeholder_scaler.reconcile import reconcile_once
from node_placeholder_scaler.server import Health
from testkit.buffer_pools import SETTINGS as BUFFER_SETTINGS
from testkit.buffer_pools import fake_with
from testkit.buffer_pools import plan as buffer_plan
from testkit.fake_stores import Clock, MemoryLease, replica
from testkit.fakes import GI, FakeCluster, FakeDeployment
from testkit.planners import StaticPlanner
from testkit.unit import LOOP_SETTINGS as SETTINGS

TIMING = LeaderElectionSettings()  # 15 s lease, 10 s renew deadline, 2 s retry
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
NS = "node-placeholder"  # FakeCluster's


def advance(clock: Clock, seconds: float, *replicas: Elector, dead: tuple[Elector, ...] = ()):
    """Let ``seconds`` pass in retry periods; every live replica steps once per period, and
    at no instant do two replicas count as leader."""
    period = TIMING.retry_period.total_seconds()
    for _ in range(round(seconds / period)):
        clock.now += period
        for r in replicas:
            if r not in dead:
                r.step()
            assert sum(x.is_leader() for x in replicas) <= 1, [x.role() for x in replicas]


def test_the_first_replica_creates_the_lease_and_the_second_follows() -> None:
    lease, clock = MemoryLease(), Clock()
    a, b = replica("a", lease, clock), replica("b", lease, clock)
    a.step()
    b.step()
    assert a.is_leader() and not b.is_leader()
    assert b.role() == "standby (leader: a)" and a.role() == "leader"
    assert lease.record == LeaseRecord("a", 15, T0, T0, 0, "1")
    advance(clock, 60, a, b)
    assert a.is_leader() and not b.is_leader()
    assert lease.record is not None and lease.record.acquired == T0
    assert lease.record.renewed == clock.wall() and lease.record.transitions == 0
    assert {w.holder for w in lease.writes} == {"a"}


def test_a_dead_leader_is_replaced_after_the_lease_duration_never_before() -> None:
    lease, clock = MemoryLease(), Clock()
    a, b = replica("a", lease, clock), replica("b", lease, clock)
    a.step()
    advance(clock, 10, a, b)
    killed = clock.now
    advance(clock, 12, a, b, dead=(a,))
    assert not b.is_leader()  # the lease has not run out yet
    advance(clock, 6, a, b, dead=(a,))
    assert b.is_leader() and not a.is_leader()
    taken = next(w for w in lease.writes if w.holder == "b")
    assert taken.transitions == 1
    # b saw a's last renewal at most one retry after it was made, and waits 15 s from there
    assert 15 <= clock.now - killed <= 15 + 2 * TIMING.retry_period.total_seconds()


def test_a_leader_that_cannot_renew_stops_writing_before_anyone_may_take_over() -> None:
    lease, clock = MemoryLease(), Clock()
    a, b = replica("a", lease, clock), replica("b", lease, clock)
    a.step()
    b.step()
    renewed = clock.now
    lease.down = True  # nobody reaches the API: a keeps its belief only until the deadline
    clock.now = renewed + 9.9
    a.step()
    assert a.is_leader()
    clock.now = renewed + 10
    assert not a.is_leader()
    lease.down = False
    # b can take over only 15 s after it saw a's last write
    clock.now = renewed + 14
    b.step()
    assert not b.is_leader()
    clock.now = renewed + 15.5
    b.step()
    assert b.is_leader() and not a.is_leader()
    a.step()  # a's renewal now meets b's record: it follows
    assert not a.is_leader() and a.role() == "standby (leader: b)"


def test_a_renewal_counts_from_when_it_was_sent_so_a_slow_answer_grants_nothing() -> None:
    lease, clock = MemoryLease(), Clock()
    a = replica("a", lease, clock)
    slow = SlowLease(lease, clock, seconds=11)
    a.store = slow
    a.step()
    assert lease.record is not None and lease.record.holder == "a"
    assert not a.is_leader()  # written, but the answer came after the renew deadline


@dataclass
class SlowLease:
    inner: MemoryLease
    clock: Clock
    seconds: float

    def describe(self) -> str:
        return self.inner.describe()

    def get(self) -> LeaseRecord | None:
        return self.inner.get()

    def create(self, record: LeaseRecord) -> LeaseRecord:
        self.clock.now += self.seconds
        return self.inner.create(record)

    def replace(self, record: LeaseRecord) -> LeaseRecord:
        self.clock.now += self.seconds
        return self.inner.replace(record)


def test_two_standbys_racing_for_an_expired_lease_make_one_leader() -> None:
    lease, clock = MemoryLease(), Clock()
    a, b, c = (replica(n, lease, clock) for n in "abc")
    a.step()
    advance(clock, 4, a, b, c)
    advance(clock, 20, a, b, c, dead=(a,))
    assert [b.is_leader(), c.is_leader()].count(True) == 1
    assert [w.holder for w in lease.writes].count("b") + [w.holder for w in lease.writes].count(
        "c"
    ) >= 1
    assert lease.record is not None and lease.record.transitions == 1


def test_release_hands_over_at_the_next_retry() -> None:
    lease, clock = MemoryLease(), Clock()
    a, b = replica("a", lease, clock), replica("b", lease, clock)
    a.step()
    advance(clock, 6, a, b)
    a.stop(release=True)
    assert not a.is_leader()
    assert lease.record is not None and lease.record.holder is None
    assert lease.record.lease_seconds == 1
    clock.now += TIMING.retry_period.total_seconds()
    b.step()
    assert b.is_leader()
    assert lease.record.holder == "b" and lease.record.transitions == 1


def test_release_leaves_a_lease_that_another_replica_holds() -> None:
    lease, clock = MemoryLease(), Clock()
    a, b = replica("a", lease, clock), replica("b", lease, clock)
    a.step()
    b.step()
    b.stop(release=True)
    assert lease.record is not None and lease.record.holder == "a"


def test_the_same_identity_after_a_restart_renews_at_once() -> None:
    """The chart's identity is the pod name: a restarted container of the same pod is the
    same holder (the old process is gone), so it need not wait out its own lease."""
    lease, clock = MemoryLease(), Clock()
    replica("pod-1", lease, clock).step()
    clock.now += 3
    again = replica("pod-1", lease, clock)
    again.step()
    assert again.is_leader()
    assert lease.record is not None and lease.record.acquired == T0


def test_an_api_error_is_logged_once_per_outage(caplog: pytest.LogCaptureFixture) -> None:
    lease, clock = MemoryLease(down=True), Clock()
    a = replica("a", lease, clock)
    for _ in range(5):
        a.step()
    lease.down = False
    a.step()
    warnings = [r for r in caplog.records if "no answer" in r.getMessage()]
    assert len(warnings) == 1 and a.is_leader()


@pytest.mark.parametrize(
    ("election", "problem"),
    [
        ("{leaseDuration: 10s, renewDeadline: 10s}", "renewDeadline: must be shorter"),
        ("{renewDeadline: 2s}", "renewDeadline: must be longer than 1.2 x retryPeriod"),
        ("{retryPeriod: 0s}", "retryPeriod: must be longer than 0s"),
        ("{leaseName: Bad_Name}", "leaseName"),
    ],
)
def test_unsafe_election_settings_are_refused_with_the_key(election: str, problem: str) -> None:
    text = f"leaderElection: {election}\ncalendars: [{{url: c.ics}}]\npools: {{user: {{}}}}\n"
    with pytest.raises(ConfigError, match=problem):
        load_settings(text, "c.yaml", {})


def test_short_election_settings_for_tests_load() -> None:
    text = (
        "leaderElection: {leaseName: nps, leaseDuration: 4s, renewDeadline: 3s, retryPeriod: 1s}"
        "\ncalendars: [{url: c.ics}]\npools: {user: {}}\n"
    )
    election = load_settings(text, "c.yaml", {}).leader_election
    assert election == LeaderElectionSettings(
        "nps", timedelta(seconds=4), timedelta(seconds=3), timedelta(seconds=1)
    )


# --- the write gate ----------------------------------------------------------------------


def plan(target: int) -> Plan:
    return Plan(T0, {"user": PoolTarget("user", target, target, False, ())}, (), ())


def test_the_gate_refuses_writes_but_not_reads_when_not_leader() -> None:
    fake = FakeCluster(
        deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))}
    )
    leading = [False]
    gated = GatedCluster(fake, lambda: leading[0])
    result = reconcile_once(gated, plan(2), SETTINGS, NS)
    decision = result.pools[0]
    assert decision.action == "error" and decision.stage == "scale"
    assert "not the leader" in (decision.error or "")
    assert fake.scales == [] and fake.events == []
    leading[0] = True
    assert reconcile_once(gated, plan(2), SETTINGS, NS).pools[0].action == "scaled"
    assert fake.scales == [("placeholder-user", 2)]


def test_the_gate_raises_a_cluster_error() -> None:
    gated = GatedCluster(FakeCluster(), lambda: False)
    with pytest.raises(NotLeader, match="not the leader"):
        gated.scale("ns", "placeholder-user", 1)


@dataclass
class Leader:
    leading: bool

    def is_leader(self) -> bool:
        return self.leading


def test_a_standby_round_plans_and_reports_but_touches_no_deployment() -> None:
    fake = FakeCluster(
        deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))}
    )
    leader = Leader(False)
    metrics = Metrics(CollectorRegistry())
    health = Health(SETTINGS.interval, T0)
    controller = Controller(
        SETTINGS,
        fake,
        fake,
        StaticPlanner(user=2),
        metrics,
        health,
        NS,
        clock=lambda: T0,
        leader=leader,
    )
    result = controller.round()
    assert result is not None and result.pools == ()
    assert fake.calls == [("version", "")] and fake.scales == []  # only "is the API there?"
    target = ("node_placeholder_calendar_target", {"pool": "user"})
    assert metrics.registry.get_sample_value(*target) is None  # the leader's gauge alone
    assert health.last_round == T0
    leader.leading = True
    result = controller.round()
    assert result is not None and result.pools[0].action == "scaled"
    assert fake.scales == [("placeholder-user", 2)]
    assert metrics.registry.get_sample_value(*target) == 2
    leader.leading = False  # a replica that loses the Lease keeps no stale calendar gauge
    controller.round()
    assert metrics.registry.get_sample_value(*target) is None


def test_the_gate_drives_capacity_buffers_only_as_leader() -> None:
    """A pool with backend capacityBuffer works through the gate (it is a BufferCluster), and
    its buffer's replicas are written only by the leader."""
    from node_placeholder_scaler.port import BufferCluster

    fake = fake_with(("karpenter-fits", 1), None)
    leading = [False]
    gated = GatedCluster(fake, lambda: leading[0])
    assert isinstance(gated, BufferCluster)
    decision = reconcile_once(gated, buffer_plan(user=3), BUFFER_SETTINGS, NS).pools[0]
    assert decision.action == "error" and "not the leader" in (decision.error or "")
    assert fake.scales == []
    leading[0] = True
    decision = reconcile_once(gated, buffer_plan(user=3), BUFFER_SETTINGS, NS).pools[0]
    assert decision.action == "scaled" and fake.scales == [("buffer-user", 3)]
