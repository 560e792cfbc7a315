"""The release artifacts: `python -m build` makes a wheel and an sdist; the wheel installs into
a clean virtualenv (no development tools) and its console script works there: `--version` and
`plan` on the example configuration. Slow (tests/conftest.py): it builds and installs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from node_placeholder_scaler import __version__

pytestmark = pytest.mark.slow  # builds the wheel and sdist and installs them

ROOT = Path(__file__).resolve().parent.parent
DEV_TOOLS = {
    "pytest",
    "ruff",
    "mypy",
    "hypothesis",
    "import-linter",
    "mkdocs",
    "pip-tools",
    "nps-testkit",
}


def run(*args: str | Path, timeout: float = 900) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run(
        [str(a) for a in args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
        env=env,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    built = run(sys.executable, "-m", "build", "--outdir", out, ROOT)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    return out


@pytest.fixture(scope="module")
def venv(dist: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A clean virtualenv (the interpreter's own, no system packages) with the wheel."""
    where = tmp_path_factory.mktemp("venv") / "v"
    assert run(sys.executable, "-m", "venv", where).returncode == 0
    wheel = next(dist.glob("*.whl"))
    installed = run(
        where / "bin" / "python",
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        wheel,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    return where


def test_build_makes_a_wheel_and_an_sdist_of_the_version(dist):
    names = sorted(path.name for path in dist.iterdir())
    assert names == [
        f"node_placeholder_scaler-{__version__}-py3-none-any.whl",
        f"node_placeholder_scaler-{__version__}.tar.gz",
    ]


def test_the_wheel_holds_the_package_and_its_license_only(dist):
    with zipfile.ZipFile(next(dist.glob("*.whl"))) as wheel:
        tops = {name.split("/")[0] for name in wheel.namelist()}
        assert tops == {
            "node_placeholder_scaler",
            f"node_placeholder_scaler-{__version__}.dist-info",
        }
        assert any(name.endswith("licenses/LICENSE") for name in wheel.namelist())
        metadata = wheel.read(f"node_placeholder_scaler-{__version__}.dist-info/METADATA")
    assert b"License-Expression: BSD-3-Clause" in metadata


def test_the_sdist_carries_license_and_readme(dist):
    with tarfile.open(next(dist.glob("*.tar.gz"))) as sdist:
        names = {name.split("/", 1)[-1] for name in sdist.getnames()}
    assert {"LICENSE", "README.md", "pyproject.toml"} <= names


def test_the_clean_venv_has_no_development_tools(venv):
    listed = run(venv / "bin" / "python", "-m", "pip", "list", "--format", "json")
    names = {package["name"].lower() for package in json.loads(listed.stdout)}
    assert "node-placeholder-scaler" in names
    assert not names & DEV_TOOLS


def test_the_installed_cli_prints_its_version(venv):
    result = run(venv / "bin" / "node-placeholder-scaler", "--version")
    assert result.returncode == 0 and result.stdout.strip() == __version__


def test_the_installed_cli_plans_the_example(venv, tmp_path):
    """`plan` on the example configuration, from a folder outside the repository (the wheel,
    not the checkout, is imported)."""
    result = subprocess.run(
        [
            str(venv / "bin" / "node-placeholder-scaler"),
            "plan",
            "--config",
            str(ROOT / "examples" / "config.yaml"),
            "--at",
            "2026-03-02T08:55",
            "--output",
            "json",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    plan = json.loads(result.stdout)
    assert plan["pools"] == {"user": 3, "gpu": 0}  # the Monday lecture of examples/courses.ics
    where = subprocess.run(
        [
            str(venv / "bin" / "python"),
            "-c",
            "import node_placeholder_scaler as m; print(m.__file__)",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert where.stdout.startswith(str(venv))
