"""The class-sized keys of a pool (``pools.<pool>.seatCpu`` ... ``autosizeBelowRequest``).

Pure. The rows of settings.py's POOL table for class-sized requests and autosize
(docs/concepts/class-sized.md), the frozen SeatSettings they make, and its reader.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Literal

from ..observed import Resources
from ..seating.rule import memory_bytes
from .configkeys import Key, Reader, default

Autosize = Literal["off", "advise", "apply"]

SEAT_KEYS: tuple[Key, ...] = (
    Key(
        "seatCpu",
        "number",
        None,
        "Class-sized requests (user: 120 students): the CPU cores "
        "one student's pod requests (unset: learned from the pool's user pods)",
        low=0,
    ),
    Key(
        "seatMemory",
        "text",
        None,
        "Class-sized requests: the memory one student's pod "
        "requests, e.g. 1.5Gi (unset: learned from the pool's user pods)",
    ),
    Key(
        "seatsPerNode",
        "integer",
        None,
        "Class-sized requests: students per node (unset: "
        "the placeholder's, or a pool node's, room divided by the seat)",
        low=1,
    ),
    Key(
        "arrivalSpread",
        "duration",
        "10m",
        "Class-sized requests: students arrive evenly from the event's start over this long",
        positive=True,
    ),
    Key(
        "nodeUp",
        "duration",
        "3m",
        "Class-sized requests: from asking for a node to its "
        "being usable; warm seats run this far ahead of the arrivals",
        positive=True,
    ),
    Key(
        "hold",
        "duration",
        None,
        "Class-sized requests: after the start plus this long "
        "the class's warm room is released (unset: arrivalSpread)",
    ),
    Key(
        "autosize",
        "choice",
        "off",
        "Size the next occurrence of a series from its last "
        "event reports: off, advise (the report says what it would use) or apply",
        choices=("off", "advise", "apply"),
    ),
    Key("autosizeFloor", "integer", 0, "Autosize: fewest warm nodes it may ask for", low=0),
    Key(
        "autosizeCeiling",
        "integer",
        None,
        "Autosize: most warm nodes it may ask for (unset: maxReplicas)",
        low=0,
    ),
    Key(
        "autosizeBelowRequest",
        "choice",
        "never",
        "Autosize: allowed lets it ask for fewer "
        "nodes than an event's explicit node request (user: 3)",
        choices=("never", "allowed"),
    ),
)

_SPREAD: timedelta = default(SEAT_KEYS, "arrivalSpread")
_NODE_UP: timedelta = default(SEAT_KEYS, "nodeUp")


@dataclass(frozen=True)
class SeatSettings:
    """A pool's class-sized requests (seating/rule.py, docs/concepts/class-sized.md)."""

    seat: Resources | None = None  # one student's pod requests; None: learned
    seats_per_node: int | None = None
    arrival_spread: timedelta = _SPREAD
    node_up: timedelta = _NODE_UP
    hold: timedelta | None = None  # None: arrival_spread
    autosize: Autosize = "off"
    floor: int = 0
    ceiling: int | None = None  # None: maxReplicas
    below_request: bool = False

    @property
    def window(self) -> timedelta:
        return self.arrival_spread if self.hold is None else self.hold


def read_seating(reader: Reader) -> SeatSettings:
    cpu, memory = reader.value("seatCpu"), reader.value("seatMemory")
    seat = None
    if cpu is not None or memory is not None:
        amount = 0 if memory is None else memory_bytes(memory)
        if amount is None:
            raise reader.fail("seatMemory", "expected a memory size such as 1.5Gi or 512Mi")
        seat = Resources(round((cpu or 0) * 1000), amount)
    return SeatSettings(
        seat=seat,
        seats_per_node=reader.value("seatsPerNode"),
        arrival_spread=reader.value("arrivalSpread"),
        node_up=reader.value("nodeUp"),
        hold=reader.value("hold"),
        autosize=_word(reader, "autosize", ("off", None)),
        floor=reader.value("autosizeFloor"),
        ceiling=reader.value("autosizeCeiling"),
        below_request=reader.value("autosizeBelowRequest") == "allowed",
    )


def _word(reader: Reader, name: str, words: tuple[str, str | None]) -> Any:
    """A choice key whose word YAML 1.1 reads as a boolean unquoted (off)."""
    raw = reader.data.get(name)
    if isinstance(raw, bool):
        word = words[1] if raw else words[0]
        if word is None:
            raise reader.fail(name, f"must be one of {', '.join(_choices(name))}, got {raw}")
        return word
    return reader.value(name)


def _choices(name: str) -> tuple[str, ...]:
    return next(key.choices for key in SEAT_KEYS if key.name == name)
