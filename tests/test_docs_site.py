"""The docs site builds with warnings as errors, and a broken link does fail that build (so
the `mkdocs build --strict` step of scripts/test can fail). Slow: runs mkdocs twice."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow  # runs mkdocs twice

ROOT = Path(__file__).resolve().parent.parent


def build(root: Path, site: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
        cwd=root,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )


def test_the_site_builds_strict(tmp_path):
    result = build(ROOT, tmp_path / "site")
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "site" / "reference" / "metrics" / "index.html").is_file()


def test_a_broken_link_fails_the_strict_build(tmp_path):
    copy = tmp_path / "repo"
    shutil.copytree(ROOT / "docs", copy / "docs")
    shutil.copy(ROOT / "mkdocs.yml", copy / "mkdocs.yml")
    page = copy / "docs" / "operations" / "alerts.md"
    page.write_text(page.read_text() + "\nSee [the gone page](gone.md).\n")
    result = build(copy, tmp_path / "site")
    assert result.returncode != 0
    assert "gone.md" in result.stderr


def test_the_readme_is_a_short_front_door_with_working_links():
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 200
    assert "scripts/bootstrap && scripts/demo" in text and "\nscripts/test\n" in text
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", text)
    assert links and all((ROOT / link).exists() for link in links), [
        link for link in links if not (ROOT / link).exists()
    ]
    assert not [link for link in links if "://" in link]  # nothing outside the repository
