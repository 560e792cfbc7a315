"""The ``report`` command's pure parts (table, --since) over the reports the controller wrote
during the recorded surge benchmark runs (tests/fixtures/timelines/ours-*.json)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from node_placeholder_scaler.cli.common import CommandError
from node_placeholder_scaler.cli.report import since, table
from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.reports.record import EventReport, from_json

TIMELINES = Path(__file__).parent / "fixtures" / "timelines"
NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)


def live(name: str) -> list[EventReport]:
    return [from_json(r) for r in json.loads((TIMELINES / name).read_text())["live_reports"]]


def test_the_table_has_one_row_per_report_with_the_advice() -> None:
    reports = live("ours-n4.json") + live("ours-n10.json")
    lines = table(reports).splitlines()
    assert lines[0].split()[:3] == ["START", "(UTC)", "POOL"]
    assert len(lines) == 3
    assert "3/42/46" in lines[1] and lines[1].rstrip().endswith("user: 10")
    assert " no " in lines[1] and " nodes " in lines[1]
    assert "0/1/2" in lines[2] and " yes " in lines[2] and " none " in lines[2]


def test_since_takes_a_duration_back_or_an_instant() -> None:
    settings = load_settings("calendars: [{url: a.ics}]\npools: {user: {}}\n", "c.yaml", {})
    assert since("7d", settings, NOW) == NOW - timedelta(days=7)
    assert since("2026-11-23T10:00Z", settings, NOW) == datetime(2026, 11, 23, 10, tzinfo=UTC)
    assert since(None, settings, NOW) is None
    with pytest.raises(CommandError, match="--since 'yesterday'"):
        since("yesterday", settings, NOW)
