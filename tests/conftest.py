"""Shared helpers for the unit tests."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import settings as hypothesis_settings

from node_placeholder_scaler.config.settings import Settings, load_settings
from node_placeholder_scaler.feeds.book import CalendarBook, load_once
from node_placeholder_scaler.model import Plan
from node_placeholder_scaler.planning import plan
from testkit.hostile_feed import HostileFeedServer

FIXTURES = Path(__file__).parent / "fixtures"

# Hypothesis: no 200 ms deadline per example on a loaded 2-core machine (seven sessions share
# it; the fast suite's runs vary 10x). The profile's bound still fails an example that hangs
# in the parser's own checks, and the pytest-timeout of pyproject.toml bounds the whole test.
hypothesis_settings.register_profile("nps", deadline=timedelta(seconds=5))
hypothesis_settings.load_profile("nps")


UTC = ZoneInfo("UTC")


def utc(text: str) -> datetime:
    """'2026-03-02T16:45' -> an aware UTC datetime."""
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def make_settings(body: str, environ: dict[str, str] | None = None) -> Settings:
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


@pytest.fixture()
def keep_root_logger() -> Iterator[None]:
    """cli.main() configures the root logger, as a process should; give it back to pytest."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.fixture(scope="module")
def hostile() -> Iterator[HostileFeedServer]:
    """The hostile loopback feed server (testkit.hostile_feed), one per test module."""
    with HostileFeedServer(every=0.5) as server:
        yield server


@pytest.fixture()
def fixtures() -> Path:
    return FIXTURES
