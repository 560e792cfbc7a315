"""Description grammar: HTML normalisation, requests, lead and problems."""

from __future__ import annotations

from datetime import timedelta

import pytest

from node_placeholder_scaler.ical.descriptions import (
    MAX_PROBLEMS,
    MAX_TEXT,
    normalise,
    parse_description,
)

POOLS = ["user", "GPU"]

# (description, requests, lead, problem kinds)
CASES = [
    ("user: 3\ngpu: 1", {"user": 3, "gpu": 1}, None, []),
    ("Data 8 midterm — please arrive early\nuser: 3\ngpu: 1", {"user": 3, "gpu": 1}, None, []),
    ("  User :  2  ", {"user": 2}, None, []),
    ("<b>Lab</b><br>user: 2<br/>gpu:&nbsp;1", {"user": 2, "gpu": 1}, None, []),
    ("<p>user: 2</p><p>gpu: 1</p>", {"user": 2, "gpu": 1}, None, []),
    ("<div>user: 2</div><div>lead: 30m</div>", {"user": 2}, timedelta(minutes=30), []),
    ("<ul><li>user: 4</li><li>gpu: 0</li></ul>", {"user": 4, "gpu": 0}, None, []),
    ("user:\u00a05", {"user": 5}, None, []),
    ("<span style='x'>user</span>: 6", {"user": 6}, None, []),
    ("user &amp; gpu: see below<br>user: 1", {"user": 1}, None, []),
    ("user: lots", {}, None, ["bad-value"]),
    ("user: -2", {}, None, ["bad-value"]),
    ("user: 2.5", {}, None, ["bad-value"]),
    ("user: 3 nodes", {}, None, ["bad-value"]),
    ("gpuu: 2\nuser: 1", {"user": 1}, None, ["unknown-pool"]),
    ("Room: 101", {}, None, []),  # free text: the word is nowhere near a pool name
    ("usr: 3\nuser 2", {}, None, ["unknown-pool", "near-miss"]),
    ("Lecture 3: 10", {}, None, []),
    ("Start: 09:00\nhttps://example.org/course", {}, None, []),
    ("lead: 90s\nuser: 1", {"user": 1}, timedelta(seconds=90), []),
    ("lead: 1h30m", {}, timedelta(minutes=90), []),
    ("lead: 600", {}, timedelta(seconds=600), []),
    ("lead: soon\nuser: 1", {"user": 1}, None, ["bad-lead"]),
    ("lead: 3d", {}, timedelta(hours=24), ["bad-lead"]),
    ("user: 1\nuser: 2", {"user": 2}, None, ["duplicate"]),
    ("", {}, None, []),
    ("free text only", {}, None, []),
    ("user: 0", {"user": 0}, None, []),
    ("user: 007", {"user": 7}, None, []),
    # only ASCII digits are numbers (issue #9)
    ("user: \u00b2", {}, None, ["bad-value"]),
    ("user: \u0663", {}, None, ["bad-value"]),
    ("user: \uff13", {}, None, ["bad-value"]),
    ("user: " + "9" * 5000, {}, None, ["bad-value"]),
    ("user: 1000000", {}, None, ["bad-value"]),
    ("user: 999999", {"user": 999999}, None, []),
    ("lead: \u00b2", {}, None, ["bad-lead"]),
    ("lead: 1\u00b2m", {}, None, ["bad-lead"]),
    ("lead: 99999999999999999999d", {}, None, ["bad-lead"]),
    ("lead: " + "9" * 5000, {}, None, ["bad-lead"]),
    # Unicode decisions: full-width colon is a colon; zero-width characters are removed
    ("user\uff1a3", {"user": 3}, None, []),
    ("us\u200der: 2", {"user": 2}, None, []),
    ("\ufeffuser: 2\u200b", {"user": 2}, None, []),
    # HTML that hides lines, and unbalanced markup
    ("<style>user: 9</style>user: 2", {"user": 2}, None, []),
    ("<!-- user: 9 -->user: 1", {"user": 1}, None, []),
    ("<a<a<a<br>user: 1", {"user": 1}, None, []),
    ("<!-- never closed user: 9", {}, None, []),
    ("&#178;user: 2", {}, None, []),
    ("user: &#50;", {"user": 2}, None, []),
]


@pytest.mark.parametrize(("text", "requests", "lead", "kinds"), CASES)
def test_parse_description(text, requests, lead, kinds):
    parsed = parse_description(text, POOLS)
    assert dict(parsed.requests) == requests
    assert parsed.lead == lead
    assert [p.kind for p in parsed.problems] == kinds


def test_problem_message_names_the_line():
    (problem,) = parse_description("user: lots", POOLS).problems
    assert "user: lots" in problem.message


def test_normalise_turns_blocks_into_lines_and_unescapes():
    text = "<p>A &lt;b&gt;</p><div>x&nbsp;y</div>z<br>w"
    assert [line for line in normalise(text).split("\n") if line] == ["A <b>", "x y", "z", "w"]


def test_description_over_the_cap_is_read_truncated_and_reported():
    text = "user: 2\n" + "x" * MAX_TEXT + "\ngpu: 1"
    parsed = parse_description(text, POOLS)
    assert dict(parsed.requests) == {"user": 2}
    assert [p.kind for p in parsed.problems] == ["bad-text"]


def test_many_problem_lines_are_capped():
    parsed = parse_description("\n".join(f"usr: {i}" for i in range(50)), POOLS)
    assert len(parsed.problems) == MAX_PROBLEMS
    assert "41 more" in parsed.problems[-1].message


def test_problem_quotes_a_long_line_shortened():
    (problem,) = parse_description("user: " + "x" * 500, POOLS).problems
    assert len(problem.message) < 200


def test_plain_text_with_angle_brackets_is_kept():
    assert normalise("a < b > c") == "a < b > c"
