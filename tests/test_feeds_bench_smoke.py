"""The hostile-feed benchmark's harness runs (its figures are printed, not asserted)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs the feed benchmark

ROOT = Path(__file__).parent.parent


def test_feed_faults_quick_runs_and_leaks_nothing() -> None:
    result = subprocess.run(
        [sys.executable, "bench/feed_faults.py", "--quick", "--feed-timeout", "2"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    last = result.stdout.strip().splitlines()[-1]
    assert re.fullmatch(
        r"feed-faults: scenarios=\d+ worst_fetch_s=[\d.]+ worst_round_ms=[\d.]+ "
        r"worst_worker_mib=\d+ parent_mib=\d+ leaks=0",
        last,
    ), last
    assert "| trickle (1 byte/s, Content-Length) | timeout |" in result.stdout
