"""Durations: ASCII digits only, bounded, a DurationError for anything else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from node_placeholder_scaler.durations import (
    MAX_DURATION,
    DurationError,
    format_duration,
    parse_duration,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("1h30m", timedelta(minutes=90)),
        (" 2D ", timedelta(days=2)),
        ("600", timedelta(seconds=600)),
        (600, timedelta(seconds=600)),
        ("0", timedelta(0)),
        ("1h 30m", timedelta(minutes=90)),
    ],
)
def test_durations(text: object, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize(
    "value",
    [
        "\u00b2",
        "1\u00b2m",
        "\u0663h",
        "\uff11\uff15m",
        "9" * 5000,
        "99999999999999d",
        "99999999999999999999d",
        10**30,
        -1,
        True,
        None,
        1.5,
        "",
        "1h30",
        "h",
        "1d2d",
        "x" * 100,
        str(int(MAX_DURATION.total_seconds()) + 1),
    ],
)
def test_not_durations_are_duration_errors(value: object) -> None:
    with pytest.raises(DurationError):
        parse_duration(value)


def test_the_longest_duration_round_trips() -> None:
    assert parse_duration(format_duration(MAX_DURATION)) == MAX_DURATION
