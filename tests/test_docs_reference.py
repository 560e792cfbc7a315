"""The generated reference pages (docs/reference/) and the chart README say what the code says.

When this fails, run `python -m testkit.docs_reference --write` and commit the result.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from node_placeholder_scaler import reasons
from testkit import docs_reference
from testkit.chart_readme import documented
from testkit.chart_schema import CHART


@pytest.mark.parametrize("path", sorted(docs_reference.generated()), ids=lambda p: p.name)
def test_the_generated_file_is_in_step_with_the_code(path):
    wanted = docs_reference.generated()[path]
    assert path.exists() and path.read_text() == wanted, (
        f"{path.relative_to(docs_reference.ROOT)} is out of step with the code: "
        f"run {docs_reference.COMMAND}"
    )


def test_main_reports_a_stale_page_and_write_mends_it(tmp_path, monkeypatch, capsys):
    page = tmp_path / "exit-codes.md"
    monkeypatch.setattr(docs_reference, "PAGES", {page: docs_reference.exit_codes})
    monkeypatch.setattr(docs_reference, "generated", lambda: {page: "# fresh\n"})
    page.write_text("# stale\n")
    monkeypatch.setattr(docs_reference, "ROOT", tmp_path)
    assert docs_reference.main([]) == 1
    assert "run python -m testkit.docs_reference --write" in capsys.readouterr().out
    assert docs_reference.main(["--write"]) == 0
    assert page.read_text() == "# fresh\n" and docs_reference.main([]) == 0


def test_every_event_reason_written_is_in_the_one_list():
    """The package takes every Event reason from reasons.py (no module defines its own), and
    every row of reasons.REASONS is used by some module."""
    package = Path(reasons.__file__).parent
    used: set[str] = set()
    for module in package.rglob("*.py"):
        if module.name == "reasons.py":
            continue
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("reasons"):
                used |= {alias.name for alias in node.names}
            assert not (
                isinstance(node, ast.keyword)
                and node.arg == "reason"
                and isinstance(node.value, ast.Constant)
            ), f"a literal reason in {module}"
    listed = {reason.name for reason in reasons.REASONS}
    written = {getattr(reasons, name) for name in used}
    assert {r.name for r in written if isinstance(r, reasons.Reason)} == listed
    page = docs_reference.events()
    assert set(re.findall(r"^\| `(\w+)` \|", page, flags=re.MULTILINE)) == listed


def test_the_chart_readme_documents_the_commented_values():
    text = (CHART / "values.yaml").read_text()
    keys = dict(documented(text))
    assert keys["image.repository"].startswith("Image repository")
    assert keys["controller.livenessProbe"] == "Liveness probe on /healthz."
    assert "prometheusRule.alerts.controllerDown" in keys  # a nested key under a plain group
    assert "priorityClass.value" in keys and "placeholder.image" not in keys
    readme = (CHART / "README.md").read_text()
    for key in keys:
        assert f"| `{key}` |" in readme


def test_a_continued_comment_documents_the_next_key_only():
    text = "a:\n  # -- first line\n  # second line\n  b: 1\n  c: 2\n# -- top\nd: {}\n"
    assert documented(text) == [("a.b", "first line second line"), ("d", "top")]


def test_angle_brackets_show_outside_code_spans():
    from testkit.chart_readme import html_safe

    assert html_safe("placeholder-<pool> and `buffer-<pool>`") == (
        "placeholder-&lt;pool&gt; and `buffer-<pool>`"
    )


def leaves(node, prefix=""):
    """Dotted paths of the values a user sets: scalars, lists and empty mappings."""
    if isinstance(node, dict) and node:
        for key, value in node.items():
            yield from leaves(value, f"{prefix}{key}.")
    else:
        yield prefix.rstrip(".")


def undocumented(text):
    import yaml

    documented_keys = {key for key, _ in documented(text)}
    return [
        leaf
        for leaf in leaves(yaml.safe_load(text))
        if not any(leaf == key or leaf.startswith(f"{key}.") for key in documented_keys)
    ]


def test_every_chart_value_is_documented():
    """Each value of values.yaml has a `# --` comment on itself or on a key above it, so the
    chart README's table covers it."""
    bare = undocumented((CHART / "values.yaml").read_text())
    assert not bare, f"values without a `# --` comment in values.yaml: {bare}"


def test_a_value_without_its_comment_is_named():
    text = "# -- doc\na: 1\ngroup:\n  # plain comment\n  b: {}\n  # -- doc\n  c: [x]\n"
    assert undocumented(text) == ["group.b"]
