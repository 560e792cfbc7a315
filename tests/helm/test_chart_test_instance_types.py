"""Render tests of ``tests.instanceTypes``: the helm test hook's `validate --cluster` gets the
instance types a pool's NodePools may launch (a ConfigMap of the release, not a hook),
in the file format ``validate --instance-types`` reads."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node_placeholder_scaler.kube.poolfacts import read_instance_types
from node_placeholder_scaler.observed import Resources
from testkit.helm import HelmError, find, minimal_values, one, render

pytestmark = pytest.mark.helm

FULLNAME = "nps-node-placeholder-scaler"
TYPES = [
    {"name": "m5.xlarge", "resources": {"cpu": "4", "memory": "16Gi", "pods": 58}},
    # The kwok provider's other keys are accepted (and not used).
    {
        "name": "g5.2xlarge",
        "architecture": "amd64",
        "resources": {"cpu": 8, "memory": "32Gi", "nvidia.com/gpu": "1"},
    },
]


def test_the_test_pod_reads_the_instance_types_from_a_configmap_of_the_release(
    helm: str, tmp_path: Path
) -> None:
    docs = render(minimal_values(tests={"instanceTypes": TYPES}))
    pod = one(docs, "Pod")
    args = pod["spec"]["containers"][0]["args"]
    path = "/etc/node-placeholder-scaler-test/instance-types.json"
    assert args[-3:] == ["--cluster", "--instance-types", path]
    [mount] = [
        m for m in pod["spec"]["containers"][0]["volumeMounts"] if m["name"] == "instance-types"
    ]
    assert mount == {
        "name": "instance-types",
        "mountPath": str(Path(path).parent),
        "readOnly": True,
    }
    [volume] = [v for v in pod["spec"]["volumes"] if v["name"] == "instance-types"]
    configmap = one(docs, "ConfigMap", f"{FULLNAME}-test-instance-types")
    assert volume["configMap"] == {"name": configmap["metadata"]["name"]}
    # Not a test hook: `helm test --logs` fetches the pod logs of every test hook by name.
    assert "helm.sh/hook" not in configmap["metadata"].get("annotations", {})
    # What the Pod reads: the file validate --instance-types accepts, amounts as given.
    (tmp_path / "types.json").write_text(configmap["data"]["instance-types.json"])
    read = read_instance_types(str(tmp_path / "types.json"))
    assert [t.name for t in read] == ["m5.xlarge", "g5.2xlarge"]
    assert read[0].resources == Resources(4000, 16 * 2**30)  # pods: not a request
    assert read[1].resources == Resources(8000, 32 * 2**30, {"nvidia.com/gpu": 1})
    assert json.loads(configmap["data"]["instance-types.json"]) == TYPES


def test_no_instance_types_or_no_cluster_part_renders_no_configmap(helm: str) -> None:
    for tests in ({}, {"instanceTypes": TYPES, "cluster": False}):
        docs = render(minimal_values(tests=tests))
        assert find(docs, "ConfigMap", f"{FULLNAME}-test-instance-types") == []
        pod = one(docs, "Pod")
        assert "--instance-types" not in pod["spec"]["containers"][0]["args"]
        assert "instance-types" not in {v["name"] for v in pod["spec"]["volumes"]}


@pytest.mark.parametrize(
    ("entry", "said"),
    [
        ({"name": "m5.xlarge"}, "missing property 'resources'"),
        (
            {"name": "m5.xlarge", "resources": {"cpu": "4"}, "cpus": 4},
            "additional properties 'cpus'",
        ),
    ],
)
def test_a_malformed_instance_type_is_refused_at_render(
    helm: str, entry: dict[str, object], said: str
) -> None:
    with pytest.raises(HelmError) as refused:
        render(minimal_values(tests={"instanceTypes": [entry]}))
    assert "/tests/instanceTypes/0" in str(refused.value) and said in str(refused.value)
