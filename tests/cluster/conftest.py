"""Fixtures for tests against the real test control plane.

``testcluster`` (session): brings a cluster up once with ``scripts/testcluster up`` and
takes it down at the end of the session. With ``NPS_TESTCLUSTER_KUBECONFIG`` set it
reuses that running cluster instead and leaves it alone. The parameters of ``up``
come from the environment (``NPS_TESTCLUSTER_BOOT_DELAY`` and friends, see
``scripts/testcluster --help``); the fixture's object exposes them.

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


@pytest.fixture(scope="session")
def testcluster() -> Iterator[TestCluster]:
    name = os.environ.get("NPS_TESTCLUSTER_NAME", "nps-pytest")
    try:
        with session(name, reuse=os.environ.get("NPS_TESTCLUSTER_KUBECONFIG")) as cluster:
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
