"""What every backend shares: its signature, and the skeleton that tries one pool and turns a
failure into that pool's decision (with the stage that failed), so one pool's error never stops
the other pools.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..config.settings import PoolSettings, Settings
from ..decisions import Action, PoolDecision, Stage
from ..model import PoolTarget
from ..observed import ClusterError
from ..port import RoundContext

logger = logging.getLogger(__name__)


class Backend(Protocol):
    """One way of keeping a pool's warm room: gather, decide and apply for one pool with a
    known target; never raises."""

    def __call__(
        self, context: RoundContext, settings: Settings, pool: PoolSettings, target: PoolTarget
    ) -> PoolDecision: ...


@dataclass
class Attempt:
    """Where a pool's attempt is: the stage it is in and what it has decided so far."""

    stage: Stage
    decided: PoolDecision | None = None


def attempt(
    pool: str, base: PoolDecision, stage: Stage, body: Callable[[Attempt], PoolDecision]
) -> PoolDecision:
    """``body(progress)``, which moves ``progress.stage`` along as it goes; a ClusterError (or a
    bug) becomes the pool's error at the stage it was in. A failure while writing the Events
    of a decision keeps the decision and records the Event's error."""
    progress = Attempt(stage)
    try:
        return body(progress)
    except ClusterError as error:
        return failed(base, progress, str(error))
    except Exception as error:  # a bug must not stop the other pools
        logger.exception("pool=%s stage=%s unexpected error", pool, progress.stage)
        return failed(base, progress, f"{type(error).__name__}: {error}")


def failed(base: PoolDecision, progress: Attempt, message: str) -> PoolDecision:
    decided = progress.decided
    if decided is not None and progress.stage == Stage.EVENT:  # decided (maybe scaled)
        return replace(decided, event_error=message, stage=decided.stage or Stage.EVENT)
    return replace(base, action=Action.ERROR, stage=progress.stage, error=message)
