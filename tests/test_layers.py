"""The import contracts (.importlinter) hold for every module, present and future.

`lint-imports` checks the contracts; these tests check that every module of the package sits
in a layer, and that the contracts do break when a module reaches past its layer or imports a
client it must not (on a copy of the package, so the real one stays as it is).
"""

from __future__ import annotations

import ast
import configparser
import os
import pkgutil
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import node_placeholder_scaler

pytestmark = pytest.mark.slow  # runs lint-imports as subprocesses

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = Path(node_placeholder_scaler.__file__).parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def layered_modules(contract: str = "layers") -> list[str]:
    return [name for level in levels(contract) for name in level]


def levels(contract: str) -> list[list[str]]:
    """The modules of each level of a layers contract of .importlinter, top first."""
    contracts = configparser.ConfigParser()
    contracts.read(ROOT / ".importlinter")
    lines = contracts[f"importlinter:contract:{contract}"]["layers"].split("\n")
    found = [[name.strip() for name in re.split(r"[:|]", line) if name.strip()] for line in lines]
    return [level for level in found if level]


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


@pytest.mark.parametrize(
    ("contract", "tier"), [("shell-ordered", 1), ("core-ordered", 2), ("data-ordered", 3)]
)
def test_each_ordered_contract_names_every_module_of_its_tier(contract: str, tier: int) -> None:
    """The shell, the core and the data in order: a module placed in a tier must be placed in
    its tier's ordered contract too, or that contract would not see it."""
    assert sorted(layered_modules(contract)) == sorted(levels("layers")[tier])


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
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


# One injected import (module file -> line) per contract of .importlinter that must break it:
# an upward import, a sibling import, a client where it does not belong, or a module left out.
INJECTED: dict[str, tuple[str, str, str]] = {
    # contract: (module file, added line, the import the report must name)
    "layers": ("planning.py", "from . import loop", "planning -> node_placeholder_scaler.loop"),
    "kubernetes-only-in-kube": ("plantext.py", "import kubernetes", "plantext -> kubernetes"),
    "requests-only-in-fetch": ("sizing.py", "import requests", "sizing -> requests"),
    "kube-at-the-bottom": (
        "kube/objects.py",
        "from ..planning import plan",
        "kube.objects -> node_placeholder_scaler.planning",
    ),
    "shell-ordered": (
        "kube/leases.py",
        "from ..leadership import Elector",
        "kube.leases -> node_placeholder_scaler.leadership",
    ),
    "core-ordered": (
        "guardrails.py",
        "from . import planning",
        "guardrails -> node_placeholder_scaler.planning",
    ),
    "data-ordered": (
        "reasons.py",
        "from . import decisions",
        "reasons -> node_placeholder_scaler.decisions",
    ),
    "ical": (
        "ical/rules.py",
        "from . import calendar",
        "ical.rules -> node_placeholder_scaler.ical.calendar",
    ),
    "config": (
        "config/configkeys.py",
        "from . import settings",
        "config.configkeys -> node_placeholder_scaler.config.settings",
    ),
    "feeds": (
        "feeds/fetch.py",
        "from . import book",
        "feeds.fetch -> node_placeholder_scaler.feeds.book",
    ),
    "reports": (
        "reports/timelines.py",
        "from . import record",
        "reports.timelines -> node_placeholder_scaler.reports.record",
    ),
    "backends": (
        "backends/placeholders.py",
        "from . import buffer",
        "backends.placeholders -> node_placeholder_scaler.backends.buffer",
    ),
    "preflight": (
        "preflight/findings.py",
        "from . import pools",
        "preflight.findings -> node_placeholder_scaler.preflight.pools",
    ),
    "problems": (
        "problems/upcoming.py",
        "from . import notifications",
        "problems.upcoming -> node_placeholder_scaler.problems.notifications",
    ),
    "status": (
        "status/template.py",
        "from . import view",
        "status.template -> node_placeholder_scaler.status.view",
    ),
    "seating": (
        "seating/phase.py",
        "from . import rule",
        "seating.phase -> node_placeholder_scaler.seating.rule",
    ),
    "core-features": (
        "ical/nearmiss.py",
        "from ..reports import advice",
        "ical.nearmiss -> node_placeholder_scaler.reports.advice",
    ),
    "backend-siblings": (
        "backends/buffer.py",
        "from . import placeholders",
        "backends.buffer -> node_placeholder_scaler.backends.placeholders",
    ),
    "round-parts": (
        "problems/watch.py",
        "from ..status import page",
        "problems.watch -> node_placeholder_scaler.status.page",
    ),
}


