"""Helpers of the delivery tests (imported as a top-level module, as tests/cluster does)."""

from __future__ import annotations

import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE_SCRIPT = REPO / "scripts" / "image"


@dataclass(frozen=True)
class Image:
    tag: str

    def docker(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker client against our engine."""
        proc = subprocess.run(
            [str(IMAGE_SCRIPT), "docker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"docker {' '.join(args)} -> {proc.returncode}\n{proc.stderr[-3000:]}")
        return proc


def script(*args: str, timeout: float = 1800) -> str:
    proc = subprocess.run(
        [str(IMAGE_SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/image {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""
