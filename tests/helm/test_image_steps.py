"""The Dockerfile without a Docker engine.

Without an engine, this test runs the build stage's install steps (the COPY and RUN lines
between the `# >>> install steps` and `# <<< install steps` markers) literally, in a fresh
directory and virtualenv, and checks that the console script runs `--help` and the pins hold
(tests/delivery/test_image.py builds the whole Dockerfile with a real engine). It needs the
network to PyPI (as the image build does). The rest of the Dockerfile is checked statically.
"""

from __future__ import annotations

import glob
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO / "Dockerfile"


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped.
    The markers come through as ("#>>>", "") and ("#<<<", "")."""
    result: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("# >>> install steps"):
            result.append(("#>>>", ""))
            continue
        if line.startswith("# <<< install steps"):
            result.append(("#<<<", ""))
            continue
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = pending + line, ""
        word, _, rest = line.partition(" ")
        result.append((word.upper(), rest.strip()))
    return result


def stages(text: str) -> list[list[tuple[str, str]]]:
    out: list[list[tuple[str, str]]] = []
    for instruction in instructions(text):
        if instruction[0] == "FROM":
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def build_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            for pair in shlex.split(args):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def test_final_stage_is_slim_non_root_and_runs_the_console_script() -> None:
    text = DOCKERFILE.read_text()
    build, final = stages(text)
    assert "python:3.11-slim" in re.search(r"ARG PYTHON_IMAGE=(\S+)", text).group(1)  # type: ignore[union-attr]
    assert build[0] == ("FROM", "${PYTHON_IMAGE} AS build")
    assert final[0] == ("FROM", "${PYTHON_IMAGE}")
    words = dict(reversed(final))  # first occurrence wins
    assert words["ENTRYPOINT"] == '["node-placeholder-scaler"]'
    user = [args for word, args in final if word == "USER"]
    assert user == ["10001:10001"]  # numeric: runAsNonRoot can verify it
    final_runs = " ".join(args for word, args in final if word == "RUN")
    assert "tzdata" in final_runs
    assert "rm -rf /var/lib/apt/lists/*" in final_runs
    for tool in ("gcc", "build-essential", "make", "g++", "-dev"):
        assert tool not in final_runs, f"{tool} in the final stage"
    assert (
        "COPY",
        "--from=build /opt/node-placeholder-scaler /opt/node-placeholder-scaler",
    ) in final
    # pinned: only requirements.txt, no resolution
    assert "--no-deps --only-binary=:all: -r requirements.txt" in text


def test_dockerignore_sends_only_what_the_build_copies() -> None:
    lines = [
        line
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert lines[0] == "*"
    assert {"!requirements.txt", "!pyproject.toml", "!node_placeholder_scaler/"} <= set(lines)


# Slow (installs the pinned requirements from PyPI): with the chart tests under the `helm`
# marker, so `-m "not cluster and not helm"` stays fast. (An `image` marker would be apter.)
@pytest.mark.helm
@pytest.mark.skipif(os.environ.get("NPS_SKIP_IMAGE_STEPS") == "1", reason="NPS_SKIP_IMAGE_STEPS=1")
def test_install_steps_in_a_fresh_venv(tmp_path: Path) -> None:
    build = stages(DOCKERFILE.read_text())[0]
    env = {**os.environ, **build_env(build)}
    venv = tmp_path / "venv"
    env["VIRTUAL_ENV"] = str(venv)  # instead of /opt/node-placeholder-scaler
    env.pop("PYTHONPATH", None)
    # `python` is this interpreter (the image's is a python:3.11 as well).
    bin_dir = tmp_path / "python-bin"
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    workdir = tmp_path / "src"
    workdir.mkdir()
    steps = build[build.index(("#>>>", "")) + 1 : build.index(("#<<<", ""))]
    assert [w for w, _ in steps].count("RUN") >= 3
    for word, args in steps:
        if word == "COPY":
            *sources, _dest = shlex.split(args)
            for pattern in sources:
                for source in glob.glob(str(REPO / pattern)):
                    target = workdir / Path(source).name
                    if Path(source).is_dir():
                        shutil.copytree(
                            source, target, ignore=shutil.ignore_patterns("__pycache__")
                        )
                    else:
                        shutil.copy2(source, target)
        elif word == "RUN":
            proc = subprocess.run(
                ["/bin/sh", "-c", args],
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            assert proc.returncode == 0, f"RUN {args}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
        else:
            pytest.fail(f"unexpected {word} between the install-step markers")
    # The console script is there and runs; the venv holds exactly the pinned versions.
    out = subprocess.run(
        [str(venv / "bin" / "node-placeholder-scaler"), "--help"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    )
    assert "usage: node-placeholder-scaler" in out.stdout
    frozen = subprocess.run(
        [str(venv / "bin" / "pip"), "freeze", "--exclude-editable"],
        capture_output=True,
        text=True,
        check=True,
        env=env,
        timeout=120,
    ).stdout
    pinned = {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1].strip()
        for line in (REPO / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    }
    installed = {
        line.split("==")[0].lower().replace("_", "-"): line.split("==")[1].strip()
        for line in frozen.splitlines()
        if "==" in line
    }
    for name, version in pinned.items():
        assert installed.get(name) == version, name
    # tzdata for zoneinfo, in the venv alone
    subprocess.run(
        [str(venv / "bin" / "python"), "-c", "import zoneinfo; zoneinfo.ZoneInfo('Europe/Zurich')"],
        check=True,
        env=env,
        timeout=60,
    )
