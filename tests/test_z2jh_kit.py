"""The test kit's zero-to-jupyterhub pieces, without a cluster: the pod KubeSpawner builds from
z2jh's values (its own get_pod_manifest) and the z2jh objects' selectors and placement."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from testkit import z2jh
from testkit.z2jh_hub import HubInfo, User
from testkit.z2jh_students import SpawnerValues, kubespawner_config

# KubeSpawner reads a kubeconfig when it is created (it contacts no server to build a pod).
KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def pod_for(
    values: SpawnerValues, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, Any]:
    # JupyterHub's packages take seconds to import: only these tests (slow) pay for them.
    from kubernetes_asyncio.client import ApiClient
    from kubernetes_asyncio.config import kube_config
    from kubespawner import KubeSpawner
    from traitlets.config import Config

    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    monkeypatch.setattr(kube_config, "KUBE_CONFIG_DEFAULT_LOCATION", str(path))

    async def build() -> dict[str, Any]:
        spawner = KubeSpawner(
            config=Config({"KubeSpawner": kubespawner_config(values)}),
            user=User("alice", 1),
            hub=HubInfo(),
            api_token="t",
            oauth_client_id="c",
        )
        pod = await spawner.get_pod_manifest()
        result: dict[str, Any] = ApiClient().sanitize_for_serialization(pod)
        return result

    return asyncio.run(build())


@pytest.mark.slow  # imports JupyterHub and KubeSpawner (seconds on a loaded machine)
def test_kubespawner_builds_z2jhs_user_pod(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    values = SpawnerValues(
        namespace="jhub", cpu_guarantee=1.0, mem_guarantee="3G", node_selector={"pool": "a"}
    )
    pod = pod_for(values, tmp_path, monkeypatch)
    spec = pod["spec"]
    assert pod["metadata"]["name"] == "jupyter-alice"
    assert pod["metadata"]["labels"]["component"] == "singleuser-server"
    assert pod["metadata"]["labels"]["release"] == z2jh.RELEASE
    assert spec["schedulerName"] == "jhub-user-scheduler" == z2jh.user_scheduler()
    assert spec["priorityClassName"] == "jhub-default-priority"
    assert spec["tolerations"] == z2jh.USER_TOLERATIONS
    assert spec["affinity"] == {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": z2jh.USER_NODE_AFFINITY_PREFERRED
        }
    }
    assert spec["nodeSelector"] == {"pool": "a"}
    (container,) = spec["containers"]
    assert container["resources"]["requests"] == {"cpu": 1.0, "memory": 3 * 1024**3}
    assert "volumes" not in spec or not any("persistentVolumeClaim" in v for v in spec["volumes"])


@pytest.mark.slow  # imports JupyterHub and KubeSpawner (seconds on a loaded machine)
def test_without_the_user_scheduler_and_pod_priority_the_pod_names_neither(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = SpawnerValues(namespace="jhub", scheduler_name=None, priority_class=None)
    spec = pod_for(values, tmp_path, monkeypatch)["spec"]
    assert "schedulerName" not in spec and "priorityClassName" not in spec
    assert spec["containers"][0]["resources"]["requests"] == {"memory": 1024**3}


def test_the_user_scheduler_is_named_as_z2jh_names_it_for_the_release() -> None:
    assert z2jh.user_scheduler() == f"{z2jh.RELEASE}-user-scheduler"


def test_z2jh_objects_select_their_own_pods_and_place_them_like_user_pods() -> None:
    sts = z2jh.user_placeholder_statefulset(3, cpu="1", memory="3G", node_selector={"a": "b"})
    puller = z2jh.continuous_image_puller(node_selector={"a": "b"})
    pdb = z2jh.user_placeholder_pdb()
    for obj in (sts, puller):
        template = obj["spec"]["template"]
        assert (
            obj["spec"]["selector"]["matchLabels"].items() <= template["metadata"]["labels"].items()
        )
        assert template["spec"]["tolerations"] == z2jh.USER_TOLERATIONS
        assert template["spec"]["nodeSelector"] == {"a": "b"}
    assert pdb["spec"]["selector"]["matchLabels"] == sts["spec"]["selector"]["matchLabels"]
    placeholder = sts["spec"]["template"]["spec"]
    assert placeholder["schedulerName"] == z2jh.user_scheduler()
    assert placeholder["priorityClassName"] == z2jh.USER_PLACEHOLDER_PRIORITY_CLASS
    assert placeholder["containers"][0]["resources"]["requests"] == {"cpu": "1", "memory": "3G"}
    assert "schedulerName" not in puller["spec"]["template"]["spec"]
    values = {pc["metadata"]["name"]: pc["value"] for pc in z2jh.priority_classes(-9)}
    assert values == {
        "jhub-default-priority": 0,
        "jhub-image-puller-priority": -5,
        "jhub-user-placeholder-priority": -9,
    }
