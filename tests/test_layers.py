"""The import contracts (.importlinter) hold for every module, present and future.

`lint-imports` checks the contracts; these tests check that every module of the package sits
in a layer, and that the contracts do break when a module reaches past its layer or imports a
client it must not (on a copy of the package, so the real one stays as it is).
"""

from __future__ import annotations

import configparser
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import node_placeholder_scaler

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(node_placeholder_scaler.__file__).parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def layered_modules() -> list[str]:
    contracts = configparser.ConfigParser()
    contracts.read(ROOT / ".importlinter")
    lines = contracts["importlinter:contract:layers"]["layers"].split("\n")
    return [name.strip() for line in lines for name in re.split(r"[:|]", line) if name.strip()]


def present_modules(layered: set[str]) -> set[str]:
    """The package's modules as the layers contract names them: a root module or a package
    layered whole (cli, kube) by its name, and each module of the other packages (the
    features: ical, config, feeds, ...) by its dotted name."""
    present: set[str] = set()
    for info in pkgutil.iter_modules([str(PACKAGE)]):
        if not info.ispkg or info.name in layered:
            present.add(info.name)
            continue
        inner = pkgutil.iter_modules([str(PACKAGE / info.name)])
        present |= {f"{info.name}.{sub.name}" for sub in inner}
    return present


def test_every_module_of_the_package_sits_in_a_layer() -> None:
    """A new module must be placed in .importlinter's layers contract (face, shell, core or
    data); otherwise the layers contract would not see it."""
    layered = layered_modules()
    present = present_modules(set(layered))
    missing = sorted(present - set(layered))
    assert not missing, f"add {missing} to a layer of the layers contract in .importlinter"
    assert len(layered) == len(set(layered)), "a module is in two layers"
    assert not set(layered) - present, "the layers contract names a module that is gone"


def lint_copy(tmp_path: Path, additions: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run lint-imports on a copy of the package with ``additions`` (module file -> line)."""
    copy = tmp_path / "node_placeholder_scaler"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    for name, line in additions.items():
        module = copy / name
        text = module.read_text() if module.exists() else '"""A module added later."""\n'
        module.write_text(text + f"\n{line}\n")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache", "--config", str(tmp_path / ".importlinter")],
        cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True, text=True, timeout=120, check=False,
    )


def test_the_contracts_break_on_a_client_or_layer_violation(tmp_path: Path) -> None:
    """kubernetes outside kube/, requests outside feeds/fetch.py (in old and brand-new modules), and
    a core module importing the shell each break a contract."""
    violations = {
        "plantext.py": "import kubernetes",
        "sizing.py": "import requests",
        "brand_new.py": "from kubernetes import client",
        "planning.py": "from . import loop",
    }
    result = lint_copy(tmp_path, violations)
    assert result.returncode == 1, result.stdout
    assert "Contracts: 0 kept, 3 broken." in result.stdout
    for importer, imported in [
        ("plantext", "kubernetes"),
        ("sizing", "requests"),
        ("brand_new", "kubernetes"),
        ("planning", "node_placeholder_scaler.loop"),
    ]:
        assert f"node_placeholder_scaler.{importer} -> {imported}" in result.stdout


def test_the_unchanged_copy_keeps_every_contract(tmp_path: Path) -> None:
    """The control for the test above: the same copy without the added imports is clean."""
    result = lint_copy(tmp_path, {})
    assert result.returncode == 0, result.stdout
    assert "Contracts: 3 kept, 0 broken." in result.stdout


def pictured_layers() -> list[set[str]]:
    """The words of each layer of the picture in docs/development/index.md (face, shell, core,
    data)."""
    text = (ROOT / "docs/development/index.md").read_text().split("\n## Layers\n", 1)[1]
    layers: list[set[str]] = []
    for line in text.splitlines():
        words = re.findall(r"[A-Za-z_]+", line)
        if words[:1] and words[0] in {"face", "shell", "core", "data"} and line.startswith(" "):
            layers.append(set(words))
        elif layers and (line.strip().startswith("|") or re.match(r" {13}\S", line)):
            layers[-1] |= set(words)
    return layers


def test_the_docs_picture_shows_the_contracts_layers() -> None:
    contracts = configparser.ConfigParser()
    contracts.read(ROOT / ".importlinter")
    lines = [line for line in contracts["importlinter:contract:layers"]["layers"].split("\n")
             if line.strip()]
    pictured = pictured_layers()
    assert len(pictured) == len(lines) == 4
    for line, words in zip(lines, pictured, strict=True):
        names = {part for name in re.split(r"[:|]", line) for part in name.strip().split(".")}
        names -= {"__main__"}
        assert names <= words, f"docs/development/index.md picture misses {sorted(names - words)}"
