"""The feed benchmark's harness runs (figures are printed by the benchmark, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the benchmark harness as a subprocess

ROOT = Path(__file__).parent.parent


def test_feed_bench_harness_runs():
    result = subprocess.run(
        [
            sys.executable,
            "bench/feed_bench.py",
            "--series",
            "5",
            "--singles",
            "40",
            "--repeat",
            "1",
            "--rounds",
            "5",
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"feed-bench: events=50 bytes=\d+ parse_s=[\d.]+ replan_ms=[\d.]+", last), (
        last
    )
