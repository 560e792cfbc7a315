"""Fixtures of the delivery tests: the image built for real, a cluster with a real node.

``image`` (session): builds the Dockerfile with ``scripts/image build`` (Debian's Docker Engine,
a locally made base where Docker Hub cannot be reached) and yields the tag and a docker client.
The engine is started for the session and stopped afterwards when the fixture started it.
``NPS_IMAGE_TAG`` names the tag (default ``node-placeholder-scaler:test``).

``node_cluster`` (session): ``scripts/testcluster up --real-node`` (its own cluster, name
``NPS_DELIVERY_CLUSTER_NAME``, default ``nps-delivery-pytest``), taken down at the end; with
``NPS_DELIVERY_KUBECONFIG`` it reuses a running one and leaves it alone.
``node_image`` (session): the built image, loaded into the real node's containerd.
``calendars`` (session): an HTTP server for .ics feeds on the host end of the node's link.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from testkit.cluster import ClusterUnavailable, TestCluster, session
from testkit.delivery import CalendarServer, Image, script


@pytest.fixture(scope="session")
def image() -> Iterator[Image]:
    started = script("start") == "started"
    try:
        tag = os.environ.get("NPS_IMAGE_TAG", "node-placeholder-scaler:test")
        script("build", "--tag", tag)
        yield Image(tag=tag)
    finally:
        if started:
            script("stop")


@pytest.fixture(scope="session")
def node_cluster() -> Iterator[TestCluster]:
    name = os.environ.get("NPS_DELIVERY_CLUSTER_NAME", "nps-delivery-pytest")
    reuse = os.environ.get("NPS_DELIVERY_KUBECONFIG")
    try:
        with session(name, ["--real-node", "--boot-delay", "20s"], reuse=reuse) as cluster:
            if reuse:
                assert cluster.params.get("REAL_NODE"), f"{reuse}: not a cluster with a real node"
            yield cluster
    except ClusterUnavailable as error:
        pytest.fail(f"the real-node cluster: {error}")


@pytest.fixture(scope="session")
def node_image(
    image: Image, node_cluster: TestCluster, tmp_path_factory: pytest.TempPathFactory
) -> str:
    """The image in the node's containerd, as `docker save | ctr images import` puts it."""
    archive = tmp_path_factory.mktemp("image") / "image.tar"
    image.docker("save", "-o", str(archive), image.tag, timeout=300)
    subprocess.run(
        [
            "ctr",
            "--address",
            node_cluster.params["REAL_NODE_CONTAINERD"],
            "-n",
            "k8s.io",
            "images",
            "import",
            str(archive),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    archive.unlink()
    return image.tag


@pytest.fixture(scope="session")
def calendars(node_cluster: TestCluster) -> Iterator[CalendarServer]:
    server = CalendarServer(node_cluster.params["REAL_NODE_HOST_IP"])
    try:
        yield server
    finally:
        server.close()
