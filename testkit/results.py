"""Raw result files of the benchmarks and measuring tests (bench/results/<name>.json).

Every file records what made it (the command), the machine (CPUs, model, kernel, Python, the
package's version), the load average at the start and at the end of the run, the date, and
the benchmark's own figures under ``data``. The docs' tables are rendered from these files by
``python -m testkit.figures --write`` (testkit/figures.py), never copied by hand.
"""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "?"


def machine() -> dict[str, Any]:
    from node_placeholder_scaler import __version__

    return {
        "cpus": len(os.sched_getaffinity(0)),
        "cpu": cpu_model(),
        "system": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "version": __version__,
    }


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


@dataclass
class Recording:
    """One run: started now; ``write`` stores its figures with the machine and the load."""

    kind: str
    command: str = field(default_factory=lambda: shlex.join([".venv/bin/python", *sys.argv]))
    started: datetime = field(default_factory=lambda: datetime.now(UTC))
    load_start: list[float] = field(default_factory=load_average)

    def document(self, data: Any) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "command": self.command,
            "date": self.started.strftime("%Y-%m-%d %H:%M UTC"),
            "machine": machine(),
            "load": {"start": self.load_start, "end": load_average()},
            "data": data,
        }

    def write(self, path: Path, data: Any) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.document(data), indent=1) + "\n")
        return path


def read(name: str, folder: Path = RESULTS) -> dict[str, Any]:
    """bench/results/<name>.json."""
    document: dict[str, Any] = json.loads((folder / f"{name}.json").read_text())
    return document


def out_path(argument: str | None, default: str) -> Path | None:
    """Where a benchmark writes its result: ``--out`` (a path), or None (print only).
    ``--out -`` means bench/results/<default>.json."""
    if argument is None:
        return None
    return RESULTS / f"{default}.json" if argument == "-" else Path(argument)


RESULTS_ENV = "NPS_RESULTS"  # a folder: measuring tests store their raw results there


def store_if_asked(recording: Recording, name: str, data: Any) -> Path | None:
    """Tests that measure (tests/cluster/test_faults.py, test_ha.py) store their figures as
    ``$NPS_RESULTS/<name>.json`` when NPS_RESULTS names a folder (``bench/results`` to
    publish them); otherwise they only print them."""
    folder = os.environ.get(RESULTS_ENV)
    if not folder:
        return None
    return recording.write(Path(folder) / f"{name}.json", data)


def pytest_command(test: str) -> str:
    return f"{RESULTS_ENV}=bench/results python -m pytest -m cluster -s {test}"
