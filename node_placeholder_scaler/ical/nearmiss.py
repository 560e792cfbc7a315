"""A description line that is almost a request, and the request it probably meant.

The rule, in one place (the operations guide shows it as a table):

1. The line starts with a WORD (a letter, then letters, digits, ``_``, ``-``) followed by a
   separator (``:``, ``=``, or only spaces) and a VALUE.
2. WORD names a pool (case-insensitive), or is within a small edit distance of exactly one
   pool name: one edit (insert, delete, substitute or swap two neighbours) for names of up to
   four letters, two for longer names. ``usr``, ``users`` and ``uesr`` are ``user``.
3. VALUE is a count in another shape: ASCII digits alone or followed by words (``3``,
   ``3 nodes``), or an English number word from zero to twenty (``three``).

Then the line is a near miss and the suggestion is ``POOL: N``. A line whose word is not
near any pool (``Room: 101``, ``Zoom: 123456789``, ``Capacity: 120``, ``Lecture 3: 10``) is
free text. ``VALUE_SHAPES`` is the one list of value shapes. A value that is a count and a
word near ``students`` (``120 student``) is a near miss of a class size: the suggestion keeps
the unit (``user: 120 students``).

Pure and bounded: words longer than ``MAX_WORD`` are not compared; every step is one pass.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass

from ..model import ProblemKind

MAX_WORD = 32  # longer words are never compared with pool names
_HEAD = re.compile(r"([A-Za-z][A-Za-z0-9_-]{0,63})[ \t]*+([:=]?)[ \t]*+(.*)", re.DOTALL)
_DIGITS = re.compile(r"([0-9]{1,6})(?:[ \t]++[A-Za-z][A-Za-z \t.,()-]{0,80})?")
NUMBER_WORDS = (
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
)
_WORD_NUMBER = re.compile(r"([A-Za-z]{3,9})(?:[ \t]++[A-Za-z][A-Za-z \t.,()-]{0,80})?")


@dataclass(frozen=True)
class NearMiss:
    """What a near-miss line probably meant: ``POOL: COUNT``."""

    pool: str
    count: int
    kind: ProblemKind  # unknown-pool (a misspelt pool), bad-value, or near-miss (separator)
    why: str
    unit: str = ""  # CLASS_UNIT when the line gave a class size (``120 student``)

    @property
    def suggestion(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.pool}: {self.count}{unit}"


def _digits(value: str) -> int | None:
    match = _DIGITS.fullmatch(value)
    return None if match is None else int(match[1])


def _number_word(value: str) -> int | None:
    match = _WORD_NUMBER.fullmatch(value)
    if match is None or match[1].lower() not in NUMBER_WORDS:
        return None
    return NUMBER_WORDS.index(match[1].lower())


CLASS_UNIT = "students"  # a class-sized request: ``user: 120 students``
_CLASS = re.compile(r"([0-9]{1,6})[ \t]++([A-Za-z]{1,16})")


def class_size(value: str) -> tuple[int, bool] | None:
    """``120 students`` -> (120, True); a near unit (``120 student``, ``120 studnets``) ->
    (120, False); anything else None."""
    match = _CLASS.fullmatch(value.strip())
    if match is None:
        return None
    word = match[2].lower()
    if word == CLASS_UNIT:
        return int(match[1]), True
    return (int(match[1]), False) if distance(word, CLASS_UNIT) <= 2 else None


# The value shapes read as a count, in order. A new request form goes here.
VALUE_SHAPES: tuple[Callable[[str], int | None], ...] = (_digits, _number_word)


def near_miss(line: str, pools: Collection[str]) -> NearMiss | None:
    """The request ``line`` (a normalised description line) probably meant, or None."""
    head = _HEAD.fullmatch(line.strip())
    if head is None:
        return None
    word, separator, value = head[1], head[2], head[3].strip()
    if (
        not separator
        and not value[:1].isdigit()
        and value.split(" ", 1)[0].lower() not in (NUMBER_WORDS)
    ):
        return None  # "user guide 3" is prose; only "user 3" or "user three" is a near miss
    count = next((n for shape in VALUE_SHAPES if (n := shape(value)) is not None), None)
    if count is None:
        return None
    pool = closest_pool(word, pools)  # compared only for a line with a count
    unit = CLASS_UNIT if class_size(value) is not None else ""
    return None if pool is None else _judged(word, pool, separator, count, unit)


def _judged(word: str, pool: str, separator: str, count: int, unit: str) -> NearMiss:
    if word.lower() != pool:
        return NearMiss(pool, count, ProblemKind.UNKNOWN_POOL, f"{word!r} is not a pool", unit)
    if separator != ":":
        shown = "a space" if not separator else repr(separator)
        return NearMiss(
            pool,
            count,
            ProblemKind.NEAR_MISS,
            f"{shown} instead of a colon after the pool name",
            unit,
        )
    if unit:
        return NearMiss(
            pool, count, ProblemKind.BAD_VALUE, f"a class size is written `N {CLASS_UNIT}`", unit
        )
    return NearMiss(
        pool,
        count,
        ProblemKind.BAD_VALUE,
        "the number of nodes must be a whole number written with the digits 0-9 "
        "and nothing after it",
    )


def closest_pool(word: str, pools: Collection[str]) -> str | None:
    """The pool ``word`` names or is a small typo of (lower case); None if none or a tie."""
    word = word.lower()
    names = {pool.lower() for pool in pools}
    if word in names:
        return word
    if len(word) > MAX_WORD or len(word) < 2:
        return None
    near = [name for name in names if distance(word, name) <= allowed_edits(name)]
    return near[0] if len(near) == 1 else None


def allowed_edits(pool: str) -> int:
    """One edit for pool names of up to four letters, two for longer ones."""
    return 1 if len(pool) <= 4 else 2


def distance(a: str, b: str) -> int:
    """Optimal string alignment distance (Levenshtein with swaps of two neighbours)."""
    if abs(len(a) - len(b)) > 2:
        return abs(len(a) - len(b))
    rows = [list(range(len(b) + 1))]
    for i, char in enumerate(a, start=1):
        row = [i] + [0] * len(b)
        for j, other in enumerate(b, start=1):
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + (char != other))
            if i > 1 and j > 1 and char == b[j - 2] and a[i - 2] == other:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][-1]
