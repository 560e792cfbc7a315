"""Real calendar exports, read from the shared sets beside the checkout (not kept here).

``../shared/external-corpus/ics`` and ``../shared/external-corpus-2/ics`` (relative to the
repository root; CI lays them beside the checkout) hold real exports of many calendar
programs. For every file: no feed is rejected whole; no series is lost silently (each
series, the VEVENTs sharing a UID, has an occurrence near its DTSTART or is named by a
problem, or is cancelled, or excludes its own DTSTART); no problem carries a programming
error's text; and ``validate`` (run as the sets' ``check`` script runs it) lists only
problems that name their event or zone and say what to fix. Without the sets (a clone
outside CI) these tests are skipped, saying so.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from node_placeholder_scaler import cli
from node_placeholder_scaler.ical.calendar import Limits, parse_calendar
from node_placeholder_scaler.ical.icsplit import Block, split_feed
from node_placeholder_scaler.ical.rawevents import start_of
from node_placeholder_scaler.model import Problem

pytestmark = pytest.mark.slow  # sweeps the calendar corpus

SHARED = Path(__file__).resolve().parent.parent.parent / "shared"
SETS = ("external-corpus", "external-corpus-2")
UTC = ZoneInfo("UTC")
WIDE = Limits(max_per_series=100_000, max_occurrences=1_000_000, time_budget=60)
INTERNAL = re.compile(
    r"object has no attribute|object is not|NoneType|unsupported operand|"
    r"Traceback|KeyError|IndexError|positional argument|\bNone\b"
)
FIX = re.compile(r"\((?:remove|write|add|set|correct|check|export|use|give)\b[^()]*\)")


def _files() -> list[object]:
    params: list[object] = []
    for name in SETS:
        folder = SHARED / name / "ics"
        files = sorted(folder.glob("*.ics"))
        if not files:
            reason = f"the shared set {folder} is absent (CI lays ../shared beside the checkout)"
            params.append(
                pytest.param(None, id=f"{name}-absent", marks=pytest.mark.skip(reason=reason))
            )
        params.extend(pytest.param(path, id=f"{name}/{path.name}") for path in files)
    return params


FILES = _files()


@pytest.mark.parametrize("name", SETS)
def test_each_shared_set_is_there_or_the_skip_says_why(name: str) -> None:
    folder = SHARED / name / "ics"
    if not folder.is_dir():
        pytest.skip(f"{folder} is absent: the corpus tests are skipped (CI has ../shared)")
    assert len(list(folder.glob("*.ics"))) >= 39


def _start(block: Block) -> datetime | None:
    return start_of(block.field("DTSTART")[:8], UTC)


def _cancelled(blocks: list[Block]) -> bool:
    return all(any(line.upper() == "STATUS:CANCELLED" for line in b.lines) for b in blocks)


def _first_excluded(blocks: list[Block]) -> bool:
    """The series excludes its own DTSTART (EXDATE), so it may have no occurrence at all."""
    return all(
        any(line.upper().startswith("EXDATE") and b.field("DTSTART") in line for line in b.lines)
        for b in blocks
    )


def _named(problem: Problem) -> bool:
    """The problem names its event, or the time zone it is about."""
    return problem.event is not None or problem.message.startswith("time zone '")


@pytest.mark.parametrize("path", FILES)
def test_every_file_plans_with_no_series_lost_silently(path: Path) -> None:
    data = path.read_bytes()
    series: dict[str, list[Block]] = {}
    for block in split_feed(data, 100_000).events:
        series.setdefault(block.field("UID"), []).append(block)
    starts = [s for blocks in series.values() for s in map(_start, blocks) if s is not None]
    window = (min(starts) - timedelta(days=2), max(starts) + timedelta(days=400))
    parsed = parse_calendar(data, name="c", pools=["user"], window=window, limits=WIDE)
    occurring = {o.uid for o in parsed.occurrences(*window)}
    problems = parsed.problems()
    named = {p.event for p in problems}
    assert parsed.event_count == sum(map(len, series.values()))
    for uid, blocks in series.items():
        titles = {b.field("SUMMARY").strip() for b in blocks}
        assert (
            uid in occurring or titles & named or _cancelled(blocks) or _first_excluded(blocks)
        ), f"series {uid!r} ({titles}) has no occurrence and no problem"
    assert all(o.requests == {"user": 1} for o in parsed.occurrences(*window))
    for problem in problems:
        assert not INTERNAL.search(problem.message), problem
        assert _named(problem) and FIX.search(problem.message), problem


@pytest.mark.usefixtures("keep_root_logger")
@pytest.mark.parametrize("path", FILES)
def test_validate_lists_only_problems_that_name_the_event_and_the_fix(
    path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``validate`` as the sets' check script runs it: one calendar, one pool ``user``."""
    config = tmp_path / "c.yaml"
    config.write_text(
        f"calendars:\n  - name: c\n    url: {json.dumps(str(path))}\n"
        "pools:\n  user:\n    maxReplicas: 1000000\n"
    )
    code = cli.main(["validate", "--config", str(config)])
    out, err = capsys.readouterr()
    assert code in (0, 1), out + err
    assert "Traceback" not in out + err and "feed-error" not in out
    lines = [line.strip() for line in out.splitlines() if line.startswith("  [")]
    assert len(lines) == int(out.strip().splitlines()[-1].split()[0])
    for line in lines:
        assert line.startswith("[") and not INTERNAL.search(line), line
        where, _, message = line.partition(": ")
        assert "'" in where or message.startswith("time zone '"), line  # the event or zone
        assert FIX.search(message), line
