"""The chart's PrometheusRule under promtool: the rule groups rendered by helm, alert
expectations, and ``promtool test rules`` on synthetic series (tests/delivery)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from testkit.helm import minimal_values, one, render

NS = "monitoring-test"
POD = "nps-node-placeholder-scaler-7d9f8c6b5-x2x4q"  # a controller pod, as any scrape labels it
SEL = f'job="any-scrape-job", namespace="{NS}", pod="{POD}"'


def promtool() -> str:
    path = shutil.which("promtool")
    if path is None:
        pytest.fail("promtool is not installed (Debian package prometheus; .ci/run installs it)")
    return path


def rule_groups(**overrides: Any) -> list[dict[str, Any]]:
    values = minimal_values(prometheusRule={"enabled": True, **overrides})
    docs = render(values, release="nps", namespace=NS)
    groups: list[dict[str, Any]] = one(docs, "PrometheusRule")["spec"]["groups"]
    return groups


def alert(name: str, at: str, *labels: dict[str, str]) -> dict[str, Any]:
    return {
        "eval_time": at,
        "alertname": name,
        "exp_alerts": [{"exp_labels": dict(lab)} for lab in labels],
    }


def with_annotations(
    groups: list[dict[str, Any]], cases: list[dict[str, Any]], value: str = "2"
) -> list[dict[str, Any]]:
    """promtool compares annotations too: expect each rule's, with its templates filled in."""
    rules = {r["alert"]: r for g in groups for r in g["rules"]}
    out = []
    for case in cases:
        tests = []
        for t in case["alert_rule_test"]:
            alerts = []
            for a in t["exp_alerts"]:
                notes = {}
                for key, template in rules[t["alertname"]]["annotations"].items():
                    text = template.replace("{{ $value }}", value)
                    for name, label in a["exp_labels"].items():
                        text = text.replace("{{ $labels." + name + " }}", label)
                    notes[key] = text
                alerts.append({**a, "exp_annotations": notes})
            tests.append({**t, "exp_alerts": alerts})
        out.append({**case, "alert_rule_test": tests})
    return out


def run_promtool(
    tmp_path: Path, groups: list[dict[str, Any]], cases: list[dict[str, Any]]
) -> subprocess.CompletedProcess[str]:
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump({"groups": groups}))
    (tmp_path / "tests.yaml").write_text(
        yaml.safe_dump(
            {
                "rule_files": ["rules.yaml"],
                "evaluation_interval": "1m",
                "tests": with_annotations(groups, cases),
            }
        )
    )
    return subprocess.run(
        [promtool(), "test", "rules", "tests.yaml"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