def contracts() -> dict[str, str]:
    """Each contract's key and name, as .importlinter declares them."""
    parser = configparser.ConfigParser()
    parser.read(ROOT / ".importlinter")
    prefix = "importlinter:contract:"
    return {
        section.removeprefix(prefix): parser[section]["name"]
        for section in parser.sections()
        if section.startswith(prefix)
    }


def test_every_contract_is_shown_to_bite() -> None:
    """A new contract comes with the import that breaks it (INJECTED above)."""
    assert set(contracts()) == set(INJECTED)


def test_each_contract_breaks_on_its_injected_import(tmp_path: Path) -> None:
    """Every contract at once, on a copy: an upward import (core -> shell, fetch -> book),
    a sibling import (one backend -> the other, kube -> leadership on the shell's bottom
    level), a client outside its module; each contract reports broken, naming the import."""
    additions: dict[str, str] = {}
    for module, line, _ in INJECTED.values():
        additions[module] = "\n".join(filter(None, [additions.get(module), line]))
    result = lint_copy(tmp_path, additions)
    assert result.returncode == 1, result.stdout
    assert f"Contracts: 0 kept, {len(INJECTED)} broken." in result.stdout
    report = "".join(result.stdout.split())  # lint-imports wraps long lines
    for key, (_, _, named) in INJECTED.items():
        assert f"node_placeholder_scaler.{named}".replace(" ", "") in report, (key, named)
        assert "".join(contracts()[key].split()) + "BROKEN" in report, key


def test_a_new_module_of_a_feature_must_be_placed(tmp_path: Path) -> None:
    """The feature contracts are exhaustive: a module added to ical/ and placed in no level of
    its contract breaks it (a brand-new root module still breaks only a client contract)."""
    result = lint_copy(
        tmp_path,
        {
            "ical/brand_new.py": "from . import rules",
            "brand_new.py": "from kubernetes import client",
        },
    )
    assert result.returncode == 1, result.stdout
    report = "".join(result.stdout.split())
    assert "node_placeholder_scaler.ical.brand_new" in report
    assert "node_placeholder_scaler.brand_new->kubernetes" in report
    assert f"Contracts: {len(INJECTED) - 2} kept, 2 broken." in result.stdout


def test_the_unchanged_copy_keeps_every_contract(tmp_path: Path) -> None:
    """The control for the tests above: the same copy without the added imports is clean."""
    result = lint_copy(tmp_path, {})
    assert result.returncode == 0, result.stdout
    assert f"Contracts: {len(INJECTED)} kept, 0 broken." in result.stdout


def pictured_layers() -> list[set[str]]:
    """The words of each layer of the picture in docs/development/index.md (face, shell, core,
    data)."""
    text = (ROOT / "docs/development/index.md").read_text().split("\n## Layers\n", 1)[1]
    layers: list[set[str]] = []
    for line in text.splitlines():
        words = re.findall(r"[A-Za-z_][A-Za-z0-9_]*", line)
        if words[:1] and words[0] in {"face", "shell", "core", "data"} and line.startswith(" "):
            layers.append(set(words))
        elif layers and (line.strip().startswith("|") or re.match(r" {13}\S", line)):
            layers[-1] |= set(words)
    return layers


def test_the_docs_picture_shows_the_contracts_layers() -> None:
    contracts = configparser.ConfigParser()
    contracts.read(ROOT / ".importlinter")
    lines = [
        line
        for line in contracts["importlinter:contract:layers"]["layers"].split("\n")
        if line.strip()
    ]
    pictured = pictured_layers()
    assert len(pictured) == len(lines) == 4
    for line, words in zip(lines, pictured, strict=True):
        names = {part for name in re.split(r"[:|]", line) for part in name.strip().split(".")}
        names -= {"__main__"}
        assert names <= words, f"docs/development/index.md picture misses {sorted(names - words)}"


def test_a_function_local_import_says_why() -> None:
    """An import inside a function (outside ``if TYPE_CHECKING:``) hides a dependency from the
    contracts' readers: each one carries a comment, on its line or the line above (or above
    the group of imports it starts)."""
    silent = []
    for module in sorted(PACKAGE.rglob("*.py")):
        lines = module.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines))):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for inner in ast.walk(node):
                if not isinstance(inner, ast.Import | ast.ImportFrom):
                    continue
                row = inner.lineno - 1
                while row > 0 and re.match(r"\s*(from|import) ", lines[row - 1]):
                    row -= 1  # the first import of a group
                said = "#" in lines[inner.lineno - 1] or lines[row - 1].strip().startswith("#")
                if not said:
                    silent.append(f"{module.relative_to(ROOT)}:{inner.lineno}")
    assert not silent, f"function-local imports without a comment saying why: {silent}"
