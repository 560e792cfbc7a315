"""A pool's failure streaks, told as Kubernetes Events: one Warning when a pool's rounds start
failing, one Normal when a round succeeds again (with the count and the length of the outage).

Pure: ``Outages.observe`` takes a round's result and returns the Notices to write; the loop
writes them on the placeholder Deployment (only the leader does). One Event per streak, not per
round: an API server down for two minutes at a 30 s interval is one Warning and one recovery,
not eight Warnings; the per-round count is in ``node_placeholder_errors_total``. While the
API server is down the Warning cannot be written; the recovery Event names the outage.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from .decisions import Action, PoolDecision, RoundResult, Stage, decision_message
from .port import Notice
from .reasons import RECONCILE_FAILED, RECONCILE_RECOVERED, WOULD_SCALE

FAILED, RECOVERED = RECONCILE_FAILED.name, RECONCILE_RECOVERED.name
MAX_ERROR = 600  # characters of the first error quoted in an Event (admission messages are long)


@dataclass(frozen=True)
class Streak:
    since: datetime
    stage: Stage | None
    error: str
    rounds: int = 1
    replicas: int | None = None  # the scale last seen before or during the streak


class Outages:
    """Open failure streaks per pool (state carried from round to round)."""

    def __init__(self) -> None:
        self.open: dict[str, Streak] = {}

    def observe(self, result: RoundResult) -> list[Notice]:
        notices = []
        for decision in result.pools:
            notice = self._pool(decision, result.at)
            if notice is not None:
                notices.append(notice)
        return notices

    def _pool(self, decision: PoolDecision, at: datetime) -> Notice | None:
        streak = self.open.get(decision.pool)
        if decision.action == Action.ERROR:
            if streak is not None:
                self.open[decision.pool] = replace(streak, rounds=streak.rounds + 1)
                return None
            error = (decision.error or "")[:MAX_ERROR]
            self.open[decision.pool] = Streak(at, decision.stage, error, 1, decision.current)
            return Notice(decision.pool, decision.backend_object, FAILED, failed(decision), True)
        if streak is None or decision.action == Action.LEFT_ALONE:
            return None
        del self.open[decision.pool]
        return Notice(
            decision.pool,
            decision.backend_object,
            RECOVERED,
            recovered(decision, streak, at),
            False,
        )


def failed(decision: PoolDecision) -> str:
    kept = "" if decision.current is None else f" ({decision.current} replicas)"
    return (
        f"Pool {decision.pool}: {decision.stage} failed: {(decision.error or '')[:MAX_ERROR]}. "
        f"Placeholders left as they are{kept}; retried every round"
    )


def recovered(decision: PoolDecision, streak: Streak, at: datetime) -> str:
    seconds = max(0, round((at - streak.since).total_seconds()))
    return (
        f"Pool {decision.pool}: recovered after {streak.rounds} failed round(s) over {seconds} s "
        f"(first error: {streak.stage}: {streak.error}); now {decision.current} replicas, "
        f"desired {decision.desired}"
    )


class WouldScale:
    """A dry run's Events: one Normal ``WouldScale`` Event per change a dry run would make (a
    new current -> desired of a placeholder pool), not one per round: nothing is written, so
    the same change would be told again every round. Buffer pools have no Deployment to put
    it on: their log line and the would_scale gauge tell. Pure, like Outages."""

    def __init__(self) -> None:
        self._told: dict[str, tuple[int | None, int | None]] = {}

    def observe(self, result: RoundResult) -> list[Notice]:
        notices = []
        for decision in result.pools:
            if decision.action != Action.WOULD_SCALE or decision.buffer is not None:
                self._told.pop(decision.pool, None)
                continue
            change = (decision.current, decision.desired)
            if self._told.get(decision.pool) != change:
                self._told[decision.pool] = change
                notices.append(
                    Notice(
                        decision.pool,
                        decision.backend_object,
                        WOULD_SCALE.name,
                        decision_message(decision),
                        warning=False,
                    )
                )
        return notices
