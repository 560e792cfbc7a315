"""Feed addresses and untrusted text, made safe to show. Pure: no I/O.

A feed URL is a secret (Google's ``private-…`` path, Outlook's and Nextcloud's tokens):
only ``redact(url)`` is ever logged or printed. Text that comes from a feed (titles,
descriptions, server messages) goes through ``printable`` before it reaches a log line or a
terminal, so it cannot carry escape codes or forge log lines.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from urllib.parse import unquote, urlsplit

HTTP_SCHEMES = ("http", "https", "webcal", "webcals")
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
_PLAIN_NAME = re.compile(r"[A-Za-z_-]{1,20}\.ics")
UrlKind = Literal["http", "file"]


class UrlError(ValueError):
    """A feed address that is neither http(s)/webcal nor a file; the message is safe."""


@dataclass(frozen=True)
class Target:
    """Where a feed is read from: an http(s) URL or a file path (not resolved)."""

    kind: UrlKind
    location: str  # the URL to GET (webcal -> https) or the path


def classify(url: str) -> Target:
    """http(s)/webcal(s) URL, file:// URL or a plain path; anything else is a UrlError.

    ``htps://host/private-TOKEN/…`` (a typo) is an error, not a file path; the error shows
    only ``redact(url)``.
    """
    text = url.strip()
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme in HTTP_SCHEMES:
        try:
            parts = urlsplit(text)
            host, _port = parts.hostname, parts.port
        except ValueError:  # "http://[x": an IPv6 bracket left open, a bad port
            raise UrlError(f"not a valid {scheme}:// address: {redact(text)}") from None
        if not host:
            raise UrlError(f"a {scheme}:// address needs a host name: {redact(text)}")
        if scheme.startswith("webcal"):  # webcal:// is https:// for calendar apps
            text = "https" + text[len(scheme) :]
        return Target("http", text)
    if scheme == "file":
        try:
            return Target("file", unquote(urlsplit(text).path))
        except ValueError:
            raise UrlError(f"not a valid file:// address: {redact(text)}") from None
    if scheme and (text[len(scheme) + 1 :].startswith("//") or len(scheme) > 1):
        raise UrlError(
            f"unsupported address scheme {scheme[:12]!r} (use http, https, webcal, file or a "
            f"path; ./{{name}} for a file name with a colon): {redact(text)}"
        )
    return Target("file", text)


def redact(url: str) -> str:
    """scheme://host/… : enough to tell feeds apart, never the secret path or query."""
    text = url.strip()
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else ""
    if scheme and scheme != "file" and (scheme in HTTP_SCHEMES or "//" in text[: len(scheme) + 3]):
        try:
            parts = urlsplit(text)
            host = parts.hostname or "?"
            path = parts.path
        except ValueError:
            host, path = "?", ""
        tail = path.rstrip("/").rsplit("/", 1)[-1]
        shown = tail if _PLAIN_NAME.fullmatch(tail) else "…"  # basic.ics, not a token
        return printable(f"{scheme[:12]}://{host}/…/{shown}", 120)
    if scheme and scheme != "file" and len(scheme) > 1:
        return printable(f"{scheme[:12]}:…", 40)
    path = text
    if scheme == "file":
        try:
            path = unquote(urlsplit(text).path)
        except ValueError:
            return "file://…"
    name = Path(path.split("?", 1)[0]).name
    shown = name if name.lower().endswith(".ics") and len(name) <= 40 else "…"
    return printable(f"file://…/{shown}", 80)


_CONTROL = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?")


def printable(text: str, limit: int = 200) -> str:
    """One line of plain text: escape sequences removed, every character Python does not call
    printable (controls, newlines, tabs, bidi overrides, zero-width joiners, unassigned code
    points) shown as a space, runs of spaces as one, cut at ``limit``."""
    text = _CONTROL.sub("", text)
    cleaned = "".join(c if c.isprintable() else " " for c in text)
    cleaned = " ".join(cleaned.split())
    return cleaned if len(cleaned) <= limit else cleaned[: max(0, limit - 1)] + "…"
