"""The course-surge benchmark's harness (bench/surge_bench.py): it runs and writes its outputs.

The cluster test runs ``--quick`` for strategy 4 on a fresh test cluster and asserts only
that the harness works (the table, the plot and the raw data are written, every student was
recorded); it makes no assertion on the figures. The other tests check the pure arithmetic.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

from testkit.surge.analysis import NodeRecord, lower_bound, node_minutes, percentile
from testkit.surge.scenario import Scenario

pytestmark = pytest.mark.slow  # runs the surge scenario

ROOT = Path(__file__).resolve().parent.parent


def test_percentile_interpolates_like_numpy() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5
    assert percentile([0.0] * 19 + [10.0], 0.95) == pytest.approx(0.5)
    assert math.isnan(percentile([], 0.5))


def test_node_minutes_count_booting_and_clip_to_the_window() -> None:
    nodes = [
        NodeRecord("a", created=0.0, ready=30.0, deleted=None),
        NodeRecord("b", created=-60.0, ready=None, deleted=60.0),
    ]
    assert node_minutes(nodes, 0.0, 120.0, scale=1.0) == pytest.approx(3.0)
    assert node_minutes(nodes, 0.0, 120.0, scale=0.5) == pytest.approx(6.0)


def test_lower_bound_packs_students_onto_nodes() -> None:
    # 8 per node; 6 steady + 20 students present from about T0 to T0+120 s -> 4 nodes, else 1.
    s = Scenario.quick().with_(arrival_spread=0.001)
    bound = lower_bound(s)
    expected = (s.before * 1 + s.stay * 4 + (s.after - s.stay) * 1) / 60
    assert bound == pytest.approx(expected, abs=0.01)
    assert s.chosen_nodes() == 3


@pytest.mark.cluster
def test_quick_surge_benchmark_writes_its_outputs(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "bench/surge_bench.py",
            "--quick",
            "--strategies",
            "ours",
            "--out",
            str(tmp_path),
            "--out-name",
            "smoke",
            "--cluster-prefix",
            "nps-surge-smoke",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=1200,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    md = (tmp_path / "smoke.md").read_text()
    assert "| strategy |" in md and "4 ours" in md
    if importlib.util.find_spec("matplotlib"):  # the plot is optional
        assert (tmp_path / "smoke.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    else:
        assert not (tmp_path / "smoke.png").exists()
    data = json.loads((tmp_path / "smoke.json").read_text())
    run = data["runs"][0]
    assert run["strategy"] == "ours"
    assert len(run["students"]) == Scenario.quick().students
    assert run["samples"]
