"""Component text mended before parsing, the way calendar programs read it; each mend noted.

A zone's problems are held until an event uses the zone, and reported as that event's: the
problem names the event whose times it affects (a zone no event uses is named alone).

What Outlook, Thunderbird or Apple Calendar read without complaint and the strict parser
does not is mended in the text, and reported once per feed (the problem names the first
event or zone where it was seen):

- spaces after a DTSTART, DTEND, DURATION, RRULE, EXDATE, RDATE or RECURRENCE-ID value are
  dropped (``BYDAY=1MO `` is ``BYDAY=1MO``);
- a TZID with spaces around it names the VTIMEZONE whose TZID is the same without them;
- a TZID no zone can have (too long, control characters) is dropped: floating times;
- a TZID that is a Windows display name (Outlook on the web) and names no VTIMEZONE of
  the feed is replaced by the IANA zone it names (``windowszones``);
- in a VTIMEZONE, an observance whose RRULE is unusable keeps its own offset from its
  DTSTART on (the rule line is dropped), instead of the whole zone being lost;
- a VTIMEZONE with several TZID lines (two zones run together) is ignored, named.
"""

from __future__ import annotations

import re
import warnings
from dataclasses import dataclass

from icalendar.timezone import tzp

from ..model import ProblemKind
from ..urls import printable
from .icsplit import Block, value_start
from .rules import screen_zone_rule
from .windowszones import zone_for_display_name

_TIMED = {
    "DTSTART": ProblemKind.BAD_TIME,
    "DTEND": ProblemKind.BAD_TIME,
    "DURATION": ProblemKind.BAD_TIME,
    "RECURRENCE-ID": ProblemKind.BAD_TIME,
    "RRULE": ProblemKind.BAD_RULE,
    "EXDATE": ProblemKind.BAD_RULE,
    "RDATE": ProblemKind.BAD_RULE,
}
_TZID = re.compile(r';TZID=("[^"]*"|[^;:\r\n]*)', re.IGNORECASE)
_TRAILING = re.compile(r"[ \t](?:\r\n|$)")
_OBSERVANCES = ("STANDARD", "DAYLIGHT")
MAX_TZID = 255  # characters: a longer name is no zone (and no zone file name)


@dataclass(frozen=True)
class Note:
    """One mend, to be reported as a problem of the event it was first seen in."""

    kind: ProblemKind
    message: str


def zone_tzid(block: Block) -> list[str]:
    """The TZID values of a VTIMEZONE block (its own lines, not its observances')."""
    found, depth = [], 0
    for line in block.lines[1:]:
        head = line[:6].upper()
        depth += (head == "BEGIN:") - (head[:4] == "END:")
        if depth == 0 and line[:5].upper() in ("TZID:", "TZID;"):
            found.append(line[value_start(line) :])
    return found


