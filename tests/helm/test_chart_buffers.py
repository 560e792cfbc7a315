"""Render tests of a buffer pool (pools.<pool>.backend: capacityBuffer)."""

from __future__ import annotations

import pytest

from testkit.helm import HelmError, config_of, find, minimal_values, one, render

pytestmark = pytest.mark.helm

GPU = {
    "backend": "capacityBuffer",
    "nodeSelector": {"hub.jupyter.org/pool-name": "gpu-pool"},
    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
    "affinity": {
        "nodeAffinity": {
            "preferredDuringSchedulingIgnoredDuringExecution": [
                {
                    "weight": 1,
                    "preference": {
                        "matchExpressions": [{"key": "zone", "operator": "In", "values": ["a"]}]
                    },
                }
            ]
        }
    },
    "podLabels": {"team": "ml"},
    "resources": {"requests": {"cpu": "7", "memory": "60Gi", "nvidia.com/gpu": 2}},
}


def values(**gpu: object) -> dict[str, object]:
    base = minimal_values()
    base["pools"]["gpu"] = {**GPU, **gpu}
    return base


def test_a_buffer_pool_renders_a_capacitybuffer_and_a_node_sized_podtemplate() -> None:
    docs = render(values())
    buffer = one(docs, "CapacityBuffer", "buffer-gpu")
    assert buffer["apiVersion"] == "autoscaling.x-k8s.io/v1beta1"
    assert buffer["spec"]["provisioningStrategy"] == "buffer.x-k8s.io/active-capacity"
    assert buffer["spec"]["podTemplateRef"] == {"name": "buffer-gpu"}
    template = one(docs, "PodTemplate", "buffer-gpu")["template"]
    spec = template["spec"]
    assert spec["nodeSelector"] == GPU["nodeSelector"]
    assert spec["tolerations"] == GPU["tolerations"]
    assert spec["affinity"] == GPU["affinity"]
    [container] = spec["containers"]
    assert container["resources"] == {
        "requests": {"cpu": "7", "memory": "60Gi", "nvidia.com/gpu": 2},
        "limits": {"nvidia.com/gpu": 2},  # an extended resource needs its limit
    }
    assert template["metadata"]["labels"]["team"] == "ml"
    # the same size as a placeholder of the pool would have
    placeholder = render(values(backend="placeholders"))
    deployment = one(placeholder, "Deployment", "placeholder-gpu")
    pause = deployment["spec"]["template"]["spec"]["containers"][0]
    assert pause["resources"] == container["resources"]
    assert pause["image"] == container["image"]


def test_no_placeholders_for_a_buffer_pool_and_rbac_names_only_its_buffer() -> None:
    docs = render(values())
    assert find(docs, "Deployment", "placeholder-gpu") == []
    assert one(docs, "Deployment", "placeholder-user")
    role = one(docs, "Role", "nps-node-placeholder-scaler-buffers")
    assert role["rules"] == [
        {
            "apiGroups": ["autoscaling.x-k8s.io"],
            "resources": ["capacitybuffers"],
            "resourceNames": ["buffer-gpu"],
            "verbs": ["get", "patch"],
        }
    ]
    main = one(docs, "Role", "nps-node-placeholder-scaler")
    names = [n for rule in main["rules"] for n in rule.get("resourceNames", [])]
    assert "placeholder-gpu" not in names and "placeholder-user" in names
    binding = one(docs, "RoleBinding", "nps-node-placeholder-scaler-buffers")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    pools = config_of(docs)["pools"]
    assert pools["gpu"]["backend"] == "capacityBuffer" and pools["gpu"]["buffer"] == "buffer-gpu"
    assert "backend" not in pools["user"]


def test_a_buffer_pool_may_keep_its_event_reports() -> None:
    """The reports of a buffer pool live in a ConfigMap named like a placeholder pool's
    (<deployment>-reports): the controller may get and update it, also with buffer pools only."""
    only_buffers = values()
    only_buffers["pools"] = {"gpu": GPU}
    for docs in (render(values()), render(only_buffers)):
        main = one(docs, "Role", "nps-node-placeholder-scaler")
        [rule] = [
            r for r in main["rules"] if r["resources"] == ["configmaps"] and "resourceNames" in r
        ]
        assert "placeholder-gpu-reports" in rule["resourceNames"]
        assert rule["verbs"] == ["get", "update"]


def test_without_buffer_pools_nothing_of_it_renders() -> None:
    docs = render(minimal_values())
    assert find(docs, "CapacityBuffer") == [] and find(docs, "PodTemplate") == []
    assert find(docs, "Role", "nps-node-placeholder-scaler-buffers") == []


def test_offline_render_leaves_replicas_to_the_controller() -> None:
    """helm template (as Argo CD renders): no replicas, empty limits (zero chunks)."""
    buffer = one(render(values(buffer="gpu-warm")), "CapacityBuffer", "gpu-warm")
    assert "replicas" not in buffer["spec"]
    assert buffer["spec"]["limits"] == {}


@pytest.mark.parametrize(
    ("gpu", "words"),
    [
        ({"buffer": "GPU_Buffer"}, "does not match"),
        ({"backend": "standby"}, "backend"),
        ({"resources": {}}, "resources.requests is required"),
    ],
)
def test_bad_buffer_values_are_refused(gpu: dict[str, object], words: str) -> None:
    with pytest.raises(HelmError, match=words):
        render(values(**gpu))
