"""The near-miss rule as a table (the same table as the operations guide's)."""

from __future__ import annotations

import pytest

from node_placeholder_scaler.ical.descriptions import parse_description
from node_placeholder_scaler.ical.nearmiss import closest_pool, distance, near_miss

POOLS = ("user", "gpu", "highmem")

# (description line, suggestion or None for free text, problem kind or None)
TABLE = [
    ("usr: 3", "user: 3", "unknown-pool"),
    ("users: 3", "user: 3", "unknown-pool"),
    ("uesr: 3", "user: 3", "unknown-pool"),
    ("gpuu: 2", "gpu: 2", "unknown-pool"),
    ("GPUs: 2", "gpu: 2", "unknown-pool"),
    ("hihgmem: 1", "highmem: 1", "unknown-pool"),
    ("higmem: 1", "highmem: 1", "unknown-pool"),
    ("user 3", "user: 3", "near-miss"),
    ("user=3", "user: 3", "near-miss"),
    ("User = 3", "user: 3", "near-miss"),
    ("usr 3", "user: 3", "unknown-pool"),
    ("user three", "user: 3", "near-miss"),
    ("user: 3 nodes", "user: 3", "bad-value"),
    ("user: three", "user: 3", "bad-value"),
    ("user: Twelve", "user: 12", "bad-value"),
    ("users: 3 nodes please", "user: 3", "unknown-pool"),
    # free text: the word is nowhere near a pool name, or the value is no count
    ("Room: 101", None, None),
    ("Zoom: 123456789", None, None),
    ("Capacity: 120", None, None),
    ("Lecture 3: 10", None, None),
    ("Room 101", None, None),
    ("User guide: see page 3", None, None),
    ("user guide 3", None, None),
    ("us: 3", None, None),
    ("Start: 09:00", None, None),
    ("free text only", None, None),
    ("https://example.org/user/3", None, None),
]


@pytest.mark.parametrize(("line", "suggestion", "kind"), TABLE)
def test_near_miss_table(line: str, suggestion: str | None, kind: str | None) -> None:
    parsed = parse_description(line, POOLS)
    assert parsed.requests == {}
    if suggestion is None:
        assert parsed.problems == ()
        assert near_miss(line, POOLS) is None
        return
    (problem,) = parsed.problems
    assert (problem.suggestion, problem.kind) == (suggestion, kind)
    assert problem.pool == suggestion.split(":")[0]
    assert problem.line == line
    assert f"did you mean `{suggestion}`?" in problem.message


@pytest.mark.parametrize(
    ("line", "kind"),
    [
        ("user: lots", "bad-value"),
        ("user: -2", "bad-value"),
        ("user: 2.5", "bad-value"),
    ],
)
def test_bad_values_without_a_count_have_no_suggestion(line: str, kind: str) -> None:
    (problem,) = parse_description(line, POOLS).problems
    assert (problem.kind, problem.suggestion, problem.pool) == (kind, None, "user")


def test_valid_lines_beside_a_near_miss_still_apply() -> None:
    parsed = parse_description("Lab 3\nRoom: 101\nusr: 3\ngpu: 1", POOLS)
    assert parsed.requests == {"gpu": 1}
    assert [p.suggestion for p in parsed.problems] == ["user: 3"]


@pytest.mark.parametrize(
    ("word", "pools", "expected"),
    [
        ("usr", POOLS, "user"),
        ("cpu", ("gpu", "cpus"), None),  # a tie between two pools: no guess
        ("room", POOLS, None),
        ("u", POOLS, None),
        ("x" * 40, ("x" * 40,), "x" * 40),  # a pool's own name always matches
        ("y" * 40, ("x" * 40,), None),
    ],
)
def test_closest_pool(word: str, pools: tuple[str, ...], expected: str | None) -> None:
    assert closest_pool(word, pools) == expected


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("user", "user", 0),
        ("usr", "user", 1),
        ("uesr", "user", 1),
        ("room", "user", 4),
        ("highmem", "hihgmem", 1),
        ("gpu", "gpuuuuu", 4),
    ],
)
def test_distance(a: str, b: str, edits: int) -> None:
    assert distance(a, b) == edits
