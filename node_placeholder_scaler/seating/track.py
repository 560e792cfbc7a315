"""What the class-sized rule did during one occurrence, for its event report.

Pure: each round's ClassState (seating/rule.py) folds into a ClassTrack; the report stores it as
``class`` and its text says when the ramp began, when the class was seated (no refill from
then on) and when the rest was released.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from .phase import ClassState, Phase


@dataclass(frozen=True)
class ClassTrack:
    students: int
    seats_per_node: int = 0
    ramp_from: datetime | None = None  # the first round that wanted a warm node
    seated_at: datetime | None = None  # the first round in phase seated
    released_at: datetime | None = None  # the first round in phase released
    peak_warm: int = 0  # most warm nodes wanted in one round
    unsized: bool = False  # a round could not size the class (no seat known)
    late_s: float | None = None  # the lead was this much shorter than node-up + interval


def follow(track: ClassTrack, state: ClassState, now: datetime) -> ClassTrack:
    """The track after one more round."""
    changes: dict[str, Any] = {"peak_warm": max(track.peak_warm, state.warm)}
    if state.seats_per_node:
        changes["seats_per_node"] = state.seats_per_node
    if state.warm > 0 and track.ramp_from is None:
        changes["ramp_from"] = now
    if state.phase == Phase.SEATED and track.seated_at is None:
        changes["seated_at"] = now
    if state.phase == Phase.RELEASED and track.released_at is None:
        changes["released_at"] = now
    if state.phase == Phase.UNSIZED:
        changes["unsized"] = True
    if state.late is not None:
        changes["late_s"] = state.late.total_seconds()
    return replace(track, **changes)


def as_report(track: ClassTrack) -> dict[str, Any]:
    def iso(at: datetime | None) -> str | None:
        return None if at is None else at.isoformat()

    return {
        "students": track.students,
        "seats_per_node": track.seats_per_node,
        "ramp_from": iso(track.ramp_from),
        "seated_at": iso(track.seated_at),
        "released_at": iso(track.released_at),
        "peak_warm": track.peak_warm,
        "unsized": track.unsized,
        "late_s": track.late_s,
    }


def class_line(seen: Mapping[str, Any] | None) -> str:
    """``class of 24 students (7 seats per node): ramp from 10:00:05 ...`` ("" without one):
    ``seen`` is a report's class entry (as_report)."""
    if not seen:
        return ""
    parts = [f"class of {seen['students']} students ({seen['seats_per_node']} seats per node)"]
    if seen["unsized"]:
        parts.append("not sized in some rounds: no seat size known")
    parts.append(
        f"ramp from {_clock(seen['ramp_from'])} (peak {seen['peak_warm']} warm nodes)"
        if seen["ramp_from"]
        else "no warm node needed"
    )
    parts.append(
        f"seated at {_clock(seen['seated_at'])}, no refill after"
        if seen["seated_at"]
        else "never seated (students + warm seats stayed short)"
    )
    if seen.get("late_s"):
        parts.append(
            f"the lead was {seen['late_s']:.0f}s shorter than node-up + interval "
            "(the first arrivals may have waited)"
        )
    if seen["released_at"]:
        parts.append(f"released at {_clock(seen['released_at'])}")
    return ": ".join(parts[:2]) + (", " + ", ".join(parts[2:]) if parts[2:] else "")


def _clock(text: str) -> str:
    return datetime.fromisoformat(text).strftime("%H:%M:%S")
