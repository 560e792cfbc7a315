"""One version number: the package, the chart's version and appVersion, the chart's image
annotation, the image tag of scripts/image and the CHANGELOG name the same release."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import yaml

from node_placeholder_scaler import __version__

ROOT = Path(__file__).resolve().parent.parent
CHART = yaml.safe_load((ROOT / "helm/node-placeholder-scaler/Chart.yaml").read_text())


def test_the_version_is_semantic():
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)


def test_the_package_reads_its_version_from_the_one_place():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    attr = project["tool"]["setuptools"]["dynamic"]["version"]["attr"]
    assert attr == "node_placeholder_scaler.__version__"


def test_the_chart_carries_the_package_version():
    assert CHART["version"] == CHART["appVersion"] == __version__
    images = yaml.safe_load(CHART["annotations"]["artifacthub.io/images"])
    assert f"node-placeholder-scaler:{__version__}" in {image["image"] for image in images}


def test_the_image_tag_is_the_version():
    """scripts/image's default tag, as the script itself computes it."""
    script = (ROOT / "scripts/image").read_text()
    line = next(line for line in script.splitlines() if line.startswith("DEFAULT_TAG="))
    out = subprocess.run(
        ["bash", "-c", f'REPO={ROOT}; {line}; printf %s "$DEFAULT_TAG"'],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    )
    assert out.stdout == f"node-placeholder-scaler:{__version__}"


def test_the_changelog_has_the_release():
    text = (ROOT / "CHANGELOG.md").read_text()
    heading = re.search(
        rf"^## {re.escape(__version__)} - \d{{4}}-\d{{2}}-\d{{2}}$", text, flags=re.MULTILINE
    )
    assert heading, f"CHANGELOG.md has no section for {__version__}"
    section = text[heading.end() :].split("\n## ", 1)[0]
    assert "### Upgrade notes" in section and "`leadTime` defaults to `0s`" in section
