"""Fixtures of the chart tests.

The render tests need only the helm binary (scripts/helm builds it on first use). The
cluster tests (test_chart_cluster.py) reuse the test-cluster fixtures of tests/cluster.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from testkit.helm import helm_binary

HERE = Path(__file__).resolve().parent

# The fixtures of tests/cluster: `kube_api` and `namespace` are re-exported as they are;
# `testcluster` is our own, because `scripts/testcluster up NAME` first takes down a running
# cluster of the same NAME (which tests/cluster's session fixture may be using in this very
# session). With NPS_TESTCLUSTER_KUBECONFIG both directories reuse one running cluster;
# otherwise the chart tests start their own, named "<NPS_TESTCLUSTER_NAME>-helm".
_CLUSTER_DIR = HERE.parent / "cluster"
if (_CLUSTER_DIR / "conftest.py").is_file():
    _spec = importlib.util.spec_from_file_location(
        "nps_cluster_fixtures", _CLUSTER_DIR / "conftest.py"
    )
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    kube_api = _module.kube_api
    namespace = _module.namespace

    from testkit import cluster

    @pytest.fixture(scope="session")
    def testcluster() -> Iterator[cluster.TestCluster]:
        name = os.environ.get("NPS_TESTCLUSTER_NAME", "nps-pytest") + "-helm"
        reuse = os.environ.get("NPS_TESTCLUSTER_KUBECONFIG")
        try:
            with cluster.session(name, ["--no-autoscaler"], reuse=reuse) as running:
                yield running
        except cluster.ClusterUnavailable as error:
            pytest.fail(str(error))


@pytest.fixture(scope="session")
def helm() -> str:
    """Path of the pinned helm binary; builds it on first use (a few minutes)."""
    try:
        return helm_binary()
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        pytest.fail(f"could not build helm with scripts/helm: {error}")
