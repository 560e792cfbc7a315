"""Event text -> pool requests, an optional lead, and problems.

Grammar (one request per line, after HTML normalisation):
    POOL: N          N a whole number >= 0 in ASCII digits, POOL a configured pool
                     (case-insensitive): N warm nodes
    POOL: N students a class of N people (seating/rule.py turns it into warm nodes)
    lead: DURATION   overrides the lead time of this event (90s, 15m, 1h30m, seconds)
    arrival: DURATION
                     how long this event's classes take to arrive (overrides the pool's
                     arrivalSpread for its class-sized requests)
Any other line is free text, except a line that is almost a request (ical/nearmiss.py: a
misspelt pool name, a pool name and a count in another shape), which is a problem with a
suggestion ("did you mean `user: 3`?").

Bounded work: a description is read up to MAX_TEXT characters (the rest is a problem) and
every step is a single pass (no backtracking regular expression, no HTMLParser).
Unicode: zero-width characters are removed, the full-width colon counts as a colon, and only
the ASCII digits 0-9 are numbers (superscripts, Arabic-Indic or full-width digits are
reported, never read).
"""

from __future__ import annotations

import html
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from ..durations import DurationError, format_duration, parse_duration
from ..model import Problem, ProblemKind
from .nearmiss import class_size, near_miss

MAX_EVENT_LEAD = timedelta(hours=24)
MAX_ARRIVAL = timedelta(hours=24)
MAX_TEXT = 100_000  # characters of a description that are read
MAX_COUNT_DIGITS = 6  # a pool request is at most 999999 nodes
MAX_PROBLEMS = 10  # problems kept per description (then one "and N more")
_SHOWN = 80  # characters of a line quoted in a problem
_BREAK_TAGS = frozenset(
    {
        "br",
        "p",
        "div",
        "li",
        "tr",
        "ul",
        "ol",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "blockquote",
        "pre",
    }
)
_SKIPPED_TAGS = frozenset({"style", "script", "title", "head"})
# Possessive quantifiers: a tag attempt never backtracks, so "<a<a<a…" stays linear.
_TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9]*+)([^<>]*+)>")
_COUNT = re.compile(r"[0-9]+")
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES_AND_COLONS = {
    ord("\u00a0"): " ",
    ord("\u202f"): " ",
    ord("\uff1a"): ":",
    ord("\ufe55"): ":",
}


@dataclass(frozen=True)
class ParsedDescription:
    requests: Mapping[str, int] = field(default_factory=dict)
    lead: timedelta | None = None
    problems: tuple[Problem, ...] = ()
    seats: Mapping[str, int] = field(default_factory=dict)  # class sizes per pool
    arrival: timedelta | None = None  # the classes' arrival spread (arrival: line)


def strip_tags(text: str) -> str:
    """Text of an HTML fragment, block tags as line breaks; one pass over the input."""
    lower = text.lower()
    out: list[str] = []
    at, end = 0, len(text)
    while at < end:
        lt = text.find("<", at)
        if lt < 0:
            out.append(text[at:])
            break
        out.append(text[at:lt])
        if text.startswith("<!--", lt):
            close = text.find("-->", lt + 4)
            at = end if close < 0 else close + 3
            continue
        tag = _TAG.match(text, lt)
        if tag is None or (tag.group(3) and tag.group(3)[0] not in " \t\r\n/"):
            out.append("<")
            at = lt + 1
            continue
        name, at = tag.group(2).lower(), tag.end()
        if name in _SKIPPED_TAGS and not tag.group(1):
            close = lower.find(f"</{name}", at)
            at = end if close < 0 else close
        elif name in _BREAK_TAGS:
            out.append("\n")
    return "".join(out)


