"""Event text -> pool requests, an optional lead, and problems.

Grammar (one request per line, after HTML normalisation):
    POOL: N          N a non-negative integer, POOL a configured pool (case-insensitive)
    lead: DURATION   overrides the lead time of this event (90s, 15m, 1h30m, seconds)
Any other line is free text, except ``WORD: INTEGER`` with an unknown WORD, which is
reported as a probable typo of a pool name.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser

from .durations import DurationError, format_duration, parse_duration
from .model import Problem

MAX_EVENT_LEAD = timedelta(hours=24)
_BREAK_TAGS = frozenset({"br", "p", "div", "li", "tr", "ul", "ol", "h1", "h2", "h3", "h4", "h5",
                         "h6", "table", "blockquote", "pre"})
_LINE = re.compile(r"^\s*([^:\n]+?)\s*:\s*(.*?)\s*$")
_WORD = re.compile(r"[A-Za-z][A-Za-z0-9_.-]*")
_INTEGER = re.compile(r"[+-]?\d+")
_COUNT = re.compile(r"\d+")
_TAG_HINT = re.compile(r"</?[A-Za-z][^>]*>|&[A-Za-z#][A-Za-z0-9]*;")


@dataclass(frozen=True)
class ParsedDescription:
    requests: Mapping[str, int] = field(default_factory=dict)
    lead: timedelta | None = None
    problems: tuple[Problem, ...] = ()


class _TextExtractor(HTMLParser):
    """Collects the text of an HTML fragment, turning block tags into line breaks."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _BREAK_TAGS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in _BREAK_TAGS:
            self.parts.append("\n")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def normalise(text: str) -> str:
    """HTML or plain text -> plain text lines (entities unescaped, nbsp as space)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if _TAG_HINT.search(text):
        extractor = _TextExtractor()
        extractor.feed(text)
        extractor.close()
        text = "".join(extractor.parts)
    text = text.replace("\u00a0", " ").replace("\u202f", " ").replace("\u200b", "")
    return "\n".join(line.strip() for line in text.split("\n"))


def parse_description(text: str, pools: Collection[str]) -> ParsedDescription:
    """Parse a (normalised or raw) description against the configured pool names."""
    known = {pool.lower() for pool in pools}
    requests: dict[str, int] = {}
    lead: timedelta | None = None
    problems: list[Problem] = []
    for line in normalise(text).split("\n"):
        match = _LINE.match(line)
        if match is None:
            continue
        name, value = match.group(1).lower(), match.group(2)
        if name == "lead":
            parsed = _parse_lead(line, value, problems)
            lead = lead if parsed is None else parsed
        elif name in known:
            _add_request(requests, name, line, value, problems)
        elif _WORD.fullmatch(name) and _INTEGER.fullmatch(value):
            pool_list = ", ".join(sorted(known)) or "none"
            problems.append(Problem(
                "unknown-pool", f"{line!r}: {match.group(1)!r} is not a pool (pools: {pool_list})"
            ))
    return ParsedDescription(requests=requests, lead=lead, problems=tuple(problems))


def _add_request(
    requests: dict[str, int], name: str, line: str, value: str, problems: list[Problem]
) -> None:
    if not _COUNT.fullmatch(value):
        problems.append(Problem(
            "bad-value", f"{line!r}: the number of nodes must be a whole number >= 0"
        ))
        return
    if name in requests:
        problems.append(Problem(
            "duplicate", f"{line!r}: pool {name!r} is named twice; the last line counts"
        ))
    requests[name] = int(value)


def _parse_lead(line: str, value: str, problems: list[Problem]) -> timedelta | None:
    try:
        lead = parse_duration(value)
    except DurationError as error:
        problems.append(Problem("bad-lead", f"{line!r}: {error}"))
        return None
    if lead > MAX_EVENT_LEAD:
        problems.append(Problem(
            "bad-lead", f"{line!r}: a lead is at most {format_duration(MAX_EVENT_LEAD)}; using that"
        ))
        return MAX_EVENT_LEAD
    return lead
