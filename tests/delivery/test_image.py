"""The controller image, built for real from the Dockerfile and run as the chart runs it.

The chart runs the container with a read-only root filesystem, as UID 10001, with every
capability dropped and an emptyDir on /tmp; these tests run the built image the same way
(with a tmpfs for the emptyDir and no network) and compare its answers with the host's.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from testkit.delivery import REPO, Image

# Also `cluster`: the fast selection (-m "not cluster and not helm") needs no engine or root.
pytestmark = [pytest.mark.delivery, pytest.mark.cluster]

EXAMPLES = REPO / "examples"
# As the chart's securityContext: read-only root, non-root, no capabilities, no privilege gain.
LOCKED = (
    "--read-only",
    "--cap-drop",
    "ALL",
    "--security-opt",
    "no-new-privileges",
    "--network",
    "none",
)
CHART_TMP = ("--tmpfs", "/tmp:rw,size=64m,uid=10001,gid=10001,mode=0700")
CONFIG_MOUNT = ("-v", f"{EXAMPLES}:/etc/node-placeholder-scaler:ro")
CONFIG = "/etc/node-placeholder-scaler/config.yaml"
HOST_CLI = "from node_placeholder_scaler.cli import main; raise SystemExit(main())"


def run(
    image: Image, *args: str, entrypoint: str | None = None, extra: tuple[str, ...] = ()
) -> subprocess.CompletedProcess[str]:
    opts = ("--entrypoint", entrypoint) if entrypoint else ()
    return image.docker("run", "--rm", *LOCKED, *extra, *opts, image.tag, *args, check=False)


def host(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", HOST_CLI, *args],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_image_runs_as_uid_10001_and_help_works_read_only(image: Image) -> None:
    config = json.loads(image.docker("image", "inspect", image.tag).stdout)[0]["Config"]
    assert config["User"] == "10001:10001"  # numeric: runAsNonRoot can check it
    assert config["Entrypoint"] == ["node-placeholder-scaler"]
    # Not even /tmp writable: --help needs nothing of the filesystem.
    out = run(image, "--help")
    assert out.returncode == 0, out.stderr
    assert "usage: node-placeholder-scaler" in out.stdout
    ids = run(image, "-c", "import os; print(os.getuid(), os.getgid())", entrypoint="python")
    assert ids.stdout.split() == ["10001", "10001"], ids.stderr


def test_runtime_layer_has_no_pip_and_every_module_imports(image: Image) -> None:
    probe = """
import importlib, importlib.util, json, pkgutil
import node_placeholder_scaler as p
mods = sorted(m.name for m in pkgutil.walk_packages(p.__path__, "node_placeholder_scaler."))
for m in mods:
    if not m.endswith(".__main__"):  # that one runs the CLI
        importlib.import_module(m)
gone = [n for n in ("pip", "setuptools", "kubernetes.aio") if importlib.util.find_spec(n)]
print(json.dumps({"modules": mods, "present": gone}))
"""
    out = run(image, "-c", probe, entrypoint="python", extra=CHART_TMP)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    ours = sorted(
        "node_placeholder_scaler."
        + ".".join(f.relative_to(REPO / "node_placeholder_scaler").with_suffix("").parts)
        for f in (REPO / "node_placeholder_scaler").rglob("*.py")
        if f.name != "__init__.py"
    )
    assert set(ours) <= set(found["modules"])
    assert found["present"] == []


def test_plan_in_the_container_equals_plan_on_the_host(image: Image) -> None:
    window = ("--from", "2026-03-02T00:00", "--to", "2026-03-09T00:00", "--output", "json")
    inside = run(image, "plan", "--config", CONFIG, *window, extra=(*CHART_TMP, *CONFIG_MOUNT))
    assert inside.returncode == 0, inside.stderr
    outside = host("plan", "--config", str(EXAMPLES / "config.yaml"), *window)
    assert outside.returncode == 0, outside.stderr
    timeline = json.loads(inside.stdout)
    assert timeline == json.loads(outside.stdout)
    # The example calendar asks for placeholders in that week: the comparison is not of nothing.
    assert max(step["pools"]["user"] for step in timeline) == 3


def test_validate_in_the_container_reports_what_the_host_reports(image: Image) -> None:
    inside = run(image, "validate", "--config", CONFIG, extra=(*CHART_TMP, *CONFIG_MOUNT))
    outside = host("validate", "--config", str(EXAMPLES / "config.yaml"))
    # The example calendar carries one deliberate problem (an unknown pool): exit code 1.
    assert (inside.returncode, inside.stdout) == (outside.returncode, outside.stdout)
    assert "calendar courses: ok" in inside.stdout
    assert "unknown-pool" in inside.stdout


def test_without_the_charts_tmp_validate_names_the_failing_feed_and_exits(image: Image) -> None:
    """The feed workers (multiprocessing forkserver) need a writable /tmp for their socket: the
    chart mounts an emptyDir there. Without it, validate must still answer, promptly, with the
    feed's problem and a non-zero exit, not hang or die."""
    out = run(image, "validate", "--config", CONFIG, extra=CONFIG_MOUNT)
    assert out.returncode == 1, out.stderr[-2000:]
    assert "[feed-error] courses: the feed worker could not run" in out.stdout
    assert "1 problem(s) in 1 calendar(s)" in out.stdout
