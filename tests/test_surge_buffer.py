"""Strategy 5 of the surge benchmark (ours with CapacityBuffer): its new figures, pure."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

from testkit.surge.analysis import Figures, NodeRecord, first_warm_ready
from testkit.surge.run import RunResult
from testkit.surge.scenario import STRATEGIES, STRATEGY_TITLES

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from surge_report import table  # noqa: E402

pytestmark = pytest.mark.slow  # the surge benchmark's figures


def test_first_warm_ready_counts_only_nodes_added_in_the_window() -> None:
    nodes = [
        NodeRecord("steady", created=-500.0, ready=-480.0, deleted=None),
        NodeRecord("warm", created=100.0, ready=130.0, deleted=None),
        NodeRecord("late", created=150.0, ready=170.0, deleted=None),
        NodeRecord("booting", created=160.0, ready=None, deleted=None),
    ]
    # window from 0, T0 at 200 (wall), time scale 0.5: (130 - 200) / 0.5 = -140 scenario s
    assert first_warm_ready(nodes, 0.0, 200.0, 0.5) == pytest.approx(-140.0)
    assert math.isnan(first_warm_ready(nodes[:1], 0.0, 200.0, 1.0))


def figures(node_minutes: float) -> Figures:
    return Figures(
        students=10,
        scheduled=10,
        p50=0.0,
        p95=1.0,
        max_wait=2.0,
        over_30s=0,
        node_minutes=node_minutes,
        lower_bound=10.0,
        peak_nodes=3,
        first_warm_ready=-60.0,
    )


def test_the_table_compares_with_nothing_and_shows_preemptions() -> None:
    assert "buffer" in STRATEGIES and STRATEGY_TITLES["buffer"].startswith("5 ours with")
    runs = [
        RunResult("nothing", 0, figures(12.0), 0.0, [], [], [], "karpenter", [], preemptions=0),
        RunResult("ours", 3, figures(20.5), 0.0, [], [], [], "karpenter", [], preemptions=7),
        RunResult("buffer", 3, figures(18.0), 0.0, [], [], [], "karpenter", []),
    ]
    rows = table(runs).splitlines()[2:]
    assert rows[1].endswith("| +8.5 (1.71x) | 3 | -60 | 7 |")
    assert rows[2].endswith("| +6.0 (1.50x) | 3 | -60 | - |")  # preemptions not recorded: unknown
    assert table(runs[1:]).splitlines()[2].endswith("| - | 3 | -60 | 7 |")
