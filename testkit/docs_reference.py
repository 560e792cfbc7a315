"""The reference pages of the docs site and the chart's README, generated from the code.

``python -m testkit.docs_reference --write`` rewrites every one of them; without ``--write`` it
says which are out of step (exit 1). ``tests/test_docs_reference.py`` fails when any of them
differs from what the code says, and names this command.

- docs/reference/configuration.md: the settings tables (``settings.SECTIONS``)
- docs/reference/metrics.md: the metrics registry (``metrics.Metrics``) and label vocabularies
- docs/reference/events.md: the Event reasons (``reasons.REASONS``)
- docs/reference/cli.md: the argparse parser of the console script
- docs/reference/exit-codes.md: ``cli.common.Exit`` and its meanings
- helm/node-placeholder-scaler/README.md: values.yaml's ``# --`` comments and the schema
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Iterable
from enum import StrEnum
from pathlib import Path
from typing import Any

import yaml
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.cli import _parser
from node_placeholder_scaler.cli.common import EXIT_MEANINGS, Exit
from node_placeholder_scaler.config.configkeys import Key
from node_placeholder_scaler.config.settings import SECTIONS
from node_placeholder_scaler.decisions import Direction, Stage
from node_placeholder_scaler.feeds.types import FetchResult
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import ProblemKind
from node_placeholder_scaler.reasons import REASONS

from .chart_readme import chart_readme, html_safe
from .chart_schema import CHART

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "docs" / "reference"
COMMAND = "python -m testkit.docs_reference --write"
HEADER = f"<!-- Generated from the code by `{COMMAND}`: do not edit by hand. -->\n\n"
# Example values of keys that have no default, for the configuration page's YAML block.
EXAMPLES: dict[str, object] = {
    "namespace": "node-placeholder",
    "timezone": "Europe/Zurich",
    "calendars[]name": "courses",
    "calendars[]url": "https://calendar.example.org/private-TOKEN/basic.ics",
    "calendars[]urlFromEnv": "COURSES_ICS_URL",
    "calendars[]timezone": "Europe/Zurich",
    "calendars[]pools": ["user"],
    "pools.<pool>.deployment": "placeholder-user",
    "pools.<pool>.nodeSelector": {"hub.jupyter.org/node-purpose": "user"},
    "pools.<pool>.leadTime": "20m",
    "pools.<pool>.buffer": "buffer-user",
}


def _cell(text: object) -> str:
    """Text for a table cell: pipes escaped, one line, and <name> shown, not taken for HTML."""
    return html_safe(str(text).replace("|", "\\|").replace("\n", " "))


def _bounds(key: Key) -> str:
    parts = [
        f">= {key.low:g}" if key.low is not None else "",
        f"<= {key.high:g}" if key.high is not None else "",
        f"< {key.below:g}" if key.below is not None else "",
        "> 0s" if key.positive else "",
        " | ".join(key.choices),
    ]
    return ", ".join(part for part in parts if part)


def _default(key: Key) -> str:
    if key.default is None:
        return ""
    return '`""`' if key.default == "" else f"`{key.default}`"


def _example_value(prefix: str, key: Key) -> object:
    if key.default is not None:
        return key.default
    return EXAMPLES.get(f"{prefix}{key.name}")


def _example_config() -> dict[str, Any]:
    top: dict[str, Any] = {}
    for prefix, table in SECTIONS.items():
        body = {k.name: _example_value(prefix, k) for k in table if k.kind != "section"}
        if prefix == "":
            top.update(body)
        elif prefix == "calendars[]":
            top["calendars"] = [body]
        elif prefix == "pools.<pool>.":
            top["pools"] = {"user": body}
        else:
            top[prefix.rstrip(".")] = body
    order = [k.name for k in SECTIONS[""]]
    return {name: top[name] for name in order if name in top}


def configuration() -> str:
    example = yaml.safe_dump(_example_config(), sort_keys=False, default_flow_style=False)
    lines = [
        "# Configuration",
        "",
        "The controller's config file (`--config`, default "
        "`/etc/node-placeholder-scaler/config.yaml`; the chart writes it from its `config`, "
        "`calendars` and `pools` values). Every key with its default; keys without a default "
        "show an example value:",
        "",
        "```yaml",
        example.rstrip("\n"),
        "```",
        "",
        "The file is YAML without aliases, at most 32 levels deep and 1 MiB. Unknown keys are "
        "errors; a bad value fails at start with the file and the key named and exit code 2, "
        "e.g. `error: bad configuration: config.yaml: pools.user.maxReplicas: expected a whole "
        "number, got 'ten'`. Durations are written `90s`, `15m`, `1h30m`, `2d` or seconds.",
        "",
    ]
    for prefix, table in SECTIONS.items():
        title = f"`{prefix.rstrip('.')}`" if prefix else "top level"
        lines += [
            f"## {title}",
            "",
            "| key | kind | default | bounds | meaning |",
            "|---|---|---|---|---|",
        ]
        for key in table:
            default = _default(key)
            chart = "" if key.chart else " (set by the chart)"
            lines.append(
                f"| `{key.name}` | {key.kind} | {default} | {_cell(_bounds(key))} | "
                f"{_cell(key.doc)}{chart} |"
            )
        lines.append("")
    return "\n".join(lines)


def metric_families(registry: CollectorRegistry) -> list[tuple[str, str, tuple[str, ...], str]]:
    """(name as exported, type, labels, help) of every metric of the registry."""
    found = []
    collectors: Iterable[Any] = registry._collector_to_names  # no public listing
    for collector in collectors:
        kind = getattr(collector, "_type", "")
        name = getattr(collector, "_name", "") + ("_total" if kind == "counter" else "")
        labels = tuple(getattr(collector, "_labelnames", ()))
        found.append((name, kind, labels, getattr(collector, "_documentation", "")))
    return sorted(found)


VOCABULARIES: tuple[tuple[str, str, type[StrEnum]], ...] = (
    ("stage", "node_placeholder_errors_total", Stage),
    ("direction", "node_placeholder_scale_patches_total", Direction),
    ("result", "node_placeholder_feed_fetches_total", FetchResult),
    ("kind", "node_placeholder_problems", ProblemKind),
)


def metrics() -> str:
    lines = [
        "# Metrics",
        "",
        "Served on `/metrics` of `metricsPort` (default 8080). Every label value comes from a "
        "fixed vocabulary (below) or the configuration (`pool`, `calendar`: configured names); "
        "never an event title, a UID or a feed address. Counters' series and "
        "`node_placeholder_problems{kind}` exist from the start at 0, so dashboards see zeros, "
        "not gaps.",
        "",
        "| metric | type | labels | meaning |",
        "|---|---|---|---|",
    ]
    for name, kind, labels, text in metric_families(Metrics(CollectorRegistry()).registry):
        shown = ", ".join(f"`{label}`" for label in labels)
        lines.append(f"| `{name}` | {kind} | {shown} | {_cell(text)} |")
    lines += ["", "## Label values", ""]
    for label, metric, vocabulary in VOCABULARIES:
        values = ", ".join(f"`{v.value}`" for v in vocabulary)
        lines.append(f"- `{label}` of `{metric}`: {values}")
    return "\n".join(lines) + "\n"


def events() -> str:
    lines = [
        "# Event reasons",
        "",
        "The Kubernetes Events the controller writes (only the leader writes; each Event's "
        "`reportingInstance` is the replica that wrote it). Watch them with "
        "`kubectl -n <namespace> get events --field-selector reason=<reason>`.",
        "",
        "| reason | type | on | when |",
        "|---|---|---|---|",
    ]
    lines += [f"| `{r.name}` | {r.type} | {r.on} | {_cell(r.when)} |" for r in REASONS]
    return "\n".join(lines) + "\n"


def _subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:  # argparse lists them nowhere else
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def cli() -> str:
    os.environ["COLUMNS"] = "100"  # argparse wraps help at the terminal's width
    parser = _parser()
    lines = [
        "# Command line",
        "",
        "`node-placeholder-scaler` (also `python -m node_placeholder_scaler`). Every "
        "failure is one line `error: ...` on stderr; see [exit codes](exit-codes.md).",
        "",
        "```text",
        parser.format_help().rstrip("\n"),
        "```",
        "",
    ]
    for name, sub in _subcommands(parser).items():
        lines += [f"## {name}", "", "```text", sub.format_help().rstrip("\n"), "```", ""]
    return "\n".join(lines)


def exit_codes() -> str:
    lines = ["# Exit codes", "", "| exit | meaning |", "|---|---|"]
    lines += [f"| {int(code)} | {_cell(EXIT_MEANINGS[code])} |" for code in Exit]
    return "\n".join(lines) + "\n"


PAGES: dict[Path, Callable[[], str]] = {
    REFERENCE / "configuration.md": configuration,
    REFERENCE / "metrics.md": metrics,
    REFERENCE / "events.md": events,
    REFERENCE / "cli.md": cli,
    REFERENCE / "exit-codes.md": exit_codes,
}


def generated() -> dict[Path, str]:
    """Every generated file and its content as the code says it."""
    pages = {path: HEADER + make() for path, make in PAGES.items()}
    pages[CHART / "README.md"] = chart_readme()
    return pages


def out_of_step() -> list[Path]:
    return [
        path for path, text in generated().items() if not path.exists() or path.read_text() != text
    ]


def main(argv: list[str]) -> int:
    stale = out_of_step()
    if "--write" in argv:
        for path in stale:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(generated()[path])
            print(f"rewrote {path.relative_to(ROOT)}")
        return 0
    for path in stale:
        print(f"{path.relative_to(ROOT)} is out of step with the code: run {COMMAND}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
