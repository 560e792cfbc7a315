"""How a configuration key is declared, read from the file and described to the chart's schema.

Pure. ``config/settings.py`` holds the table of keys (one ``Key`` each); this module knows the kinds
of value a key can have: how to read and validate each kind (``Reader.value``) and the JSON
Schema fragment the chart's ``values.schema.json`` carries for it (``Key.schema``).

Errors never echo the file's content at large: a YAML syntax error names the line and column
only, and a secret key's value (a feed URL) is never shown, whatever its type.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

from ..durations import DurationError, parse_duration

KeyKind = Literal[
    "duration",
    "integer",
    "number",
    "text",
    "zone",
    "choice",
    "address",
    "dnslabel",
    "labels",
    "names",
    "section",
]
MAX_DEPTH = 32  # nesting of the YAML document; ours is at most 4 deep
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?")
_KEY_LIKE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{0,39}")
_QUOTED = re.compile(r"'[^']*'|\"[^\"]*\"")
DURATION_REF = {"$ref": "#/definitions/duration"}


class ConfigError(Exception):
    """A bad configuration: names the file and the key."""

    def __init__(self, path: str, key: str, message: str) -> None:
        super().__init__(f"{path}: {key}: {message}" if key else f"{path}: {message}")
        self.path = path
        self.key = key
        self.message = message


@dataclass(frozen=True)
class Key:
    """One key of the configuration file, declared once.

    ``default`` is written as in the file ("30s", 8080); None means unset (the code that uses
    the key says what unset means, and ``doc`` says it to the reader). ``secret`` keys never
    show their value in an error. ``chart`` is False for keys the Helm chart sets itself.
    """

    name: str
    kind: KeyKind
    default: object
    doc: str
    low: float | None = None
    high: float | None = None
    below: float | None = None  # exclusive upper bound
    positive: bool = False  # durations: longer than 0s
    choices: tuple[str, ...] = ()
    secret: bool = False
    chart: bool = True

    def schema(self) -> dict[str, Any]:
        """The JSON Schema of this key's value in the chart (null leaves the default)."""
        body: dict[str, Any] = {"description": self.doc}
        if self.default is not None:
            body["default"] = self.default
        body["anyOf"] = [_kind_schema(self), {"type": "null"}]
        return body


def _kind_schema(key: Key) -> dict[str, Any]:
    bounds = {
        name: value
        for name, value in (
            ("minimum", key.low),
            ("maximum", key.high),
            ("exclusiveMaximum", key.below),
        )
        if value is not None
    }
    kinds: dict[str, dict[str, Any]] = {
        "duration": DURATION_REF,
        "integer": {"type": "integer", **bounds},
        "number": {"type": "number", **bounds},
        "text": {"type": "string", "minLength": 1},
        "zone": {"type": "string", "minLength": 1},
        "choice": {"enum": list(key.choices)},
        "address": {"type": "string", "pattern": r"^\S*$"},
        "dnslabel": {"type": "string", "pattern": f"^{_DNS_LABEL.pattern}$", "maxLength": 63},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "names": {"type": "array", "items": {"type": "string"}},
    }
    return dict(kinds[key.kind])


class _NoAliasLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases (no "billion laughs") and with a depth limit."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise yaml.composer.ComposerError(
                None,
                None,
                "aliases (*name) are not allowed in the configuration",
                event.start_mark,
            )
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                mark = self.peek_event().start_mark  # type: ignore[no-untyped-call]
                raise yaml.composer.ComposerError(
                    None, None, f"nested deeper than {MAX_DEPTH} levels", mark
                )
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def load_yaml(text: str, path: str) -> Any:
    """The document in ``text``; a ConfigError naming only the line and column if it is not
    YAML we accept. The message never quotes the file (a feed URL may be on that line)."""
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        where = ""
        if error.problem_mark is not None:
            mark = error.problem_mark
            where = f" at line {mark.line + 1}, column {mark.column + 1}"
        problem = _QUOTED.sub("'…'", error.problem or "syntax error")
        raise ConfigError(path, "", f"not valid YAML{where}: {problem}") from None
    except (yaml.YAMLError, RecursionError, ValueError):
        raise ConfigError(path, "", "not valid YAML") from None


def shown(key: Key, value: object) -> str:
    """How an error shows a bad value: never a secret's, and never more than 60 characters."""
    if key.secret:
        return f"a {type(value).__name__}"
    text = repr(value)
    return text if len(text) <= 60 else text[:59] + "…"


