"""Fixtures for tests against the real test control plane.

``testcluster`` (session): brings a cluster up once with ``scripts/testcluster up`` and
takes it down at the end of the session. With ``NPS_TESTCLUSTER_KUBECONFIG`` set it
reuses that running cluster instead and leaves it alone. The parameters of ``up``
come from the environment (``NPS_TESTCLUSTER_BOOT_DELAY`` and friends, see
``scripts/testcluster --help``); the fixture's object exposes them. Where the environment
names none, the session's nodes boot for 20 s and its empty nodes go after 30 s
(``SESSION_DEFAULTS``), not the script's 60 s and 1 m: the tests wait on both again and
again, and each takes its bounds from the cluster's values.

``kube_api`` (session): a ``kubernetes.client.ApiClient`` for that cluster.
``namespace`` (function): a fresh namespace per test, deleted afterwards.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from kubernetes import client

from testkit.cluster import (
    ClusterUnavailable,
    Namespace,
    TestCluster,
    create_namespace,
    delete_namespace,
    namespace_name_for,
    session,
)

# environment variable of scripts/testcluster -> (its flag, the test session's value)
SESSION_DEFAULTS = {
    "NPS_TESTCLUSTER_BOOT_DELAY": ("--boot-delay", "20s"),
    "NPS_TESTCLUSTER_SCALE_DOWN_UNNEEDED": ("--scale-down-unneeded", "30s"),
}


def session_up_args() -> list[str]:
    """The flags of ``up`` for the values the environment does not set itself."""
    return [
        arg
        for variable, (flag, value) in SESSION_DEFAULTS.items()
        if not os.environ.get(variable)
        for arg in (flag, value)
    ]


@pytest.fixture(scope="session")
def testcluster() -> Iterator[TestCluster]:
    name = os.environ.get("NPS_TESTCLUSTER_NAME", "nps-pytest")
    reuse = os.environ.get("NPS_TESTCLUSTER_KUBECONFIG")
    try:
        with session(name, session_up_args(), reuse=reuse) as cluster:
            yield cluster
    except ClusterUnavailable as error:
        pytest.fail(str(error))


@pytest.fixture(scope="session")
def kube_api(testcluster: TestCluster) -> Iterator[client.ApiClient]:
    api = testcluster.api_client()
    try:
        yield api
    finally:
        api.close()


@pytest.fixture
def namespace(kube_api: client.ApiClient, request: pytest.FixtureRequest) -> Iterator[Namespace]:
    ns = create_namespace(kube_api, namespace_name_for(request.node.nodeid))
    try:
        yield ns
    finally:
        delete_namespace(ns)