class Mender:
    """Mends the blocks of one feed; each kind of mend is noted once per feed."""

    def __init__(self, zones: list[Block]) -> None:
        self.zone_ids = {tzid.strip() for block in zones for tzid in zone_tzid(block)}
        self._said: set[str] = set()
        self._mapped: dict[str, str | None] = {}
        self._held: dict[str, list[str]] = {}

    def hold(self, problems: list[tuple[str, str]]) -> None:
        """Zone problems (TZID, text), reported with the first event that uses the zone."""
        for tzid, text in problems:
            self._held.setdefault(tzid.strip(), []).append(text)

    def unclaimed(self) -> list[str]:
        """The zone problems that no event used (reported for the calendar)."""
        texts = [text for held in self._held.values() for text in held]
        self._held.clear()
        return texts

    def _once(self, key: str) -> bool:
        fresh = key not in self._said
        self._said.add(key)
        return fresh

    def zone(self, block: Block) -> tuple[str | None, list[str]]:
        """The zone's mended text (None: ignore it) and problem texts naming it."""
        ids = zone_tzid(block)
        name = (ids[0].strip() if ids else "?")[:100]
        if len(ids) > 1:
            shown = ", ".join(repr(i.strip()[:60]) for i in ids[:4])
            return None, [
                f"time zone {name!r} is ignored: its VTIMEZONE has {len(ids)} TZID "
                f"lines ({shown}) (write one VTIMEZONE per zone)"
            ]
        problems = []
        if ids and ids[0] != ids[0].strip():
            problems.append(
                f"time zone {ids[0][:100]!r} has spaces around its TZID; read as "
                f"{name!r} (remove the spaces)"
            )
        lines: list[str] = []
        observance: list[str] = []
        for line in block.lines:
            head = line[:6].upper()
            if head == "BEGIN:" and line[6:].strip().upper() in _OBSERVANCES:
                observance = [line]
            elif observance:
                observance.append(line)
                if line[:4].upper() == "END:":
                    lines.extend(self._observance(observance, name, problems))
                    observance = []
            elif line[:5].upper() in ("TZID:", "TZID;"):
                lines.append(f"TZID:{name}")
            else:
                lines.append(line)
        lines.extend(observance)
        return block.text(lines), problems

    @staticmethod
    def _observance(lines: list[str], zone: str, problems: list[str]) -> list[str]:
        kept = []
        offset = next(
            (
                line[value_start(line) :].strip()
                for line in lines
                if line[:11].upper() == "TZOFFSETTO:"
            ),
            "?",
        )
        for line in lines:
            if line[:6].upper() != "RRULE:":
                kept.append(line)
                continue
            rule = line[6:].strip()
            refused = screen_zone_rule(rule)
            if refused is None:
                kept.append(f"RRULE:{rule}")
                continue
            kind = lines[0][6:].strip().upper()
            problems.append(
                f"time zone {zone!r}: the {kind} rule {rule[:60]!r} is refused "
                f"({refused}); its own offset {offset[:10]} is used from its "
                "DTSTART on (write a yearly RRULE)"
            )
        return kept

    def event(self, block: Block) -> tuple[str, list[Note]]:
        """The event's mended text and the notes of what was mended."""
        tzids = set(_TZID.findall(block.raw))
        notes = [
            Note(ProblemKind.BAD_COMPONENT, text)
            for tzid in tzids
            for text in self._held.pop(tzid.strip('"').strip(), [])
        ]
        if not _TRAILING.search(block.raw) and all(map(self._fine, tzids)):
            return block.text(), notes  # the common case: nothing to mend, no line walked
        lines = [self._line(line, notes) for line in block.lines]
        return block.text(lines), notes

    def _line(self, line: str, notes: list[Note]) -> str:
        at = value_start(line)
        head, value = line[:at], line[at:]
        name = head.split(";", 1)[0].rstrip(":").upper()
        if name in _TIMED and value != value.rstrip():
            value = value.rstrip()
            if self._once(f"space {name}"):
                notes.append(
                    Note(
                        _TIMED[name],
                        (
                            f"{name} {value[:60]!r} ends in spaces; read without them (remove the "
                            "trailing spaces, here and in any other event)"
                        ),
                    )
                )
        if ";" in head:
            head = _TZID.sub(lambda match: self._tzid(match[1], notes), head)
        return head + value

    def _fine(self, raw: str) -> bool:
        tzid = raw.strip('"')
        return (
            tzid == tzid.strip()
            and not _unusable(tzid)
            and (tzid in self.zone_ids or self._display_name(tzid) is None)
        )

    def _tzid(self, raw: str, notes: list[Note]) -> str:
        tzid = raw.strip('"').strip()
        if tzid in self.zone_ids:
            return f";TZID={_quoted(tzid)}"
        if _unusable(tzid):  # the parser would lose the event: its times become floating
            if self._once("tzid unusable"):
                notes.append(
                    Note(
                        ProblemKind.UNKNOWN_ZONE,
                        (
                            f"TZID {printable(tzid, 60)!r} is longer than {MAX_TZID} characters or "
                            "holds control characters; its times are read in the calendar's zone "
                            "(use an IANA zone name)"
                        ),
                    )
                )
            return ""
        mapped = self._display_name(tzid)
        if mapped is None:
            return f";TZID={raw}"
        if self._once(f"tzid {tzid}"):
            notes.append(
                Note(
                    ProblemKind.UNKNOWN_ZONE,
                    (
                        f"TZID {tzid[:100]!r} is a Windows zone name with no VTIMEZONE; read as "
                        f"{mapped}, as Outlook does (export its VTIMEZONE or use the IANA name to "
                        "be exact)"
                    ),
                )
            )
        return f";TZID={mapped}"

    def _display_name(self, tzid: str) -> str | None:
        if tzid not in self._mapped:
            with warnings.catch_warnings():  # a guessed "/vendor/Zone" TZID only warns
                warnings.simplefilter("ignore")
                try:
                    known = tzp.timezone(tzid) is not None
                except (OSError, ValueError):  # a name no zone file can have
                    known = False
            self._mapped[tzid] = None if known else zone_for_display_name(tzid)
        return self._mapped[tzid]


def _unusable(tzid: str) -> bool:
    return len(tzid) > MAX_TZID or any(ord(char) < 32 or ord(char) == 127 for char in tzid)


def _quoted(value: str) -> str:
    return f'"{value}"' if any(c in value for c in ";:,") else value
