"""The chart's PrometheusRule: rendered by helm, checked and unit-tested by promtool.

The rule groups come from `helm template` with prometheusRule.enabled (so the tests see what a
user's Prometheus loads, with the release's namespace and pod names filled in);
`promtool test rules` runs each alert against synthetic series, firing and not firing. A
deliberately wrong expectation must make promtool fail, so the run proves it evaluated the rules.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from testkit.promtool import NS, SEL, alert, promtool, rule_groups, run_promtool

pytestmark = [pytest.mark.delivery, pytest.mark.helm]

CASES: list[dict[str, Any]] = [
    {  # scraped, then down: fires after controllerDownFor (5m)
        "interval": "1m",
        "input_series": [{"series": f"up{{{SEL}}}", "values": "1x4 0x20"}],
        "alert_rule_test": [
            alert("NodePlaceholderControllerDown", "4m"),
            alert("NodePlaceholderControllerDown", "8m"),
            alert("NodePlaceholderControllerDown", "11m", {"severity": "critical"}),
        ],
    },
    {  # never scraped at all (no `up` series): down as well
        "interval": "1m",
        "input_series": [{"series": 'up{job="other", namespace="x"}', "values": "1x20"}],
        "alert_rule_test": [alert("NodePlaceholderControllerDown", "6m", {"severity": "critical"})],
    },
    {  # a feed loses its usable copy (older than maxStaleness): fires after feedStaleFor (10m)
        "interval": "1m",
        "input_series": [
            {
                "series": f'node_placeholder_feed_up{{{SEL}, calendar="courses"}}',
                "values": "1x5 0x20",
            },
            {"series": f'node_placeholder_feed_up{{{SEL}, calendar="exams"}}', "values": "1x25"},
        ],
        "alert_rule_test": [
            alert("NodePlaceholderFeedStale", "10m"),
            alert(
                "NodePlaceholderFeedStale",
                "16m",
                {"severity": "warning", "namespace": NS, "calendar": "courses"},
            ),
        ],
    },
    {  # one failed scale patch: fires while it is within errorWindow (15m)
        "interval": "1m",
        "input_series": [
            {
                "series": f'node_placeholder_errors_total{{{SEL}, stage="scale", pool="user"}}',
                "values": "0x5 1x30",
            },
        ],
        "alert_rule_test": [
            alert("NodePlaceholderScaleErrors", "4m"),
            alert(
                "NodePlaceholderScaleErrors",
                "8m",
                {"severity": "warning", "namespace": NS, "stage": "scale", "pool": "user"},
            ),
            alert("NodePlaceholderScaleErrors", "30m"),
        ],
    },
    {  # placeholders pending for the whole lead time (15m) during an event: not warm in time;
        # pending placeholders outside events (gpu) are no alert
        "interval": "1m",
        "input_series": [
            {
                "series": f'node_placeholder_pending_placeholders{{{SEL}, pool="user"}}',
                "values": "0x2 2x30",
            },
            {
                "series": f'node_placeholder_active_events{{{SEL}, pool="user"}}',
                "values": "0x2 1x30",
            },
            {
                "series": f'node_placeholder_pending_placeholders{{{SEL}, pool="gpu"}}',
                "values": "1x30",
            },
            {"series": f'node_placeholder_active_events{{{SEL}, pool="gpu"}}', "values": "0x30"},
        ],
        "alert_rule_test": [
            alert("NodePlaceholderNotReadyByEventStart", "10m"),
            alert(
                "NodePlaceholderNotReadyByEventStart",
                "20m",
                {"severity": "warning", "namespace": NS, "pool": "user"},
            ),
        ],
    },
    {  # an upcoming near miss (kind unknown-pool) in calendar courses: fires after 10m and
        # clears once the line is fixed; zeros (the other kinds) never fire
        "interval": "1m",
        "input_series": [
            {
                "series": f'node_placeholder_upcoming_problems{{{SEL}, calendar="courses", '
                'kind="unknown-pool"}',
                "values": "0x2 2x20 0x10",
            },
            {
                "series": f'node_placeholder_upcoming_problems{{{SEL}, calendar="courses", '
                'kind="bad-lead"}',
                "values": "0x35",
            },
        ],
        "alert_rule_test": [
            alert("NodePlaceholderCalendarProblem", "8m"),
            alert(
                "NodePlaceholderCalendarProblem",
                "14m",
                {
                    "severity": "warning",
                    "namespace": NS,
                    "calendar": "courses",
                    "kind": "unknown-pool",
                },
            ),
            alert("NodePlaceholderCalendarProblem", "30m"),
        ],
    },
]


def test_rendered_rules_pass_promtool_check(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": rule_groups()}))
    proc = subprocess.run(
        [promtool(), "check", "rules", str(tmp_path / "rules.yaml")],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS: 6 rules found" in proc.stdout


def test_alerts_fire_when_they_should_and_not_before(tmp_path: Path) -> None:
    proc = run_promtool(tmp_path, rule_groups(), CASES)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_wrong_expectation_fails_so_promtool_really_evaluated(tmp_path: Path) -> None:
    wrong = [
        dict(
            CASES[2],
            alert_rule_test=[
                alert(
                    "NodePlaceholderFeedStale",
                    "10m",
                    {"severity": "warning", "namespace": NS, "calendar": "courses"},
                )
            ],
        )
    ]
    proc = run_promtool(tmp_path, rule_groups(), wrong)
    assert proc.returncode != 0
    assert "NodePlaceholderFeedStale" in proc.stdout + proc.stderr


def test_windows_come_from_the_values(tmp_path: Path) -> None:
    """feedStale.for 2m: the stale feed alerts 8 minutes sooner than with the default."""
    groups = rule_groups(
        alerts={"feedStale": {"enabled": True, "severity": "warning", "for": "2m"}}
    )
    case = dict(
        CASES[2],
        alert_rule_test=[
            alert(
                "NodePlaceholderFeedStale",
                "8m",
                {"severity": "warning", "namespace": NS, "calendar": "courses"},
            ),
        ],
    )
    proc = run_promtool(tmp_path, groups, [case])
    assert proc.returncode == 0, proc.stdout + proc.stderr
