"""Feed addresses and untrusted text: classify, redact, printable (pure)."""

from __future__ import annotations

import pytest

from node_placeholder_scaler.feeds.fetch import cause, status_text
from node_placeholder_scaler.urls import UrlError, classify, printable, redact

TOKEN = "s3cr3tT0KEN"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "https://calendar.google.com/calendar/ical/abc%40group/private-xyz/basic.ics",
            "https://calendar.google.com/…/basic.ics",
        ),
        (
            "https://outlook.office365.com/owa/calendar/123/456/reachcalendar.ics?token=t",
            "https://outlook.office365.com/…/reachcalendar.ics",
        ),
        (
            "webcal://cloud.example.org/remote.php/dav/public-calendars/TOKEN?export",
            "webcal://cloud.example.org/…/…",
        ),
        ("https://user:pass@example.org/cal.ics", "https://example.org/…/cal.ics"),
        ("/etc/calendars/courses.ics", "file://…/courses.ics"),
        ("file:///etc/calendars/courses.ics", "file://…/courses.ics"),
        (
            f"htps://calendar.google.com/x/private-{TOKEN}/basic.ics?token={TOKEN}",
            "htps://calendar.google.com/…/basic.ics",
        ),
        (f"htps:/calendar.google.com/private-{TOKEN}", "htps:…"),
        (f"https://[::1/private-{TOKEN}", "https://?/…/…"),
        ("courses.ics", "file://…/courses.ics"),
        (f"https://example.org/{TOKEN}.ics", "https://example.org/…/…"),
        ("https://evil.example/\x1b[31mred.ics", "https://evil.example/…/…"),
    ],
)
def test_redact(url: str, shown: str) -> None:
    assert redact(url) == shown
    assert TOKEN not in redact(url)


@pytest.mark.parametrize(
    ("url", "kind", "location"),
    [
        ("https://example.org/a.ics", "http", "https://example.org/a.ics"),
        ("webcal://example.org/a.ics", "http", "https://example.org/a.ics"),
        ("WEBCALS://example.org/a.ics", "http", "https://example.org/a.ics"),
        ("file:///srv/a%20b.ics", "file", "/srv/a b.ics"),
        ("calendars/a.ics", "file", "calendars/a.ics"),
        ("/srv/a.ics", "file", "/srv/a.ics"),
    ],
)
def test_classify(url: str, kind: str, location: str) -> None:
    target = classify(url)
    assert (target.kind, target.location) == (kind, location)


@pytest.mark.parametrize(
    "url",
    [
        f"htps://calendar.google.com/calendar/ical/x/private-{TOKEN}/basic.ics?token={TOKEN}",
        f"ftp://example.org/{TOKEN}.ics",
        f"https:///private-{TOKEN}",
        f"mailto:{TOKEN}@example.org",
    ],
)
def test_classify_refuses_other_schemes_without_the_secret(url: str) -> None:
    with pytest.raises(UrlError) as error:
        classify(url)
    assert TOKEN not in str(error.value)


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("Data 8 \x1b[2J\x1b[31mfinal\x1b[0m", "Data 8 final"),
        ("two\nlines\r\n2026-03-02 INFO forged", "two lines 2026-03-02 INFO forged"),
        ("bidi \u202eevil\u202c", "bidi evil"),
        ("zero\u200dwidth", "zero width"),
        ("tab\there", "tab here"),
        ("\x1b]8;;https://x\x07link\x1b]8;;\x07", "link"),
        ("x" * 300, "x" * 199 + "…"),
        ("Grüezi, 09:00 ok", "Grüezi, 09:00 ok"),
    ],
)
def test_printable(text: str, shown: str) -> None:
    assert printable(text) == shown


def test_status_text_never_uses_the_servers_reason_phrase() -> None:
    assert status_text(404) == "HTTP 404 Not Found"
    assert status_text(599) == "HTTP 599"


def test_cause_finds_the_readable_root() -> None:
    try:
        try:
            raise ConnectionRefusedError(111, "Connection refused")
        except OSError as inner:
            raise RuntimeError(f"GET https://x/private-{TOKEN} failed") from inner
    except RuntimeError as error:
        assert cause(error) == "connection refused"
    assert cause(ValueError(f"bad {TOKEN}")) == "ValueError (no further detail)"


def test_cause_names_dns_and_tls_failures() -> None:
    import socket
    import ssl

    assert cause(socket.gaierror(-2, "Name or service not known")) == (
        "cannot resolve the host name"
    )
    verify = ssl.SSLCertVerificationError(1, "certificate verify failed")
    verify.verify_message = "self-signed certificate"
    assert cause(verify) == "TLS certificate not accepted: self-signed certificate"


@pytest.mark.parametrize(
    "url",
    [
        f"http://[/private-{TOKEN}",
        f"https://host:99999999/private-{TOKEN}",
        f"https://host:port/private-{TOKEN}",
        f"file://[/private-{TOKEN}.ics",
    ],
)
def test_classify_refuses_malformed_addresses(url: str) -> None:
    """Found by the address fuzz: urlsplit raised ValueError out of classify (and settings)."""
    with pytest.raises(UrlError) as error:
        classify(url)
    assert TOKEN not in str(error.value)


def test_event_titles_go_through_the_same_rule() -> None:
    """One rule for untrusted text: the calendar's titles are printable() too (a line or
    paragraph separator and a bidi override used to pass into titles, logs and the plan)."""
    from node_placeholder_scaler.ical.components import summary_text

    assert summary_text("Evil \x1b[2Jred\n2026 INFO forged\u2028line \u202eevil") == (
        "Evil red 2026 INFO forged line evil"
    )
    assert summary_text("\x1b[0m \u200b") == "(no title)"