class Reader:
    """Typed access to one mapping of the file, against its table of keys."""

    def __init__(
        self, path: str, prefix: str, data: Mapping[str, Any], keys: tuple[Key, ...]
    ) -> None:
        self.path, self.prefix, self.data = path, prefix, data
        self.keys = {key.name: key for key in keys}
        unknown = sorted(str(k) for k in data if k not in self.keys)
        if unknown:
            known = ", ".join(sorted(self.keys))
            # A key that does not look like one (a pasted URL) is not shown.
            name = unknown[0] if _KEY_LIKE.fullmatch(unknown[0]) else "<a key that is not a name>"
            raise self.fail(name, f"unknown key (known keys: {known})")

    def fail(self, name: str, message: str) -> ConfigError:
        return ConfigError(self.path, f"{self.prefix}{name}", message)

    def mapping(self, name: str) -> Mapping[Any, Any]:
        """The mapping under key ``name`` (empty when unset or null)."""
        value = self.data.get(name) or {}
        if not isinstance(value, Mapping):
            raise self.fail(name, f"expected a mapping, got {type(value).__name__}")
        return value

    def section(self, name: str, keys: tuple[Key, ...]) -> Reader:
        """A Reader of the mapping under key ``name``, against its own table."""
        return Reader(self.path, f"{self.prefix}{name}.", self.mapping(name), keys)

    def value(self, name: str) -> Any:
        """The key's value read and validated by its kind; its default when unset or null."""
        key = self.keys[name]
        raw = self.data.get(name)
        if raw is None:
            raw = key.default
        if raw is None:
            return None
        return _READERS[key.kind](self, key, raw)


def default(table: tuple[Key, ...], name: str) -> Any:
    """A key's default as the program uses it (a duration as timedelta, ...)."""
    return Reader("defaults", "", {}, table).value(name)


def _duration(reader: Reader, key: Key, raw: object) -> Any:
    try:
        value = parse_duration(raw)
    except DurationError as error:
        raise reader.fail(key.name, str(error)) from None
    if key.positive and not value:
        raise reader.fail(key.name, "must be longer than 0s")
    return value


def _number(reader: Reader, key: Key, raw: object) -> Any:
    whole = key.kind == "integer"
    if isinstance(raw, bool) or not isinstance(raw, int if whole else int | float):
        what = "a whole number" if whole else "a number"
        raise reader.fail(key.name, f"expected {what}, got {shown(key, raw)}")
    too_low = key.low is not None and raw < key.low
    too_high = (key.high is not None and raw > key.high) or (
        key.below is not None and raw >= key.below
    )
    if too_low or too_high:
        low = "" if key.low is None else f">= {key.low:g}"
        high = (
            f"<= {key.high:g}"
            if key.high is not None
            else (f"< {key.below:g}" if key.below is not None else "")
        )
        raise reader.fail(
            key.name, f"must be {' and '.join(p for p in (low, high) if p)}, got {raw}"
        )
    return raw if whole else float(raw)


def _text(reader: Reader, key: Key, raw: object) -> Any:
    if not isinstance(raw, str) or not raw.strip():
        raise reader.fail(key.name, f"expected a non-empty text, got {shown(key, raw)}")
    if key.kind == "dnslabel" and (not _DNS_LABEL.fullmatch(raw) or len(raw) > 63):
        raise reader.fail(key.name, f"not a valid Deployment name: {shown(key, raw)}")
    if key.kind == "zone":
        try:
            return ZoneInfo(raw)
        except (ZoneInfoNotFoundError, ValueError):
            raise reader.fail(key.name, f"unknown IANA time zone {shown(key, raw)}") from None
    return raw


def _choice(reader: Reader, key: Key, raw: object) -> Any:
    if raw not in key.choices:
        raise reader.fail(
            key.name, f"must be one of {', '.join(key.choices)}, got {shown(key, raw)}"
        )
    return raw


def _address(reader: Reader, key: Key, raw: object) -> Any:
    if not isinstance(raw, str) or any(c.isspace() for c in raw):
        raise reader.fail(key.name, f"expected an address such as 127.0.0.1, got {shown(key, raw)}")
    return raw


def _labels(reader: Reader, key: Key, raw: object) -> Any:
    if not isinstance(raw, Mapping):
        raise reader.fail(key.name, f"expected a mapping, got {type(raw).__name__}")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in raw.items()):
        raise reader.fail(key.name, "keys and values must be texts (quote numbers)")
    return dict(raw)


def _names(reader: Reader, key: Key, raw: object) -> Any:
    if not isinstance(raw, list) or not all(isinstance(p, str) for p in raw):
        raise reader.fail(key.name, "expected a list of names")
    return list(raw)


def _section(reader: Reader, key: Key, raw: object) -> Any:
    return raw  # read by its own table (config/settings.py)


_READERS = {
    "duration": _duration,
    "integer": _number,
    "number": _number,
    "text": _text,
    "zone": _text,
    "dnslabel": _text,
    "choice": _choice,
    "address": _address,
    "labels": _labels,
    "names": _names,
    "section": _section,
}
