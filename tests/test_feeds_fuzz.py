"""Fuzz harness of the fetch side (issue #9 item 6): any answer a server can send.

Hypothesis builds raw HTTP answers (status lines, reason phrases carrying the secret, odd
Location, Content-Length, Content-Encoding and Transfer-Encoding headers, redirects, bodies) and
the hostile loopback server sends them byte for byte. Properties: the fetch ends with a result
of the vocabulary (never another exception), within its deadline, and no message carries the
secret. The long run: NPS_FUZZ_EXAMPLES=10000 python -m pytest -q tests/test_feeds_fuzz.py
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from node_placeholder_scaler.feeds.fetch import FeedError, fetch
from node_placeholder_scaler.feeds.types import FetchResult
from node_placeholder_scaler.feeds.worker import not_a_calendar
from testkit.hostile_feed import CALENDAR, SECRET, HostileFeedServer

pytestmark = pytest.mark.slow  # fuzzes the fetch against loopback servers

EXAMPLES = int(os.environ.get("NPS_FUZZ_EXAMPLES", "150"))
TEXT = st.text(alphabet=st.characters(codec="latin-1"), max_size=40)
LOCATIONS = st.one_of(
    st.sampled_from(
        [
            "/raw/again",
            f"/raw/private-{SECRET}",
            "http://[::1",
            "http://127.0.0.1:99999999/",
            "file:///etc/passwd",
            "//other.example/x.ics",
            "",
            " ",
            "https://127.0.0.1:1/x",
            f"http://localhost/private-{SECRET}",
            "http://%zz/",
            "javascript:alert(1)",
            "http://127.0.0.1:0/",
            "http://user:pw@127.0.0.1/",
        ]
    ),
    TEXT,
)
HEADERS = st.lists(
    st.one_of(
        st.builds("Location: {}".format, LOCATIONS),
        st.builds("Content-Length: {}".format, st.one_of(st.integers(-5, 10**12).map(str), TEXT)),
        st.sampled_from(
            [
                "Content-Encoding: gzip",
                "Content-Encoding: deflate",
                "Content-Encoding: br",
                "Content-Encoding: zstd",
                "Content-Encoding: nonsense",
                "Transfer-Encoding: chunked",
                "Transfer-Encoding: gzip, chunked",
                "Connection: keep-alive",
                'ETag: "x"',
                f"ETag: {SECRET}\x00",
                "Last-Modified: \x1b[2J",
                "Content-Type: text/html",
            ]
        ),
        st.builds("X-{}: {}".format, st.text("abc-", min_size=1, max_size=5), TEXT),
    ),
    max_size=6,
)
BODIES = st.one_of(
    st.just(CALENDAR),
    st.just(gzip.compress(CALENDAR)),
    st.just(zlib.compress(CALENDAR)),
    st.binary(max_size=300),
    st.just(b"5\r\nBEGIN\r\nzz\r\n"),
    st.just(SECRET.encode()),
)
STATUS = st.one_of(
    st.sampled_from([200, 200, 200, 301, 302, 303, 307, 308, 304, 100, 204, 404, 500]),
    st.integers(0, 999),
)


@pytest.fixture(scope="module")
def server() -> Iterator[HostileFeedServer]:
    with HostileFeedServer(every=0.01) as feed:
        yield feed


def answer(status: int, reason: str, headers: list[str], body: bytes) -> bytes:
    head = "\r\n".join([f"HTTP/1.1 {status} {reason}", *headers, "", ""])
    return head.encode("latin-1") + body


@settings(
    max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
)
@given(
    status=STATUS,
    reason=st.one_of(st.just(f"denied /private-{SECRET}"), TEXT),
    headers=HEADERS,
    body=BODIES,
)
def test_any_answer_is_a_result_of_the_vocabulary(server, status, reason, headers, body):
    server.raw = answer(status, reason, headers, body)
    try:
        fetched = fetch(server.url("raw"), base_dir="", limit=4096, timeout=2.0)
    except FeedError as error:
        assert isinstance(error.result, FetchResult)
        assert SECRET not in str(error)
        assert "\n" not in str(error) and "\x1b" not in str(error)
        return
    assert fetched.content is None or len(fetched.content) <= 4096
    for value in (fetched.etag, fetched.last_modified):
        assert value is None or (value.isprintable() and len(value) <= 200)
    if fetched.content is not None:
        reason_text = not_a_calendar(fetched.content)
        assert reason_text is None or SECRET not in reason_text


URL_PARTS = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=30)


@settings(max_examples=EXAMPLES * 4, deadline=None, database=None)
@given(
    scheme=st.one_of(
        st.sampled_from(["http", "https", "webcal", "htps", "file", "ftp", ""]), URL_PARTS
    ),
    host=URL_PARTS,
    tail=URL_PARTS,
    separator=st.sampled_from(["://", ":/", ":", "/", ""]),
)
def test_any_address_is_classified_or_refused_and_redacted_without_the_secret(
    scheme: str, host: str, tail: str, separator: str
) -> None:
    from node_placeholder_scaler.urls import UrlError, classify, redact

    url = f"{scheme}{separator}{host}/private-{SECRET}/{tail}?token={SECRET}"
    shown = redact(url)
    assert SECRET not in shown and shown.isprintable() and len(shown) <= 140
    try:
        target = classify(url)
    except UrlError as error:
        assert SECRET not in str(error)
        return
    assert target.kind in ("http", "file")
