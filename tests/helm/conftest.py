"""Fixtures of the chart tests.

The render tests need only the helm binary (scripts/helm builds it on first use). The
cluster tests (test_chart_cluster.py) reuse the test-cluster fixtures of tests/cluster.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from helm_helpers import helm_binary  # noqa: E402

# The session fixtures of tests/cluster (testcluster, kube_api, namespace), re-exported here.
# Note: when tests/cluster and tests/helm run in one session without
# NPS_TESTCLUSTER_KUBECONFIG, each directory gets its own session cluster; point
# NPS_TESTCLUSTER_KUBECONFIG at one running cluster to share it.
_CLUSTER_CONFTEST = HERE.parent / "cluster" / "conftest.py"
if _CLUSTER_CONFTEST.is_file():
    _spec = importlib.util.spec_from_file_location("nps_cluster_fixtures", _CLUSTER_CONFTEST)
    assert _spec is not None and _spec.loader is not None
    _module = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_module)
    testcluster = _module.testcluster
    kube_api = _module.kube_api
    namespace = _module.namespace


@pytest.fixture(scope="session")
def helm() -> str:
    """Path of the pinned helm binary; builds it on first use (a few minutes)."""
    try:
        return helm_binary()
    except (subprocess.CalledProcessError, FileNotFoundError) as error:
        pytest.fail(f"could not build helm with scripts/helm: {error}")
