"""``validate`` judges what is coming: the near misses of the next days, not a past typo or
free text; exit 0 once they are fixed; ``--from/--to``, ``--all``, ``--output json``; and the
same window in ``plan``'s problem list."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from node_placeholder_scaler import cli
from testkit import calendar_problems

pytestmark = pytest.mark.usefixtures("keep_root_logger")


def _config(tmp_path: Path, *, fixed: bool = False) -> Path:
    feed = tmp_path / "course.ics"
    feed.write_bytes(calendar_problems.feed(datetime.now(UTC), fixed=fixed))
    config = tmp_path / "config.yaml"
    config.write_text(
        f"calendars: [{{name: course, url: {feed}}}]\n"
        "pools: {user: {maxReplicas: 10}, gpu: {}}\n"
    )
    return config


def _run(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, str]:
    code = cli.main(["validate", *args, "--config", str(config)])
    return code, capsys.readouterr().out


def test_validate_reports_exactly_the_upcoming_near_misses(tmp_path, capsys) -> None:
    code, out = _run(capsys, _config(tmp_path))
    assert code == 1
    lines = [line for line in out.splitlines() if line.startswith("  [")]
    assert len(lines) == len(calendar_problems.NEAR_MISSES), out
    for line, typo in zip(lines, calendar_problems.NEAR_MISSES, strict=True):
        assert repr(typo) in line and "did you mean `user: 3`?" in line, line
    assert "Old exam" not in out  # last month's typo is outside the window
    for free in calendar_problems.FREE_TEXT:
        assert free not in out
    assert out.splitlines()[-1] == "6 problem(s) in 1 calendar(s), 2 pool(s)"


def test_validate_exits_0_once_they_are_fixed(tmp_path, capsys) -> None:
    code, out = _run(capsys, _config(tmp_path, fixed=True))
    assert (code, out.splitlines()[-1]) == (0, "0 problem(s) in 1 calendar(s), 2 pool(s)")


def test_validate_all_includes_the_past(tmp_path, capsys) -> None:
    code, out = _run(capsys, _config(tmp_path, fixed=True), "--all")
    assert code == 1
    assert "Old exam" in out and "did you mean `user: 4`?" in out


def test_validate_json_for_scripts(tmp_path, capsys) -> None:
    code, out = _run(capsys, _config(tmp_path), "--output", "json")
    doc = json.loads(out)
    assert code == 1
    assert doc["calendars"] == [{"name": "course", "result": "ok", "events": 8}]
    assert [p["suggestion"] for p in doc["problems"]] == ["user: 3"] * 6
    assert [p["event"] for p in doc["problems"]] == [f"Lab {i}" for i in range(1, 7)]
    assert {p["pool"] for p in doc["problems"]} == {"user"}
    start, end = (datetime.fromisoformat(doc["window"][k]) for k in ("from", "to"))
    assert end - start == timedelta(days=14, hours=1)


def test_validate_from_to_chooses_the_window(tmp_path, capsys) -> None:
    now = datetime.now(UTC)
    config = _config(tmp_path)
    start = (now + timedelta(days=3, hours=12)).isoformat()
    code, out = _run(
        capsys,
        config,
        "--from",
        start,
        "--to",
        (now + timedelta(days=5, hours=12)).isoformat(),
        "--output",
        "json",
    )
    assert code == 1
    assert [p["event"] for p in json.loads(out)["problems"]] == ["Lab 3", "Lab 4"]
    past = (now - timedelta(days=31)).isoformat()
    code, out = _run(capsys, config, "--from", past, "--to", (now - timedelta(days=29)).isoformat())
    assert code == 1 and "Old exam" in out and "Lab 1" not in out
    code, out = _run(capsys, config, "--from", "2020-01-01", "--to", "2020-01-02")
    assert code == 0


def test_validate_bad_window_is_a_usage_error(tmp_path, capsys) -> None:
    config = _config(tmp_path)
    assert cli.main(["validate", "--from", "tomorrow", "--config", str(config)]) == 2
    assert (
        cli.main(
            ["validate", "--from", "2026-01-02", "--to", "2026-01-01", "--config", str(config)]
        )
        == 2
    )
    assert cli.main(["validate", "--cluster", "--output", "json", "--config", str(config)]) == 2
    assert "--to must be after --from" in capsys.readouterr().err


def test_plan_lists_the_problems_of_the_same_window(tmp_path, capsys) -> None:
    config = _config(tmp_path)
    assert cli.main(["plan", "--output", "json", "--config", str(config)]) == 0
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [p["suggestion"] for p in problems] == ["user: 3"] * 6


def test_a_feed_error_fails_validate_whatever_the_window(tmp_path, capsys) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(
        f"calendars: [{{name: gone, url: {tmp_path / 'missing.ics'}}}]\npools: {{user: {{}}}}\n"
    )
    for flags in ((), ("--from", "2020-01-01", "--to", "2020-01-02"), ("--all",)):
        code, out = _run(capsys, config, *flags)
        assert code == 1 and "[feed-error] gone" in out, out
