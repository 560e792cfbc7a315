"""status/view.py and status/page.py: a real feed (tests/fixtures/status-week.ics) -> the
view-model -> the HTML, checked by parsing it; the page's round hook and HTTP route."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import replace
from datetime import timedelta
from html.parser import HTMLParser
from itertools import pairwise
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.backends.capacitybuffers import BufferState
from node_placeholder_scaler.decisions import Action, PoolDecision
from node_placeholder_scaler.loop import Controller
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.model import Problem, ProblemKind
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.planning import plan as plan_at
from node_placeholder_scaler.problems.upcoming import upcoming, window
from node_placeholder_scaler.reports.record import from_json
from node_placeholder_scaler.server import PAGE_HEADERS, Health, Server, StatusBoard
from node_placeholder_scaler.status.page import LEFT, RIGHT, WIDTH, chart, render
from node_placeholder_scaler.status.view import ProblemView, StatusInputs, build_status, report_view
from testkit.fakes import GI, T0, FakeCluster, FakeDeployment
from testkit.planners import StaticPlanner
from testkit.unit import book_for, make_settings, utc

NOW = utc("2026-03-08T12:00")  # a Sunday; the fixture's week follows
CONFIG = (
    "timezone: Europe/Zurich\nleadTime: 15m\n"
    "calendars: [{name: course, url: FIXTURES/status-week.ics}]\n"
    "pools: {user: {maxReplicas: 20}, gpu: {leadTime: 30m}}\n"
)
HOSTILE = ("Midterm <script>alert(1)</script>", "<img src=x onerror=alert(2)> tutorial")


class Tags(HTMLParser):
    """Every start tag and the page's text, as a browser's parser sees them."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def names(self) -> set[str]:
        return {tag for tag, _ in self.tags}

    def all_text(self) -> str:
        return " ".join(" ".join(self.text).split())


@pytest.fixture(scope="module")
def inputs() -> StatusInputs:
    """As ``run`` builds them: the plan's problems of no event and the upcoming ones."""
    book = book_for(CONFIG, NOW).book
    problems = [p for p in plan_at(book.views(NOW), book.settings, NOW).problems if p.event is None]
    problems += [u.as_problem() for u in upcoming(book.views(NOW), *window(NOW), book.settings)]
    return StatusInputs(book.settings, NOW, book.views(NOW), problems, feeds=book.statuses(NOW))


def test_the_week_per_pool_from_a_real_feed(inputs: StatusInputs) -> None:
    view = build_status(inputs)
    user, gpu = view.pools
    assert [(e.title, e.request, e.lead.total_seconds() / 60) for e in user.events] == [
        ("Lab login surge", 3, 15),
        ("Lab login surge", 3, 15),
        (HOSTILE[0], 5, 45),
    ]
    assert [(e.title, e.request, e.lead.total_seconds() / 60) for e in gpu.events] == [
        (HOSTILE[0], 2, 45)
    ]
    # Mon and Wed 08:50 Zurich (07:50 UTC) minus 15 min; the exam 14:00 (13:00 UTC) minus 45
    assert [(s.at.strftime("%d %H:%M"), s.nodes) for s in user.steps] == [
        ("08 12:00", 0),
        ("09 07:35", 3),
        ("09 08:10", 0),
        ("11 07:35", 3),
        ("11 08:10", 0),
        ("12 12:15", 5),
        ("12 14:00", 0),
    ]
    assert {s.nodes for s in gpu.steps} == {0, 2}
    assert all(s.at < view.until for s in user.steps)  # "Beyond the week" (the 20th) is not in


def test_problems_to_fix_are_the_upcoming_ones_with_their_suggestion(inputs: StatusInputs) -> None:
    problems = build_status(inputs).problems
    assert [(p.event, p.kind, p.suggestion) for p in problems] == [
        (HOSTILE[1], "bad-value", None),  # gpu: lots
        (HOSTILE[1], "unknown-pool", "user: 3"),  # usr: 3 (Zoom: and Room: lines: free text)
    ]
    assert all(p.event != "Last week's lab" for p in problems)  # a past event's problem
    text = Tags(render(build_status(inputs))).all_text()
    assert "suggested line: user: 3" in text.split("Pool user")[0]


def test_hostile_titles_are_text_not_markup(inputs: StatusInputs) -> None:
    html = render(build_status(inputs))
    parsed = Tags(html)
    assert "script" not in parsed.names() and "img" not in parsed.names()
    assert not [a for _, attrs in parsed.tags for a in attrs if a.startswith("on")]
    for title in HOSTILE:
        assert title in parsed.all_text()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def decision(**changes: object) -> PoolDecision:
    base = PoolDecision(
        "user",
        "placeholder-user",
        Action.UNCHANGED,
        target=3,
        free=1,
        desired=2,
        current=5,
        pending=2,
        nodes=4,
        eligible=2,
    )
    return replace(base, **changes)  # type: ignore[arg-type]


