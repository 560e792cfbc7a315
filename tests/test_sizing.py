"""sizing.py: placeholder requests from a node and its DaemonSet/static pods."""

from __future__ import annotations

from dataclasses import replace

import pytest

from node_placeholder_scaler.kube.objects import resources
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.sizing import parse_margin, pick_node, placeholder_size, render_values
from testkit.fakes import GI, node, pod

MI = 1024**2


def test_size_subtracts_daemonsets_static_pods_and_margin_and_takes_all_gpus():
    gpu_node = node("g1", cpu=8, memory_gi=64, gpu=2)
    pods = [
        replace(pod("ds", "g1", cpu=0.2, memory_gi=0.5), owner_kind="DaemonSet"),
        replace(pod("static", "g1", cpu=0.1), mirror=True),
        pod("student", "g1", cpu=4, memory_gi=30),  # not subtracted: it may move
    ]
    size = placeholder_size(gpu_node, pods, Resources(100, 256 * MI))
    assert size.requests == Resources(7600, 64 * GI - 512 * MI - 256 * MI, {"nvidia.com/gpu": 2})
    text = render_values("gpu", size)
    assert text.endswith(
        "pools:\n  gpu:\n    resources:\n      requests:\n        cpu: 7600m\n"
        '        memory: 64768Mi\n        nvidia.com/gpu: "2"\n'
    )
    assert "(2 pods)" in text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("256Mi", Resources(0, 256 * MI)),
        ("cpu=100m,memory=1Gi", Resources(100, GI)),
        ("", Resources(0, 256 * MI)),
    ],
)
def test_parse_margin(text, expected):
    assert parse_margin(text, resources) == expected


def test_parse_margin_rejects_other_resources():
    with pytest.raises(ValueError, match="unknown resource"):
        parse_margin("gpu=1", resources)


def test_pick_node():
    nodes = [node("a", memory_gi=16), node("b", memory_gi=32), node("c", memory_gi=64, ready=False)]
    default, named = pick_node(nodes, None), pick_node(nodes, "c")
    assert default is not None and default.name == "b"
    assert named is not None and named.name == "c"
    assert pick_node(nodes, "zz") is None
    assert pick_node([], None) is None