def normalise(text: str) -> str:
    """HTML or plain text -> plain text lines (entities unescaped, nbsp as space)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "<" in text:
        text = strip_tags(text)
    if "&" in text:
        text = html.unescape(text)
    text = text.translate(_INVISIBLE).translate(_SPACES_AND_COLONS)
    return "\n".join(line.strip() for line in text.split("\n"))


def parse_description(text: str, pools: Collection[str]) -> ParsedDescription:
    """Parse a (normalised or raw) description against the configured pool names."""
    known = {pool.lower() for pool in pools}
    requests: dict[str, int] = {}
    seats: dict[str, int] = {}
    lead: timedelta | None = None
    arrival: timedelta | None = None
    problems: list[Problem] = []
    if len(text) > MAX_TEXT:
        problems.append(
            Problem(
                ProblemKind.BAD_TEXT,
                (f"the description has {len(text)} characters; only the first {MAX_TEXT} are read"),
            )
        )
        text = text[:MAX_TEXT]
    for line in normalise(text).split("\n"):
        label, colon, value = line.partition(":")
        label, value = label.strip(), value.strip()
        name = label.lower()
        if colon and name == "lead":
            parsed = _parse_lead(line, value, problems)
            lead = lead if parsed is None else parsed
        elif colon and name == "arrival":
            parsed = _parse_arrival(line, value, problems)
            arrival = arrival if parsed is None else parsed
        elif colon and name in known:
            size = class_size(value)
            exact = size is not None and size[1]
            _add_request(
                seats if exact else requests,
                name,
                line,
                value.split()[0] if exact else value,
                problems,
            )
        elif line:
            _near_miss(line, known, problems)
    return ParsedDescription(
        requests=requests, lead=lead, problems=_capped(problems), seats=seats, arrival=arrival
    )


def _near_miss(line: str, known: Collection[str], problems: list[Problem]) -> bool:
    """A line that is almost a request (ical/nearmiss.py) is a problem with a suggestion."""
    miss = near_miss(line, known)
    if miss is not None:
        problems.append(
            Problem(
                miss.kind,
                f"{_quote(line)}: {miss.why}; did you mean `{miss.suggestion}`?",
                pool=miss.pool,
                line=_shown(line),
                suggestion=miss.suggestion,
            )
        )
    return miss is not None


def _shown(line: str) -> str:
    return line if len(line) <= _SHOWN else line[:_SHOWN] + "…"


def _quote(line: str) -> str:
    return repr(_shown(line))


def _capped(problems: list[Problem]) -> tuple[Problem, ...]:
    if len(problems) <= MAX_PROBLEMS:
        return tuple(problems)
    more = len(problems) - MAX_PROBLEMS + 1
    kept = problems[: MAX_PROBLEMS - 1]
    return (*kept, Problem(problems[-1].kind, f"and {more} more problem lines like these"))


def _add_request(
    requests: dict[str, int], name: str, line: str, value: str, problems: list[Problem]
) -> None:
    shown = _shown(line)
    if not _COUNT.fullmatch(value):
        if not _near_miss(line, (name,), problems):
            problems.append(
                Problem(
                    ProblemKind.BAD_VALUE,
                    (
                        f"{_quote(line)}: the number of nodes must be a whole number >= 0 "
                        "written with the digits 0-9"
                    ),
                    pool=name,
                    line=shown,
                )
            )
        return
    digits = value.lstrip("0") or "0"
    if len(digits) > MAX_COUNT_DIGITS:
        problems.append(
            Problem(
                ProblemKind.BAD_VALUE,
                (f"{_quote(line)}: at most {'9' * MAX_COUNT_DIGITS} nodes can be requested"),
                pool=name,
                line=shown,
            )
        )
        return
    if name in requests:
        problems.append(
            Problem(
                ProblemKind.DUPLICATE,
                (f"{_quote(line)}: pool {name!r} is named twice; the last line counts"),
                pool=name,
                line=shown,
            )
        )
    requests[name] = int(digits)


def _parse_lead(line: str, value: str, problems: list[Problem]) -> timedelta | None:
    return _bounded_duration(
        line, value, problems, ("lead", "a lead"), most=MAX_EVENT_LEAD, kind=ProblemKind.BAD_LEAD
    )


def _parse_arrival(line: str, value: str, problems: list[Problem]) -> timedelta | None:
    """An arrival spread: a duration over zero, at most MAX_ARRIVAL."""
    arrival = _bounded_duration(
        line,
        value,
        problems,
        ("arrival", "an arrival"),
        most=MAX_ARRIVAL,
        kind=ProblemKind.BAD_ARRIVAL,
    )
    if arrival is not None and arrival <= timedelta(0):
        problems.append(
            Problem(
                ProblemKind.BAD_ARRIVAL,
                f"{_quote(line)}: an arrival spread must be longer than zero",
                line=_shown(line),
                suggestion="arrival: 1m",
            )
        )
        return None
    return arrival


def _bounded_duration(
    line: str,
    value: str,
    problems: list[Problem],
    label: tuple[str, str],
    *,
    most: timedelta,
    kind: ProblemKind,
) -> timedelta | None:
    """A ``label: DURATION`` line's duration, at most ``most`` (a problem, and ``most``, over
    it); None and a problem for no duration. ``label``: the line's label and how the problem
    names it ("lead", "a lead")."""
    key, named = label
    try:
        duration = parse_duration(value)
    except DurationError as error:
        problems.append(Problem(kind, f"{_quote(line)}: {error}", line=_shown(line)))
        return None
    if duration > most:
        problems.append(
            Problem(
                kind,
                f"{_quote(line)}: {named} is at most {format_duration(most)}; using that",
                line=_shown(line),
                suggestion=f"{key}: {format_duration(most)}",
            )
        )
        return most
    return duration
