"""The command line from a laptop, against a cluster with the chart's ConfigMap: no --config,
no variable, no default file; `-n` names the release's namespace and the commands read its
configuration from the ConfigMap (its feed addresses are not needed: report and validate
--cluster read no feed here)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.cluster

CONFIG = """\
calendars:
  - {name: courses, urlFromEnv: NPS_CAL_COURSES}
pools:
  user:
    nodeSelector: {hub.jupyter.org/pool-name: user-pool}
"""
LABELS = {
    "app.kubernetes.io/name": "node-placeholder-scaler",
    "app.kubernetes.io/instance": "nps",
    "app.kubernetes.io/component": "controller",
}


def cli(kubeconfig: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("NODE_PLACEHOLDER_SCALER_CONFIG", "KUBECONFIG", "NPS_CAL_COURSES")
    }
    return subprocess.run(
        [sys.executable, "-m", "node_placeholder_scaler", *args, "--kubeconfig", str(kubeconfig)],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )


@pytest.fixture
def release(namespace):
    namespace.core.create_namespaced_config_map(
        namespace.name,
        {
            "metadata": {"name": "nps-node-placeholder-scaler", "labels": LABELS},
            "data": {"config.yaml": CONFIG},
        },
    )
    return namespace


def test_report_reads_the_release_config(testcluster, release):
    result = cli(testcluster.kubeconfig, "report", "-n", release.name, "-o", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"namespace": release.name, "reports": []}
    table = cli(testcluster.kubeconfig, "report", "-n", release.name)
    assert table.stdout.strip() == f"no event reports in {release.name}"


def test_validate_cluster_reads_the_release_config(testcluster, release):
    """No placeholder Deployment in the namespace: an error finding naming it (exit 1)."""
    result = cli(testcluster.kubeconfig, "validate", "--cluster", "-n", release.name)
    assert result.returncode == 1, result.stderr
    assert f"cluster: namespace {release.name};" in result.stdout
    assert f"Deployment {release.name}/placeholder-user (pool user)" in result.stdout


def test_no_release_in_the_namespace_is_one_clear_line(testcluster, namespace):
    result = cli(testcluster.kubeconfig, "report", "-n", namespace.name)
    assert result.returncode == 2
    assert result.stderr.startswith("error: bad configuration: ")
    assert f"no release of the chart in namespace {namespace.name}" in result.stderr