BUFFER = BufferState("buffer-user", 4, {}, "CapacityBuffer np/buffer-user: quota exceeded")


@pytest.mark.parametrize(
    ("decisions", "role", "shown", "absent"),
    [
        (
            (decision(),),
            "leader",
            [
                "placeholders desired 2",
                "placeholders ready 3 / 5",
                "pending 2",
                "pool nodes 4",
                "This replica: leader",
            ],
            ["Not measured"],
        ),
        (
            (decision(buffer=BUFFER, current=6, pending=0),),
            "",
            ["buffer desired 2", "buffer ready 4 / 6", "quota exceeded"],
            ["This replica"],
        ),
        (
            (decision(action=Action.ERROR, error="nodes: 403 Forbidden"),),
            "",
            ["Last round: error", "nodes: 403 Forbidden"],
            [],
        ),
        (
            (),
            "standby",
            ["Not measured by this replica (a standby", "This replica: standby"],
            ["placeholders desired"],
        ),
    ],
)
def test_warm_state(
    inputs: StatusInputs,
    decisions: tuple[PoolDecision, ...],
    role: str,
    shown: list[str],
    absent: list[str],
) -> None:
    text = Tags(render(build_status(replace(inputs, decisions=decisions, role=role))))
    section = text.all_text().split("Pool user")[1].split("Next 7 days")[0]
    for words in shown:
        assert words in section or words in text.all_text(), words
    for words in absent:
        assert words not in section


REPORT = {
    "pool": "user",
    "series": "course/lab",
    "title": "Lab <b>1</b>",
    "start": "2026-03-02T07:50:00+00:00",
    "arrivals": 40,
    "wait_s": {"p50": 12.0, "p95": 95.4, "max": 140.0},
    "over_target": 6,
    "target_s": 30.0,
    "capacity_ready_in_time": False,
    "warm_at_start": 1,
    "asked": 3,
    "advice": {"nodes": 5, "lead_s": 1200.0, "why": "40 arrivals in 4 min"},
    "reasons": ["pod alice-notebook: 0/3 nodes are available"],
}


@pytest.mark.parametrize(
    ("report", "shown"),
    [
        (
            REPORT,
            [
                "Lab <b>1</b>",
                "12 s / 95 s / 140 s",
                "6 over 30 s",
                "no",
                "1 of 3 warm at the start",
                "next time ask for 5 node(s), lead at least 1200s",
            ],
        ),
        (
            {
                **REPORT,
                "capacity_ready_in_time": True,
                "wait_s": None,
                "advice": {"nodes": None, "why": "too few arrivals"},
            },
            ["- / - / -", "yes", "no advice: too few arrivals"],
        ),
        (
            {
                "series": "s",
                "start": "2026-03-02T07:50:00+00:00",
                "title": "an old report without most keys",
            },
            ["an old report without most keys", "0 of 0"],
        ),
    ],
)
def test_event_reports(inputs: StatusInputs, report: dict[str, object], shown: list[str]) -> None:
    html = render(build_status(replace(inputs, reports={"user": [from_json(report)]})))
    text = Tags(html).all_text().split("Last event reports")[1]
    for words in shown:
        assert words in text, words
    assert "alice" not in html  # scheduler messages (pod names) are not shown
    assert "<b>" not in html


def test_three_latest_reports_newest_first(inputs: StatusInputs) -> None:
    reports = [from_json({**REPORT, "title": f"Lab {n}"}) for n in range(5)]
    view = build_status(replace(inputs, reports={"user": reports}))
    assert [r.title for r in view.pools[0].reports] == ["Lab 4", "Lab 3", "Lab 2"]


def test_suggestion_and_feed_problems_are_shown_escaped(inputs: StatusInputs) -> None:
    near = ProblemView(
        "unknown-pool",
        "'usr: 3': 'usr' is not a pool",
        "course",
        "Lab",
        NOW + timedelta(days=1),
        suggestion="user: 3",
    )
    html = render(replace(build_status(inputs), problems=(near,)))
    text = Tags(html).all_text()
    assert "suggested line: user: 3" in text
    assert "<code>user: 3</code>" in html


def test_a_failing_feed_shows_its_name_never_its_address(tmp_path: Path) -> None:
    url = "https://calendar.example.invalid/private-s3cr3t-token/basic.ics"
    book = book_for(
        f"calendars: [{{name: course, url: '{url}'}}]\npools: {{user: {{}}}}\nfeedTimeout: 2s\n",
        NOW,
    ).book
    html = render(
        build_status(
            StatusInputs(
                book.settings,
                NOW,
                book.views(NOW),
                plan_at(book.views(NOW), book.settings, NOW).problems,
                feeds=book.statuses(NOW),
            )
        )
    )
    text = Tags(html).all_text()
    assert "course no usable copy" in text and "feed-error" in text
    assert "s3cr3t" not in html and "example.invalid" not in html


