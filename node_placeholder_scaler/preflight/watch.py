"""The running controller's preflight: why a pool would not scale, told once per cause.

Every ``POOL_CHECK_INTERVAL`` (and at the first round) the controller reads the pool facts
(kube/clusterfacts.pool_reading: nodes, placeholder requests, Karpenter NodePools and NodeClaims)
and judges them (preflight/pools.py). Each finding sets
``node_placeholder_pool_findings{pool,check}``
and, the first time its cause is seen, becomes a Warning Event on the pool's placeholder
Deployment (leader only; never in a dry run). A cause that goes away and comes back is told
again. Reads the controller's RBAC refuses are logged once, naming them (the chart's
``preflight.clusterRole`` grants them): those checks are not run, nothing fails.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from ..clusterfacts import PoolCheckFacts
from ..config.settings import Settings
from ..decisions import Stage
from ..metrics import Metrics
from ..port import Notice, Notices
from ..reasons import (
    PLACEHOLDER_TOO_BIG,
    POOL_LIMIT_BELOW_MAX_REPLICAS,
    POOL_SELECTOR_MATCHES_NOTHING,
)
from .pools import PoolFinding, judge_pools

logger = logging.getLogger(__name__)

POOL_CHECK_INTERVAL = timedelta(minutes=10)
REASONS = {
    "selector": POOL_SELECTOR_MATCHES_NOTHING.name,
    "too-big": PLACEHOLDER_TOO_BIG.name,
    "limit": POOL_LIMIT_BELOW_MAX_REPLICAS.name,
}


class PoolWatch:
    """Runs the pool checks now and then; see the module's text."""

    def __init__(
        self,
        settings: Settings,
        namespace: str,
        read: Callable[[], PoolCheckFacts],
        notices: Notices,
        metrics: Metrics,
        *,
        dry_run: bool = False,
        every: timedelta = POOL_CHECK_INTERVAL,
    ) -> None:
        self.settings, self.namespace, self.read = settings, namespace, read
        self.notices, self.metrics, self.dry_run, self.every = notices, metrics, dry_run, every
        self.last: datetime | None = None
        self.told: set[tuple[str, str, str]] = set()
        self.refused: tuple[str, ...] = ()
        self.leading = False  # at the last run: a new leader runs the checks at once

    def maybe_run(self, now: datetime, *, leading: bool) -> list[PoolFinding] | None:
        """The findings when the checks ran this round, else None. Never raises."""
        became_leader = leading and not self.leading
        if self.last is not None and now - self.last < self.every and not became_leader:
            return None
        self.last, self.leading = now, leading
        try:
            facts = self.read()
        except Exception as error:  # an API outage: the round's own errors say the rest
            logger.warning("pool checks: cannot read the cluster: %s", error)
            return None
        if facts.refused != self.refused:
            self.refused = facts.refused
            if facts.refused:
                logger.warning(
                    "pool checks not run for what the cluster refused: %s (grant "
                    "them with the chart's preflight.clusterRole: true)",
                    "; ".join(facts.refused),
                )
        found = judge_pools(facts)
        self.metrics.observe_pool_findings(
            list(self.settings.pools), [(f.pool, f.check) for f in found]
        )
        if leading and not self.dry_run:
            self._tell(found, now)
        return found

    def _tell(self, found: list[PoolFinding], now: datetime) -> None:
        keys = {(f.pool, f.check, f.finding.subject) for f in found}
        self.told &= keys  # gone: told again if it comes back
        for f in found:
            key = (f.pool, f.check, f.finding.subject)
            if key in self.told:
                continue
            logger.warning(
                "pool=%s check=%s %s: %s; fix: %s",
                f.pool,
                f.check,
                f.finding.subject,
                f.finding.problem,
                f.finding.fix,
            )
            notice = Notice(
                f.pool,
                self.settings.pools[f.pool].deployment,
                REASONS[f.check],
                f"{f.finding.subject}: {f.finding.problem}. Fix: {f.finding.fix}",
                warning=True,
            )
            try:
                self.notices.record_notice(self.namespace, notice, now)
            except Exception as error:
                logger.warning(
                    "pool=%s could not write the %s Event: %s", f.pool, notice.reason, error
                )
                self.metrics.error(Stage.EVENT, f.pool)
                continue
            self.told.add(key)
