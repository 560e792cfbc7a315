"""Helpers of the unit tests: the fixture files, settings from a YAML text, a calendar book
loaded once, aware UTC times."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from node_placeholder_scaler.config.settings import Settings, load_settings
from node_placeholder_scaler.feeds.book import CalendarBook, load_once
from node_placeholder_scaler.model import Plan
from node_placeholder_scaler.planning import plan

FIXTURES = Path(__file__).resolve().parents[1] / "tests" / "fixtures"
UTC = ZoneInfo("UTC")
# One pool (user, nodes labelled pool=user), one calendar, rounds every second: the loop's tests
LOOP_SETTINGS = load_settings(
    "interval: 1s\ncalendars: [{name: c, url: /dev/null}]\n"
    "pools: {user: {nodeSelector: {pool: user}}}\n",
    "config.yaml",
    {},
)


def utc(text: str) -> datetime:
    """'2026-03-02T16:45' -> an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_settings(body: str, environ: dict[str, str] | None = None) -> Settings:
    """Settings from a config text; ``FIXTURES`` in it stands for tests/fixtures."""
    return load_settings(body.replace("FIXTURES", str(FIXTURES)), "test.yaml", environ or {})


class FixedBook:
    """A CalendarBook fetched once at ``fetched``; plans judge staleness at that time."""

    def __init__(self, book: CalendarBook, fetched: datetime) -> None:
        self.book, self.fetched = book, fetched

    def plan(self, at: datetime) -> Plan:
        return plan(self.book.views(self.fetched), self.book.settings, at)


def book_for(body: str, fetched: datetime) -> FixedBook:
    """Every feed loaded once at ``fetched`` (bounded worker), expanded a year either side."""
    year = timedelta(days=366)
    book = load_once(make_settings(body), fetched, (fetched - year, fetched + year))
    return FixedBook(book, fetched)
