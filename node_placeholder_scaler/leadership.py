"""Leader election on a coordination.k8s.io Lease: several replicas, one writer.

Every replica runs the loop (feeds refreshed, plans made, pod cache warm, probes and /metrics
served); only the replica that holds the Lease writes (scale patches, Events). The write gate
is ``Elector.is_leader()``, checked at the start of a round and again right before every write
(``GatedCluster``), and it is a *time* check: the leader counts as leader only until
``renewDeadline`` after the start of its last successful renewal. A standby takes the Lease
only when it has seen no change of the Lease for the holder's ``leaseDurationSeconds`` (measured
on its own monotonic clock from when it saw the last change, as client-go does, so clock skew
between nodes does not matter). Because ``renewDeadline < leaseDuration``, a leader that cannot
renew (API down, process frozen, network cut) has stopped writing before any standby may take
over, even when its renew request hangs. On SIGTERM the leader releases the Lease (holder
cleared), and a standby takes it at its next retry instead of waiting out the lease.

Why not ``kubernetes.leaderelection`` (client 37.0.1, read in .venv): its API calls have no
request timeout, so a hung renew keeps ``renew_loop`` (and the leader's belief that it leads)
going past the lease, while a standby takes over: two writers; leadership is only known through
callbacks (``onstarted_leading`` in a daemon thread, ``onstopped_leading`` when the renew loop
gives up), so there is no cheap "may I write now?" check; ``acquire()`` sleeps in a loop with no
way to stop it and the Lease is never released on shutdown; ``LeaseLock`` uses the global
default ApiClient; a bad setting calls ``sys.exit``; and it logs at INFO on every retry.
The Lease protocol here is the same (holderIdentity, leaseDurationSeconds, acquireTime,
renewTime, leaseTransitions; optimistic concurrency on resourceVersion), so replicas of either
implementation respect each other.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .config.sections import RETRY_JITTER as JITTER
from .config.sections import LeaderElectionSettings as Timing
from .observed import ClusterError
from .port import WRITES, Clock, Cluster, LeaseConflict, LeaseRecord, LeaseStore, utc_now

logger = logging.getLogger(__name__)


class Elector:
    """Campaigns for the Lease in a background thread; ``is_leader()`` gates the writes.

    ``step()`` is one attempt (get, then create, renew, acquire or follow); the thread makes
    one every retryPeriod. ``clock`` is monotonic seconds, ``wall`` the time written into the
    Lease; tests pass their own and call ``step()`` directly.
    """

    def __init__(
        self,
        store: LeaseStore,
        identity: str,
        timing: Timing,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Clock = utc_now,
    ) -> None:
        self.store, self.identity, self.timing = store, identity, timing
        self.clock, self.wall = clock, wall
        self._lock = threading.Lock()
        self._renewed_at: float | None = None  # start of our last successful write as holder
        self._seen: tuple[str, float] | None = None  # (resourceVersion, when we first saw it)
        self._holder: str | None = None
        self._failing = False
        self._stop = threading.Event()
        self._stepped = threading.Event()  # set after the first attempt
        self._thread: threading.Thread | None = None

    def is_leader(self) -> bool:
        """True while our last renewal started less than renewDeadline ago."""
        with self._lock:
            renewed = self._renewed_at
        deadline = self.timing.renew_deadline.total_seconds()
        return renewed is not None and self.clock() < renewed + deadline

    def holder(self) -> str | None:
        """The holder we last saw (ourselves included)."""
        with self._lock:
            return self._holder

    def role(self) -> str:
        """``leader``, or ``standby (leader: X)``, for probes and logs."""
        if self.is_leader():
            return "leader"
        holder = self.holder()
        return f"standby (leader: {holder})" if holder else "standby (no leader)"

    def step(self) -> None:
        """One attempt to create, renew or acquire the Lease; never raises for API errors."""
        started = self.clock()
        was_leader = self.is_leader()
        try:
            record = self.store.get()
            if record is None:
                self._won(self.store.create(self._mine(None)), started)
            elif record.holder == self.identity or self._expired(record, started):
                self._won(self.store.replace(self._mine(record)), started)
            else:
                self._follow(record)
        except LeaseConflict:
            self._lost(None)  # someone else wrote it first; the next get shows who
        except ClusterError as error:
            if not self._failing:
                logger.warning("lease %s: %s", self.store.describe(), error)
            self._failing = True
        else:
            if self._failing:
                logger.info("lease %s: reachable again", self.store.describe())
            self._failing = False
        self._log_change(was_leader)
        self._stepped.set()

    def _mine(self, record: LeaseRecord | None) -> LeaseRecord:
        """The record we write: a renewal keeps acquireTime; taking over counts a transition."""
        now, seconds = self.wall(), int(self.timing.lease_duration.total_seconds())
        if record is None:
            return LeaseRecord(self.identity, seconds, now, now, 0)
        if record.holder == self.identity:
            acquired = record.acquired or now
            return replace(record, lease_seconds=seconds, renewed=now, acquired=acquired)
        return LeaseRecord(self.identity, seconds, now, now, record.transitions + 1, record.version)

    def _won(self, record: LeaseRecord, started: float) -> None:
        with self._lock:
            self._renewed_at, self._holder = started, self.identity
            self._seen = (record.version, started)

    def _lost(self, holder: str | None) -> None:
        with self._lock:
            self._renewed_at = None
            if holder is not None:
                self._holder = holder

    def _follow(self, record: LeaseRecord) -> None:
        self._lost(record.holder)

    def _expired(self, record: LeaseRecord, now: float) -> bool:
        """Nobody holds it, or it has not changed for the holder's lease duration."""
        if not record.holder:
            return True
        with self._lock:
            if self._seen is None or self._seen[0] != record.version:
                self._seen = (record.version, now)
            first_seen = self._seen[1]
        duration = record.lease_seconds or self.timing.lease_duration.total_seconds()
        return now >= first_seen + duration

    def _log_change(self, was_leader: bool) -> None:
        leader = self.is_leader()
        if leader and not was_leader:
            logger.info(
                "leader election: %s is now the leader (lease %s)",
                self.identity,
                self.store.describe(),
            )
        elif was_leader and not leader:
            logger.warning(
                "leader election: %s lost the lease %s; writes stop",
                self.identity,
                self.store.describe(),
            )

    def run(self) -> None:
        """Campaign until ``stop``: one step every retryPeriod (standbys with jitter)."""
        period = self.timing.retry_period.total_seconds()
        while not self._stop.is_set():
            try:
                self.step()
            except Exception:  # a bug must not end the campaign silently
                logger.exception("leader election step failed")
            wait = period if self.is_leader() else period * (1 + random.uniform(0, JITTER))
            self._stop.wait(wait)

    def start(self) -> Elector:
        self._thread = threading.Thread(target=self.run, name="leader-election", daemon=True)
        self._thread.start()
        return self

    def wait_first_step(self, timeout: float) -> bool:
        """Block until the first attempt is done (a fresh start leads from its first round)."""
        return self._stepped.wait(timeout)

    def stop(self, *, release: bool = True) -> None:
        """End the campaign; with ``release``, hand the Lease over at once if we hold it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timing.renew_deadline.total_seconds())
        if release:
            self.release()

    def release(self) -> None:
        """Clear the holder (as client-go's ReleaseOnCancel) so a standby takes over at once."""
        if self.holder() != self.identity:
            return
        with self._lock:
            self._renewed_at = None
        try:
            record = self.store.get()
            if record is None or record.holder != self.identity:
                return
            now = self.wall()
            self.store.replace(replace(record, holder=None, lease_seconds=1, renewed=now))
        except ClusterError as error:
            logger.warning("lease %s: could not release: %s", self.store.describe(), error)
            return
        logger.info(
            "leader election: %s released the lease %s", self.identity, self.store.describe()
        )


def identity() -> str:
    """POD_NAME (the chart sets it from the downward API), else host name and a random suffix."""
    pod = os.environ.get("POD_NAME", "").strip()
    if pod:
        return pod
    return f"{socket.gethostname()}_{uuid.uuid4().hex[:8]}"


class NotLeader(ClusterError):
    """A write refused because this replica does not hold the Lease (any more)."""


class GatedCluster:
    """A port.Cluster whose writes (the methods named in ``port.WRITES``) pass only while
    ``leader()``; reads, and anything else, go straight through."""

    def __init__(self, cluster: Cluster, leader: Callable[[], bool]) -> None:
        self.cluster, self.leader = cluster, leader

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.cluster, name)
        if name not in WRITES:
            return found

        def gated(*args: Any, **kwargs: Any) -> Any:
            if not self.leader():
                raise NotLeader(name, None, "not the leader (lost the lease); not written")
            return found(*args, **kwargs)

        return gated
