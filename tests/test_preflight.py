"""preflight/cluster.py: autoscaler detection and the findings of validate --cluster, on plain
facts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from node_placeholder_scaler.backends.capacitybuffers import parse_buffer
from node_placeholder_scaler.clusterfacts import (
    NeverPreempts,
    PlaceholderFacts,
    PoolFacts,
    Signs,
    Workload,
)
from node_placeholder_scaler.preflight.autoscalers import AutoscalerSeen, detect
from node_placeholder_scaler.preflight.cluster import ClusterFacts, judge

BUFFERS = Path(__file__).parent / "fixtures" / "capacitybuffers"
CA = AutoscalerSeen("cluster-autoscaler", ("Deployment kube-system/cluster-autoscaler",))
KARPENTER = AutoscalerSeen("karpenter", ("2 Karpenter NodePool(s)",))
GOOD_PH = PlaceholderFacts(
    "placeholder-user", True, "nps-placeholder", -10, (("karpenter.sh/do-not-disrupt", "true"),)
)


def facts(*pools: PoolFacts, autoscalers=(CA,), buffer_api=True, never=()) -> ClusterFacts:
    return ClusterFacts("nps", buffer_api, tuple(autoscalers), pools, tuple(never))


def user(ph: PlaceholderFacts = GOOD_PH) -> PoolFacts:
    return PoolFacts("user", "placeholders", ph)


def buffer_pool(fixture: str | None) -> PoolFacts:
    buffer = parse_buffer(json.loads((BUFFERS / fixture).read_text())) if fixture else None
    return PoolFacts("gpu", "capacityBuffer", buffer_name="buffer-gpu", buffer=buffer)


def workload(name: str, image: str, labels=(), args=(), env=()) -> Workload:
    return Workload(name, tuple(labels), (image,), tuple(args), tuple(env))


def test_detects_cluster_autoscaler_by_image_and_reads_its_cutoff():
    ca = workload(
        "kube-system/ca",
        "registry.k8s.io/autoscaling/cluster-autoscaler:v1.34.0",
        args=["./cluster-autoscaler", "--expendable-pods-priority-cutoff=-20"],
    )
    seen = detect([ca, workload("web/app", "nginx:1")], Signs())
    assert [s.kind for s in seen] == ["cluster-autoscaler"]
    assert seen[0].cutoff() == -20
    assert seen[0].evidence == ("Deployment kube-system/ca",)


def test_detects_karpenter_by_label_lease_or_nodepools():
    by_label = workload(
        "karpenter/karpenter",
        "public.ecr.aws/karpenter/controller:1.15.0",
        labels=[("app.kubernetes.io/name", "karpenter")],
    )
    assert [s.kind for s in detect([by_label], Signs())] == ["karpenter"]
    seen = detect([], Signs(leases=("karpenter-leader-election",), nodepools=2))
    assert seen[0].evidence == (
        "Lease kube-system/karpenter-leader-election",
        "2 Karpenter NodePool(s)",
    )


def test_detects_a_managed_cluster_autoscaler_by_its_status_configmap():
    seen = detect([], Signs(ca_status=True))
    assert seen[0].kind == "cluster-autoscaler" and seen[0].cutoff() == -10


def test_nothing_found_is_a_warning():
    assert detect([workload("web/app", "nginx:1")], Signs()) == ()
    [finding] = judge(facts(user(), autoscalers=()))
    assert finding.severity == "warning" and "no autoscaler found" in finding.problem


def test_a_correct_install_has_no_findings():
    assert judge(facts(user(), autoscalers=(CA,))) == []
    assert judge(facts(user(), autoscalers=(KARPENTER,))) == []
    assert judge(facts(buffer_pool("karpenter-fits.json"), autoscalers=(KARPENTER,))) == []


def test_placeholders_below_the_ca_cutoff():
    ph = PlaceholderFacts("placeholder-user", True, "too-low", -20)
    [finding] = judge(facts(user(ph), autoscalers=(CA,)))
    assert finding.severity == "error"
    assert finding.subject == "PriorityClass too-low (value -20, pool user)"
    assert "expendable cutoff (-10)" in finding.problem and ">= -10" in finding.fix


def test_karpenter_has_no_cutoff_but_wants_do_not_disrupt():
    ph = PlaceholderFacts("placeholder-user", True, "too-low", -20)
    [finding] = judge(facts(user(ph), autoscalers=(KARPENTER,)))
    assert finding.severity == "warning"
    assert "karpenter.sh/do-not-disrupt" in finding.problem
    assert finding.fix == 'set pools.user.podAnnotations: {karpenter.sh/do-not-disrupt: "true"}'


@pytest.mark.parametrize(
    ("ph", "words"),
    [
        (PlaceholderFacts("placeholder-user", False), "not found"),
        (PlaceholderFacts("placeholder-user", True, None), "no priorityClassName"),
        (PlaceholderFacts("placeholder-user", True, "gone", None), "PriorityClass gone not found"),
        (PlaceholderFacts("placeholder-user", True, "high", 0), "not below user pods"),
    ],
)
def test_placeholder_errors(ph: PlaceholderFacts, words: str):
    found = judge(facts(user(ph)))
    assert found[0].severity == "error" and words in found[0].problem
    assert found[0].fix


def test_buffer_pool_without_the_crd():
    [finding] = judge(facts(buffer_pool(None), buffer_api=False))
    assert finding.subject == "CRD capacitybuffers.autoscaling.x-k8s.io"
    assert "v1beta1 is not served" in finding.problem


def test_buffer_missing_or_not_ready():
    [missing] = judge(facts(buffer_pool(None), autoscalers=(KARPENTER,)))
    assert missing.subject == "CapacityBuffer nps/buffer-gpu (pool gpu)"
    assert missing.problem == "not found"
    [broken] = judge(
        facts(buffer_pool("karpenter-template-missing.json"), autoscalers=(KARPENTER,))
    )
    assert "not ReadyForProvisioning (PodTemplateNotFound" in broken.problem


def test_buffer_nobody_works_on():
    [finding] = judge(facts(buffer_pool("new.json"), autoscalers=(KARPENTER,)))
    assert "no autoscaler works on it" in finding.problem
    assert "FEATURE_GATES=CapacityBuffer=true" in finding.fix


def test_autoscaler_deployment_with_buffers_off():
    off = AutoscalerSeen(
        "cluster-autoscaler", ("Deployment kube-system/ca",), args=("./cluster-autoscaler", "--v=2")
    )
    on = AutoscalerSeen(
        "cluster-autoscaler",
        ("Deployment kube-system/ca",),
        args=(
            "--capacity-buffer-controller-enabled=true",
            "--capacity-buffer-pod-injection-enabled",
        ),
    )
    pool = buffer_pool("karpenter-fits.json")
    [finding] = judge(facts(pool, autoscalers=(off,)))
    assert "without CapacityBuffer support" in finding.problem
    assert judge(facts(pool, autoscalers=(on,))) == []
    gate_off = AutoscalerSeen(
        "karpenter",
        ("Deployment karpenter/karpenter",),
        env=(("FEATURE_GATES", "NodeRepair=true"),),
    )
    [finding] = judge(facts(pool, autoscalers=(gate_off,)))
    assert "without its CapacityBuffer gate" in finding.problem


def test_preemption_policy_never_matters_for_placeholder_pools_only():
    never = [NeverPreempts(f"users/jupyter-{i}", "no-preempt") for i in range(7)]
    [finding] = judge(facts(user(), never=never))
    assert finding.severity == "warning"
    assert finding.subject == (
        "pods users/jupyter-0, users/jupyter-1, users/jupyter-2, "
        "users/jupyter-3, users/jupyter-4 and 2 more"
    )
    assert "PriorityClass no-preempt" in finding.problem
    assert (
        judge(facts(buffer_pool("karpenter-fits.json"), autoscalers=(KARPENTER,), never=never))
        == []
    )


def test_errors_come_first():
    ph = PlaceholderFacts("placeholder-user", False)
    found = judge(facts(user(ph), autoscalers=(CA, KARPENTER)))
    assert [f.severity for f in found] == ["error", "warning"]


def test_refused_reads_are_one_not_checked_finding_and_no_false_alarm():
    """A ServiceAccount without the preflight ClusterRole: the autoscaler and the
    PriorityClass are not checked (no "no autoscaler" warning, no "not found" error)."""
    refused = (
        "list deployments",
        "get lease kube-system/cluster-autoscaler",
        "get priorityclass nps-placeholder",
    )
    ph = PlaceholderFacts("placeholder-user", True, "nps-placeholder", None, priority_read=False)
    found = judge(ClusterFacts("nps", True, (), (user(ph),), unreadable=refused))
    assert [(f.severity, f.subject) for f in found] == [("not-checked", "cluster")]
    assert found[0].problem == (
        "not checked: the cluster refused list deployments; get lease "
        "kube-system/cluster-autoscaler; get priorityclass "
        "nps-placeholder"
    )
    assert "preflight.clusterRole: true" in found[0].fix


def test_errors_then_warnings_then_not_checked():
    found = judge(
        ClusterFacts(
            "nps", True, (), (user(PlaceholderFacts("p", False)),), unreadable=("list nodes",)
        )
    )
    assert [f.severity for f in found] == ["error", "warning", "not-checked"]
