"""The chart's README.md (what `helm show readme` prints), helm-docs style, by our own generator.

The values table comes from the ``# --`` comments of values.yaml (a comment starting with
``# --`` documents the key on the next line; the ``#`` lines right after it continue it) with
each key's default from the file; the tables of ``config`` and ``pools.<pool>`` come from
values.schema.json (which testkit.chart_schema derives from the settings tables). Written by
``python -m testkit.docs_reference --write``; tests/test_docs_reference.py keeps it in step.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from .chart_schema import CHART

KEY_LINE = re.compile(r"^(\s*)([A-Za-z0-9_.-]+):")
INTRO = """\
Pre-warm Kubernetes node pools from a course calendar. The controller reads iCal feeds (Google,
Outlook/Microsoft 365, Nextcloud, Apple, any iCal file) and, ahead of each event, scales
node-sized, low-priority placeholder pods per node pool (or an upstream CapacityBuffer), so the
cluster autoscaler has the nodes up before the students log in.

An event's description names the warm nodes it wants per pool, one line each:

    Data 8 midterm
    user: 3
    lead: 30m

## Install

```bash
helm install nps oci://REGISTRY/charts/node-placeholder-scaler --version {version} \\
  -n node-placeholder --create-namespace -f my-values.yaml
```

The minimum to set: `calendars` (at least one feed; its address is kept in a Secret) and `pools`
(each with its `nodeSelector` and the placeholder `resources` that `node-placeholder-scaler
size --pool NAME` prints). For example:

```yaml
calendars:
  - name: courses
    url: https://calendar.google.com/calendar/ical/.../private-.../basic.ics
pools:
  user:
    nodeSelector: {{hub.jupyter.org/node-purpose: user}}
    resources: {{requests: {{cpu: 3500m, memory: 13Gi}}}}
config:
  leadTime: 15m
```

Every key is checked by values.schema.json: an unknown key (a typo) fails the install naming it.
The project's documentation (docs/ in the source repository) covers the JupyterHub integration,
operations, alerts and troubleshooting.
"""


def documented(text: str) -> list[tuple[str, str]]:
    """(dotted key, description) of every key under a ``# --`` comment, in file order."""
    found: list[tuple[str, str]] = []
    stack: list[tuple[int, str]] = []
    doc: list[str] | None = None
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("# --"):
            doc = [stripped.removeprefix("# --").strip()]
            continue
        if doc is not None and stripped.startswith("#"):
            doc.append(stripped.removeprefix("#").strip())
            continue
        match = KEY_LINE.match(line)
        if not match:
            if stripped and not stripped.startswith(("#", "-")):
                doc = None
            continue
        indent = len(match.group(1))
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, match.group(2)))
        if doc is not None:
            found.append((".".join(key for _, key in stack), " ".join(" ".join(doc).split())))
            doc = None
    return found


def _at(values: dict[str, Any], dotted: str) -> Any:
    node: Any = values
    for part in dotted.split("."):
        node = node[part]
    return node


def _type(value: Any) -> str:
    for kind, name in (
        (bool, "bool"),
        (int, "int"),
        (float, "float"),
        (str, "string"),
        (list, "list"),
        (dict, "object"),
    ):
        if isinstance(value, kind):
            return name
    return "null"


def html_safe(text: str) -> str:
    """``<`` and ``>`` outside code spans as entities, so ``<pool>`` shows (Markdown would
    take it for an HTML tag); code spans are left as they are."""
    parts = text.split("`")
    return "`".join(
        part if index % 2 else part.replace("<", "&lt;").replace(">", "&gt;")
        for index, part in enumerate(parts)
    )


def _code(text: str) -> str:
    """Text for a code span in a table cell: only pipes escaped."""
    return text.replace("|", "\\|")


def _cell(text: str) -> str:
    """Text for a table cell: pipes escaped, and <name> shown, not taken for HTML."""
    return html_safe(text.replace("|", "\\|"))


def _schema_table(properties: dict[str, Any]) -> list[str]:
    rows = ["| key | default | description |", "|---|---|---|"]
    for name, body in properties.items():
        default = f"`{json.dumps(body['default'])}`" if "default" in body else ""
        rows.append(f"| `{name}` | {default} | {_cell(body.get('description', ''))} |")
    return rows


def chart_readme(chart: Path = CHART) -> str:
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    text = (chart / "values.yaml").read_text()
    values = yaml.safe_load(text)
    schema = json.loads((chart / "values.schema.json").read_text())
    lines = [
        f"# {meta['name']}",
        "",
        "<!-- Generated by `python -m testkit.docs_reference --write` from Chart.yaml, the `# --` "
        "comments of values.yaml and values.schema.json: do not edit by hand. -->",
        "",
        f"Version: {meta['version']} · AppVersion: {meta['appVersion']}",
        "",
        meta["description"].strip(),
        "",
        INTRO.format(version=meta["version"]).rstrip("\n"),
        "",
        "## Requirements",
        "",
        f"Kubernetes: `{meta.get('kubeVersion', '')}`",
        "",
        "## Values",
        "",
        "| key | type | default | description |",
        "|---|---|---|---|",
    ]
    for key, doc in documented(text):
        value = _at(values, key)
        shown = json.dumps(value)
        lines.append(f"| `{key}` | {_type(value)} | `{_code(shown)}` | {_cell(doc)} |")
    props = schema["properties"]
    lines += [
        "",
        "## `config`: the controller's settings",
        "",
        "Passed through to the controller's config file; unset keys take the controller's "
        "defaults (shown here). `headroom`, `reports` and `leaderElection` are sections "
        "with keys of their own.",
        "",
    ]
    lines += _schema_table(props["config"]["properties"])
    lines += ["", "## `pools.<pool>`", ""]
    lines += _schema_table(props["pools"]["additionalProperties"]["properties"])
    lines += ["", "## `calendars[]`", ""]
    lines += _schema_table(props["calendars"]["items"]["properties"])
    return "\n".join(lines) + "\n"
