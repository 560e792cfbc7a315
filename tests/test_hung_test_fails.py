"""A test that hangs fails by its timeout instead of holding CI until the job's limit.

pytest runs in a subprocess on a file of deliberately hung tests (a sleep, a lock nobody
releases, a child process that never ends) with the project's own pytest configuration and
only the bound made short; every test must fail by timeout within a bound, and the run must end.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs pytest on hung tests as subprocesses

ROOT = Path(__file__).resolve().parent.parent
HUNG = """
import subprocess
import threading
import time


def test_sleeps() -> None:
    time.sleep(600)


def test_waits_on_a_lock_nobody_releases() -> None:
    lock = threading.Lock()
    lock.acquire()
    lock.acquire()


def test_waits_on_a_child_that_never_ends() -> None:
    subprocess.run(["sleep", "600"], check=False)
"""
BOUND = 3  # seconds per test in the subprocess


def test_the_configured_timeout_bounds_every_test(pytestconfig: pytest.Config) -> None:
    configured = float(pytestconfig.getini("timeout"))
    assert 0 < configured <= 1800, "pyproject.toml sets a per-test timeout (pytest-timeout)"


def test_a_hung_test_fails_by_timeout(tmp_path: Path) -> None:
    (tmp_path / "test_hung.py").write_text(HUNG)
    started = time.monotonic()
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-c",
            str(ROOT / "pyproject.toml"),
            "--rootdir",
            str(tmp_path),
            "-p",
            "no:cacheprovider",
            "-m",
            "",
            "-o",
            f"timeout={BOUND}",
            str(tmp_path / "test_hung.py"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    took = time.monotonic() - started
    print(f"3 hung tests failed by timeout in {took:.1f}s")
    out = run.stdout + run.stderr
    assert run.returncode == 1, out[-3000:]
    assert "3 failed in" in out, out[-3000:]
    for name in (
        "test_sleeps",
        "test_waits_on_a_lock_nobody_releases",
        "test_waits_on_a_child_that_never_ends",
    ):
        assert f"FAILED test_hung.py::{name} - Failed: Timeout" in out, out[-3000:]
    assert took < 90, f"the run took {took:.1f}s for three {BOUND}s bounds"