def test_chart_geometry(inputs: StatusInputs) -> None:
    view = build_status(inputs)
    picture = chart(view.pools[0], view)
    assert picture.top == 5 and picture.x_now == LEFT
    assert [t.label for t in picture.days] == [
        "Mon 09",
        "Tue 10",
        "Wed 11",
        "Thu 12",
        "Fri 13",
        "Sat 14",
        "Sun 15",
    ]
    assert len(picture.leads) == 3 and len(picture.events) == 3
    exam = picture.leads[2]
    assert exam.title == f"lead of {HOSTILE[0]}" and exam.width > picture.leads[0].width
    assert picture.line.startswith(f"M{LEFT},") and picture.line.endswith(f"H{WIDTH - RIGHT}")


def test_day_ticks_across_a_dst_change(inputs: StatusInputs) -> None:
    """Europe/Zurich springs forward on 29 March 2026: ticks stay at local midnight."""
    view = build_status(replace(inputs, now=utc("2026-03-27T12:00")))
    ticks = chart(view.pools[0], view).days
    assert [t.label for t in ticks] == [
        "Sat 28",
        "Sun 29",
        "Mon 30",
        "Tue 31",
        "Wed 01",
        "Thu 02",
        "Fri 03",
    ]
    gaps = [round(b.x - a.x, 1) for a, b in pairwise(ticks)]
    day = (WIDTH - LEFT - RIGHT) / 7
    assert gaps[1] == pytest.approx(day * 23 / 24, abs=0.2)  # Sunday 29th has 23 hours
    assert all(g == pytest.approx(day, abs=0.2) for i, g in enumerate(gaps) if i != 1)


def test_the_page_works_on_a_phone_and_without_script(inputs: StatusInputs) -> None:
    parsed = Tags(render(build_status(inputs)))
    metas = [a for tag, a in parsed.tags if tag == "meta"]
    assert {"name": "viewport", "content": "width=device-width, initial-scale=1"} in metas
    assert "script" not in parsed.names() and "svg" in parsed.names()
    assert "@media (max-width:40rem)" in render(build_status(inputs))


def controller() -> Controller:
    """A Controller on the fake cluster (which is also its API probe, as kube.Kube is)."""
    settings = make_settings(
        "interval: 1s\ncalendars: [{name: c, url: /dev/null}]\n"
        "pools: {user: {nodeSelector: {pool: user}}}\n"
    )
    fake = FakeCluster(
        namespace="np",
        deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))},
    )
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["c"])
    return Controller(
        settings,
        fake,
        fake,
        StaticPlanner(user=2, feed="c"),
        metrics,
        Health(settings.interval, T0),
        "np",
        clock=lambda: T0,
    )


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_server_serves_the_latest_page_with_a_strict_policy() -> None:
    board = StatusBoard()
    health = Health(timedelta(seconds=1), NOW)
    ctl = controller()
    server = Server(
        0, ctl.metrics.registry, health, lambda: NOW, host="127.0.0.1", board=board
    ).start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        assert get(base + "/status")[0] == 503  # before the first round
        board.publish("<p>round 1</p>")
        status, headers, body = get(base + "/status")
        assert (status, body) == (200, "<p>round 1</p>")
        assert headers["Content-Security-Policy"] == PAGE_HEADERS["Content-Security-Policy"]
        assert "script-src" not in headers["Content-Security-Policy"]  # default-src 'none'
        assert headers["Content-Type"] == "text/html; charset=utf-8"
        for path in ("/", "/status/", "/services/warm-pools/", "/services/warm-pools/status"):
            assert get(base + path)[:3:2] == (200, "<p>round 1</p>"), path
        assert get(base + "/statuses")[0] == 404
        assert get(base + "/metrics")[0] == 200
    finally:
        server.stop()


def test_every_round_publishes_and_a_failing_page_is_counted_not_raised() -> None:
    ctl = controller()
    seen: list[int] = []
    ctl.status = lambda plan, result, now: seen.append(len(result.pools))
    assert ctl.round() is not None and seen == [1]

    def broken(*_: object) -> None:
        raise RuntimeError("a bug in the page")

    ctl.status = broken
    assert ctl.round() is not None
    assert (
        ctl.metrics.registry.get_sample_value(
            "node_placeholder_errors_total", {"stage": "round", "pool": ""}
        )
        == 1
    )


def test_plan_problems_without_an_event_are_listed_first(inputs: StatusInputs) -> None:
    clamp = Problem(ProblemKind.CLAMPED, "pool 'user': 30 requested; clamped to 20")
    view = build_status(replace(inputs, problems=(clamp,)))
    assert view.problems[0].kind == "clamped" and view.problems[0].start is None


def test_report_view_reads_a_stored_report() -> None:
    view = report_view(from_json(REPORT))
    assert (view.arrivals, view.wait_p95, view.ready_in_time) == (40, 95.4, False)
    assert view.start == utc("2026-03-02T07:50")
    with pytest.raises(ValueError):
        from_json({"series": "s", "start": "not a time"})
