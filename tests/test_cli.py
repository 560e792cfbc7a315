"""The plan and validate commands as a user runs them (a subprocess, real files)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import FIXTURES

CONFIG = FIXTURES / "config-fixtures.yaml"
ROOT = Path(__file__).parent.parent


def cli(*args: str, config: Path | str = CONFIG) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "node_placeholder_scaler", *args, "--config", str(config)],
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )


def test_plan_json_shape():
    result = cli("plan", "--at", "2026-03-10T16:15:00Z", "--output", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"at", "pools", "events", "problems"}
    assert doc["at"] == "2026-03-10T16:15:00+00:00"
    assert doc["pools"] == {"user": 5, "gpu": 0}
    assert [e["summary"] for e in doc["events"]] == ["Data 8 midterm"]
    assert doc["events"][0]["requests"] == {"user": 5}
    assert [p["kind"] for p in doc["problems"]] == ["unknown-pool"]


def test_plan_at_without_offset_uses_config_zone():
    result = cli("plan", "--at", "2026-03-03T07:45", "--output", "json")
    assert json.loads(result.stdout)["pools"]["user"] == 4  # 07:45 Zurich = 06:45Z


def test_plan_table_and_timeline():
    table = cli("plan", "--at", "2026-03-10T16:15:00Z")
    assert "user" in table.stdout and "Data 8 midterm" in table.stdout
    timeline = cli("plan", "--from", "2026-03-24T00:00", "--to", "2026-03-25T00:00")
    assert timeline.returncode == 0
    lines = timeline.stdout.splitlines()
    assert lines[0].split()[:3] == ["TIME", "USER", "GPU"]
    assert any("Renku workshop" in line for line in lines)
    assert any("[clamped]" in line for line in lines)


def test_validate_lists_problems_and_exits_1():
    result = cli("validate")
    assert result.returncode == 1
    assert "'gpuu' is not a pool" in result.stdout
    assert "Prüfung Lineare Algebra" in result.stdout


def test_validate_clean_exits_0(tmp_path):  # type: ignore[no-untyped-def]
    conf = tmp_path / "c.yaml"
    conf.write_text(f"calendars: [{{url: {FIXTURES}/nextcloud.ics}}]\n"
                    "pools: {user: {}, gpu: {maxReplicas: 5}}\n")
    result = cli("validate", config=conf)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(("body", "needle"), [
    ("pools: {user: {}}\n", "calendars"),
    ("calendars: [{url: a.ics}]\npools: {user: {maxReplicas: many}}\n", "pools.user.maxReplicas"),
    ("calendars: [\n", "not valid YAML"),
])
def test_bad_config_exit_2_no_traceback(tmp_path, body, needle):  # type: ignore[no-untyped-def]
    conf = tmp_path / "bad.yaml"
    conf.write_text(body)
    for command in ("plan", "validate", "run"):
        result = cli(command, config=conf)
        assert result.returncode == 2
        assert needle in result.stderr and str(conf) in result.stderr
        assert "Traceback" not in result.stderr


def test_missing_config_file():
    result = cli("plan", config="/nonexistent/config.yaml")
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_bad_time_is_a_message():
    result = cli("plan", "--at", "next tuesday")
    assert result.returncode == 2 and "bad time" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_feed_gives_problem_not_traceback(tmp_path):  # type: ignore[no-untyped-def]
    feed = tmp_path / "broken.ics"
    feed.write_bytes(b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:notadate\n")
    conf = tmp_path / "c.yaml"
    conf.write_text(f"calendars: [{{url: {feed}}}]\npools: {{user: {{}}}}\n")
    result = cli("plan", "--at", "2026-03-10T16:15:00Z", "--output", "json")
    assert result.returncode == 0
    plan = cli("plan", "--at", "2026-03-10T16:15:00Z", "--output", "json", config=conf)
    doc = json.loads(plan.stdout)
    assert doc["pools"] == {"user": 0}
    assert doc["problems"][0]["kind"] == "feed-error"
    assert "Traceback" not in plan.stderr
