"""A planner whose targets the test sets: the controller's loop and reconcile without a
calendar (the calendar side is tested on its own). Shared by tests and benchmarks."""

from __future__ import annotations

from datetime import datetime

from node_placeholder_scaler.feeds.types import FeedStatus, FetchResult
from node_placeholder_scaler.model import Plan, PoolTarget


class StaticPlanner:
    """Plans ``targets`` (pool -> placeholders) at every instant, with one feed ``feed``.

    A test may set ``ok`` (the feed's health), ``fail_feeds`` or ``fail_plan`` (a bug in the
    layer behind, raised as RuntimeError) and reads ``planned`` (the instants planned at).
    """

    def __init__(self, *, feed: str = "courses", **targets: int) -> None:
        self.targets, self.feed = targets, feed
        self.ok, self.fail_feeds, self.fail_plan = True, False, False
        self.planned: list[datetime] = []

    def plan(self, now: datetime) -> Plan:
        self.planned.append(now)
        if self.fail_plan:
            raise RuntimeError("planner bug")
        pools = {p: PoolTarget(p, t, t, False, ()) for p, t in self.targets.items()}
        return Plan(now, pools, (), ())

    def feeds(self, now: datetime) -> list[FeedStatus]:
        if self.fail_feeds:
            raise RuntimeError("feed layer bug")
        return [FeedStatus(self.feed, self.ok, now, 0.0, FetchResult.OK, now)]
