"""Upcoming calendar problems on the real test control plane: two replicas of ``run`` read a
calendar with near misses in the next days, free text and a past typo. The leader logs each
near miss once and writes one CalendarProblem Event each on the placeholder Deployment (not
one per round), raises node_placeholder_upcoming_problems and posts one webhook message each;
the standby tells nothing and exports no calendar gauge."""

from __future__ import annotations

import time

import pytest

from testkit import calendar_problems, webhook
from testkit.cluster import event_messages, wait_for
from testkit.cluster_env import Env, env, now_utc
from testkit.controller import ControllerProcess

__all__ = ["env"]  # the fixture, imported for pytest

pytestmark = pytest.mark.cluster
GAUGE = "node_placeholder_upcoming_problems"


def _leader(processes: list[ControllerProcess]) -> ControllerProcess | None:
    leading = [p for p in processes if p.sample("node_placeholder_leader") == 1]
    return leading[0] if len(leading) == 1 else None


def test_run_tells_each_upcoming_problem_once(env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    deployment = env.placeholders("user")
    feed = env.tmp / "course.ics"
    feed.write_bytes(calendar_problems.feed(now_utc()))
    with webhook.receiver() as hook:
        monkeypatch.setenv("NPS_TEST_WEBHOOK", hook.url)
        config = env.config({"user": ""}, extra="notifications: {urlFromEnv: NPS_TEST_WEBHOOK}")
        config.write_text(config.read_text().replace(str(env.tmp / "calendar.ics"), str(feed)))
        replicas = [
            ControllerProcess(config, env.cluster.kubeconfig, n, env.tmp).start()
            for n in ("a", "b")
        ]
        try:
            leader = wait_for("one leader", lambda: _leader(replicas), timeout=90)
            standby = next(p for p in replicas if p is not leader)
            wait_for(
                "6 CalendarProblem Events",
                lambda: len(event_messages(env.core, env.ns, "CalendarProblem", deployment)) >= 6,
                timeout=60,
            )
            rounds = leader.sample("node_placeholder_last_round_timestamp_seconds")
            time.sleep(6)  # three more rounds at interval 2s: nothing is told again
            assert leader.sample("node_placeholder_last_round_timestamp_seconds") != rounds
            messages = event_messages(env.core, env.ns, "CalendarProblem", deployment)
            assert len(messages) == 6, messages
            for typo in calendar_problems.NEAR_MISSES:
                (message,) = [m for m in messages if repr(typo) in m]
                assert "did you mean `user: 3`?" in message and "calendar courses" in message
            assert event_messages(env.core, env.ns, "CalendarProblem") == messages
            assert leader.sample(GAUGE, calendar="courses", kind="unknown-pool") == 2
            assert leader.sample(GAUGE, calendar="courses", kind="near-miss") == 2
            assert leader.sample(GAUGE, calendar="courses", kind="bad-value") == 2
            assert standby.metrics() and not [k for k in standby.metrics() if k[0] == GAUGE]
            assert standby.sample("node_placeholder_calendar_target", pool="user") is None
            wait_for("6 webhook messages", lambda: len(hook.bodies) >= 6, timeout=30)
        finally:
            codes = [p.stop() for p in replicas]
    told = [line for line in leader.output().splitlines() if "calendar problem:" in line]
    assert len(told) == 6, leader.output()[-3000:]
    assert all("calendar=courses" in line and "suggestion=user: 3" in line for line in told)
    assert "calendar problem:" not in standby.output()
    for text in ("\n".join(told), "\n".join(messages), str(hook.bodies)):
        assert str(feed) not in text and webhook.SECRET_PATH not in text
        assert "Room: 101" not in text and "Old exam" not in text
    assert webhook.SECRET_PATH not in leader.output() + standby.output()
    assert len(hook.bodies) == 6 and all("did you mean" in b["text"] for b in hook.bodies)
    assert codes == [0, 0]
