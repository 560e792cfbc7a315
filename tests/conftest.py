"""Fixtures of the unit tests (their helpers are in testkit.unit and testkit.fakes)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from hypothesis import settings as hypothesis_settings

from testkit.hostile_feed import HostileFeedServer
from testkit.unit import FIXTURES

# Hypothesis: no 200 ms deadline per example on a loaded 2-core machine (seven sessions share
# it; the fast suite's runs vary 10x). The profile's bound still fails an example that hangs
# in the parser's own checks, and the pytest-timeout of pyproject.toml bounds the whole test.
hypothesis_settings.register_profile("nps", deadline=timedelta(seconds=5))
hypothesis_settings.load_profile("nps")


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
