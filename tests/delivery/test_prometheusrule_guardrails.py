"""The guardrail alert of the chart's PrometheusRule under promtool: a clipped or not-allowed
request in the plan fires it after a minute, per kind; other problem kinds do not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from testkit.promtool import NS, SEL, alert, rule_groups, run_promtool

pytestmark = [pytest.mark.delivery, pytest.mark.helm]

NAME = "NodePlaceholderRequestsLimited"


def problems(kind: str, values: str) -> dict[str, str]:
    return {"series": f'node_placeholder_problems{{{SEL}, kind="{kind}"}}', "values": values}


CASE: dict[str, Any] = {
    "interval": "1m",
    "input_series": [
        problems("clipped", "0x3 2x10 0x10"),
        problems("not-allowed", "0x8 2x10"),
        problems("clamped", "3x20"),  # maxReplicas: another alert's business
        problems("bad-value", "1x20"),
    ],
    "alert_rule_test": [
        alert(NAME, "3m"),
        alert(NAME, "5m", {"severity": "warning", "namespace": NS, "kind": "clipped"}),
        alert(
            NAME,
            "10m",
            {"severity": "warning", "namespace": NS, "kind": "clipped"},
            {"severity": "warning", "namespace": NS, "kind": "not-allowed"},
        ),
        alert(NAME, "16m", {"severity": "warning", "namespace": NS, "kind": "not-allowed"}),
    ],
}


def test_clipped_and_not_allowed_requests_alert(tmp_path: Path) -> None:
    proc = run_promtool(tmp_path, rule_groups(), [CASE])
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_wrong_expectation_fails(tmp_path: Path) -> None:
    wrong = dict(
        CASE,
        alert_rule_test=[
            alert(NAME, "3m", {"severity": "warning", "namespace": NS, "kind": "clipped"})
        ],
    )
    proc = run_promtool(tmp_path, rule_groups(), [wrong])
    assert proc.returncode != 0
    assert NAME in proc.stdout + proc.stderr
