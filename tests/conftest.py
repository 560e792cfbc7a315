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

# The `slow` marker, in one place: modules that wait on real deadlines (hostile loopback
# servers, the refresher's worker processes), sweep the corpus, fuzz, or run benchmarks and
# lint-imports as subprocesses. A bare `pytest` deselects them (pyproject.toml); `scripts/test`
# (the developers' and CI's command) runs them.
SLOW_MODULES = frozenset({
    "test_bench_goals", "test_bench_smoke", "test_calendar_corpus", "test_calendar_hostile",
    "test_feeds_bench_smoke",
    "test_feeds_fuzz", "test_feeds_hostile", "test_feeds_refresher", "test_fuzz_calendar",
    "test_docs_site", "test_hung_test_fails", "test_layers", "test_package", "test_properties",
    "test_resilience_slow",
    "test_surge_buffer", "test_surge_results", "test_surge_smoke",
})
SLOW_TESTS = frozenset({
    "test_console_script_starts", "test_timeout",
    # import JupyterHub and KubeSpawner (seconds on a loaded machine)
    "test_kubespawner_builds_z2jhs_user_pod",
    "test_without_the_user_scheduler_and_pod_priority_the_pod_names_neither",
})


# Hypothesis: no 200 ms deadline per example on a loaded 2-core machine (seven sessions share
# it; the fast suite's runs vary 10x). The profile's bound still fails an example that hangs
# in the parser's own checks, and the pytest-timeout of pyproject.toml bounds the whole test.
hypothesis_settings.register_profile("nps", deadline=timedelta(seconds=5))
hypothesis_settings.load_profile("nps")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.stem in SLOW_MODULES or item.name in SLOW_TESTS:
            item.add_marker(pytest.mark.slow)
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
