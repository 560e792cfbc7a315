"""loop.py and server.py: a round with fakes, probes over real HTTP, --once and stopping."""

from __future__ import annotations

import threading
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from fake_kube import GI, T0, FakeCluster, FakeDeployment
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.loop import Controller, loop
from node_placeholder_scaler.metrics import FeedStatus, Metrics
from node_placeholder_scaler.model import Plan, PoolTarget
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.server import Health, Server
from node_placeholder_scaler.settings import load_settings

SETTINGS = load_settings(
    "interval: 1s\ncalendars: [{name: c, url: /dev/null}]\n"
    "pools: {user: {nodeSelector: {pool: user}}}\n",
    "config.yaml",
    {},
)


@dataclass
class FakePlanner:
    target: int = 2
    ok: bool = True
    refreshed: list[datetime] = field(default_factory=list)
    fail_refresh: bool = False

    def refresh(self, now: datetime) -> None:
        self.refreshed.append(now)
        if self.fail_refresh:
            raise RuntimeError("feed layer bug")

    def plan(self, now: datetime) -> Plan:
        return Plan(now, {"user": PoolTarget("user", self.target, self.target, False, ())}, (), ())

    def feeds(self, now: datetime) -> list[FeedStatus]:
        return [FeedStatus("c", self.ok, now, 0.0, "ok", now)]


@dataclass
class FakeApi:
    requests: int = 0
    reachable: bool = True

    def usage(self) -> tuple[int, int]:
        self.requests += 3
        return self.requests, self.requests * 100

    def answered(self) -> int:
        return 0

    def check(self) -> None:
        if not self.reachable:
            raise OSError("no route")


def controller(planner=None, api=None, dry_run=False):
    fake = FakeCluster(
        namespace="np",
        deployments={"placeholder-user": FakeDeployment(0, Resources(3500, 14 * GI))},
    )
    metrics = Metrics(CollectorRegistry())
    health = Health(SETTINGS.interval, T0)
    return Controller(
        SETTINGS,
        fake,
        api or FakeApi(),
        planner or FakePlanner(),
        metrics,
        health,
        "np",
        dry_run,
        clock=lambda: T0,
    ), fake


def test_round_reconciles_and_updates_health_and_metrics():
    ctl, fake = controller()
    result = ctl.round()
    assert result is not None and fake.scales == [("placeholder-user", 2)]
    assert ctl.health.last_round == T0 and ctl.health.ready() == (True, "ok")
    reg = ctl.metrics.registry
    assert reg.get_sample_value("node_placeholder_desired_replicas", {"pool": "user"}) == 2
    assert reg.get_sample_value("node_placeholder_api_requests_total") == 3


def test_round_survives_a_failing_feed_layer_and_reports_unready():
    ctl, fake = controller(FakePlanner(fail_refresh=True, ok=False), FakeApi(reachable=False))
    assert ctl.round() is not None
    assert fake.scales == [("placeholder-user", 2)]
    assert ctl.health.ready() == (False, "not ready: api, feeds")
    assert (
        ctl.metrics.registry.get_sample_value(
            "node_placeholder_errors_total", {"stage": "feeds", "pool": ""}
        )
        == 1
    )


def test_once_makes_one_round_and_stop_ends_the_loop():
    ctl, _ = controller()
    planner = ctl.planner
    assert loop(ctl, threading.Event(), once=True) is not None
    assert len(planner.refreshed) == 1
    stop = threading.Event()
    thread = threading.Thread(target=loop, args=(ctl, stop), kwargs={"once": False})
    thread.start()
    stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_health_windows():
    health = Health(timedelta(seconds=30), T0)
    assert health.healthy(T0 + timedelta(seconds=60))[0]
    assert not health.healthy(T0 + timedelta(seconds=91))[0]
    health.round_done(T0 + timedelta(seconds=80), api_ok=True, feeds_ok=True)
    assert health.healthy(T0 + timedelta(seconds=160))[0]


def test_server_serves_metrics_and_probes():
    metrics = Metrics(CollectorRegistry())
    metrics.initialise(["user"], ["c"])
    health = Health(timedelta(seconds=30), T0)
    server = Server(0, metrics.registry, health, lambda: T0, host="127.0.0.1").start()
    base = f"http://127.0.0.1:{server.port}"
    try:
        body = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert "node_placeholder_scale_patches_total" in body
        assert urllib.request.urlopen(f"{base}/healthz", timeout=5).status == 200
        try:
            urllib.request.urlopen(f"{base}/readyz", timeout=5)
            raise AssertionError("expected 503")
        except urllib.error.HTTPError as error:
            assert error.code == 503
        health.round_done(T0, api_ok=True, feeds_ok=True)
        assert urllib.request.urlopen(f"{base}/readyz", timeout=5).status == 200
    finally:
        server.stop()


def test_book_planner_adapts_the_calendar_book(tmp_path):
    from node_placeholder_scaler.loop import BookPlanner

    start = T0 - timedelta(minutes=5)
    ics = tmp_path / "c.ics"
    ics.write_text(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1\r\n"
        "DTSTAMP:20261123T085500Z\r\nDTSTART:20261123T085500Z\r\nDTEND:20261123T100000Z\r\n"
        "SUMMARY:Data 8 final\r\nDESCRIPTION:user: 3\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    settings = load_settings(
        f"calendars: [{{name: c, url: {ics}}}]\npools: {{user: {{nodeSelector: {{p: u}}}}}}\n",
        "config.yaml",
        {},
    )
    planner = BookPlanner(settings)
    assert not planner.plan(start).pools["user"].known  # nothing fetched yet
    planner.refresh(T0)
    target = planner.plan(T0).pools["user"]
    assert (target.target, target.known, target.event_names) == (3, True, ("Data 8 final",))
    (feed,) = planner.feeds(T0)
    assert (feed.name, feed.ok, feed.last_result, feed.last_attempt) == ("c", True, "ok", T0)
