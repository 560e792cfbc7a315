"""The parts of the chart's values.schema.json that derive from the settings table.

``config`` (the controller's own keys, passed through to its config file), the controller's
keys of ``pools.<pool>`` and of ``calendars[]`` are generated from ``settings.TOP``,
``sections.SECTION_TABLES``, ``POOL`` and ``CALENDAR``; the chart's own keys (``resources``,
``url``, ``existingSecret``, ...) are written by hand. ``tests/test_settings.py`` fails when
the file is out of step; ``python -m testkit.chart_schema --write`` brings it in step.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path
from typing import Any

from node_placeholder_scaler.config.configkeys import Key
from node_placeholder_scaler.config.sections import SECTION_TABLES
from node_placeholder_scaler.config.settings import CALENDAR, POOL, TOP

CHART = Path(__file__).resolve().parent.parent / "helm" / "node-placeholder-scaler"
SCHEMA = CHART / "values.schema.json"


def _properties(keys: tuple[Key, ...]) -> dict[str, Any]:
    return {key.name: key.schema() for key in keys if key.chart and key.kind != "section"}


def config_schema() -> dict[str, Any]:
    """The schema of the chart's ``config`` value."""
    properties = _properties(TOP)
    for name, table in SECTION_TABLES.items():
        section = next(key for key in TOP if key.name == name)
        properties[name] = {
            "description": section.doc,
            "type": "object",
            "additionalProperties": False,
            "properties": _properties(table),
        }
    return {
        "description": "Settings of the controller's config file, passed through (docs: "
        "reference, configuration); unset keys take the controller's defaults",
        "type": "object",
        "additionalProperties": False,
        "properties": properties,
    }


def in_step(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its generated parts replaced by what the settings table says."""
    new = copy.deepcopy(schema)
    props = new["properties"]
    props["config"] = config_schema()
    props["pools"]["additionalProperties"]["properties"].update(_properties(POOL))
    props["calendars"]["items"]["properties"].update(_properties(CALENDAR))
    return new


def chart_pool_keys(schema: dict[str, Any]) -> set[str]:
    """The keys of ``pools.<pool>`` that belong to the chart, not to the controller."""
    return set(schema["properties"]["pools"]["additionalProperties"]["properties"]) - {
        key.name for key in POOL
    }


def main(argv: list[str]) -> int:
    current = json.loads(SCHEMA.read_text())
    wanted = in_step(current)
    if wanted == current:
        print(f"{SCHEMA} is in step with the settings table")
        return 0
    if "--write" in argv:
        SCHEMA.write_text(json.dumps(wanted, indent=2) + "\n")
        print(f"{SCHEMA} rewritten from the settings table")
        return 0
    print(f"{SCHEMA} is out of step: run python -m testkit.chart_schema --write")
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
