"""The course-surge benchmark's stored runs re-render to exactly the files kept beside them
(bench/results/<run>.md and .json from the raw .json, as `bench/surge_bench.py --render`
does): no table in bench/results was made by an older harness than today's."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # re-renders every stored surge run

RESULTS = Path(__file__).parent.parent / "bench" / "results"
RUNS = sorted(p.stem for p in RESULTS.glob("*.json") if p.stem.startswith(("surge", "reports")))


def surge_bench():
    path = Path(__file__).parent.parent / "bench" / "surge_bench.py"
    if str(path.parent) not in sys.path:  # its sibling surge_report, as when run as a script
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location("surge_bench", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("run", RUNS)
def test_a_stored_surge_run_re_renders_to_its_files(run: str, tmp_path: Path) -> None:
    shutil.copy(RESULTS / f"{run}.json", tmp_path)
    assert surge_bench().render(tmp_path / f"{run}.json") == 0
    for suffix in (".md", ".json"):
        assert (tmp_path / f"{run}{suffix}").read_text() == (
            RESULTS / f"{run}{suffix}"
        ).read_text(), (
            f"bench/results/{run}{suffix} differs from a re-render: run "
            f"`.venv/bin/python bench/surge_bench.py --render bench/results/{run}.json`"
        )


def test_there_are_stored_runs() -> None:
    assert len(RUNS) >= 12, RUNS
