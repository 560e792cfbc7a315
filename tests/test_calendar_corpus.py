"""The external corpus (tests/fixtures/corpus, sources in its SOURCES.md): 40 real exports.

Every file parses with no feed rejected whole, and no series is lost silently: each series
(VEVENTs sharing a UID) either has an occurrence in a window around its DTSTART or is named
by a reported problem (or is cancelled).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from node_placeholder_scaler.calendar import Limits, parse_calendar
from node_placeholder_scaler.icsplit import Block, split_feed

CORPUS = Path(__file__).parent / "fixtures" / "corpus"
FILES = sorted(CORPUS.glob("*.ics"))
UTC = ZoneInfo("UTC")
WIDE = Limits(max_per_series=100_000, max_occurrences=1_000_000, time_budget=60)


def _start(block: Block) -> datetime:
    text = block.field("DTSTART")[:8]
    return datetime(int(text[:4]), int(text[4:6]), int(text[6:8]), tzinfo=UTC)


def _cancelled(blocks: list[Block]) -> bool:
    return all(any(line.upper() == "STATUS:CANCELLED" for line in b.lines) for b in blocks)


def _first_excluded(blocks: list[Block]) -> bool:
    """The series excludes its own DTSTART (EXDATE), so it may have no occurrence at all."""
    return all(any(line.upper().startswith("EXDATE") and b.field("DTSTART") in line
                   for line in b.lines) for b in blocks)


def test_the_corpus_is_there() -> None:
    assert len(FILES) == 40
    assert (CORPUS / "SOURCES.md").exists()


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_no_feed_rejected_and_no_series_lost_silently(path: Path) -> None:
    data = path.read_bytes()
    series: dict[str, list[Block]] = {}
    for block in split_feed(data, 100_000).events:
        series.setdefault(block.field("UID"), []).append(block)
    starts = [_start(b) for blocks in series.values() for b in blocks]
    window = (min(starts) - timedelta(days=2), max(starts) + timedelta(days=400))
    parsed = parse_calendar(data, name="c", pools=["user"], window=window, limits=WIDE)
    occurring = {o.uid for o in parsed.occurrences(*window)}
    named = {p.event for p in parsed.problems()}
    assert parsed.event_count == sum(map(len, series.values()))
    for uid, blocks in series.items():
        titles = {b.field("SUMMARY") for b in blocks}
        assert uid in occurring or titles & named or _cancelled(blocks) or _first_excluded(
            blocks), (
            f"series {uid!r} ({titles}) has no occurrence and no problem")
    assert all(o.requests == {"user": 1} for o in parsed.occurrences(*window))
