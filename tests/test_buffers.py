"""backends/capacitybuffers.py and backends/buffer.py on CapacityBuffers recorded from the test
cluster (Karpenter v1.15), on two buffer pools of the fake cluster (testkit/buffer_pools.py).

tests/fixtures/capacitybuffers/*.json are real API objects (GET on the custom resource):
``new`` (just created, no status yet), ``karpenter-requires-new`` (Karpenter adding nodes for
it), ``karpenter-fits`` (all chunks on existing capacity), ``karpenter-empty`` (replicas 0) and
``karpenter-template-missing`` (its PodTemplate does not exist).
"""

from __future__ import annotations

import logging

import pytest
from prometheus_client import CollectorRegistry

from node_placeholder_scaler.backends.capacitybuffers import (
    BufferFormatError,
    buffer_state,
    metric_reason,
    parse_buffer,
)
from node_placeholder_scaler.config.settings import ConfigError, load_settings
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.reconcile import reconcile_once
from testkit.buffer_pools import SETTINGS, fake_with, plan, recorded, run, with_name
from testkit.fakes import T0


def test_parse_a_recorded_buffer_that_fits():
    buffer = parse_buffer(recorded("karpenter-fits"))
    assert buffer.pod_template == buffer.name
    assert buffer.strategy == "buffer.x-k8s.io/active-capacity"
    assert buffer.replicas == buffer.status_replicas and buffer.replicas
    state = buffer_state(buffer)
    assert state.problem is None
    assert state.conditions["ReadyForProvisioning"] == ("True", "Resolved")
    assert state.conditions["Provisioning"] == ("True", "FitsExistingCapacity")
    assert "Provisioning=True/FitsExistingCapacity" in state.log_fields()


def test_parse_recorded_states():
    requires = buffer_state(parse_buffer(recorded("karpenter-requires-new")))
    assert requires.conditions["Provisioning"] == ("False", "RequiresNewCapacity")
    assert requires.problem is None  # adding nodes is what we asked for
    empty = buffer_state(parse_buffer(recorded("karpenter-empty")))
    assert empty.conditions["Provisioning"] == ("False", "BufferEmpty")
    new = parse_buffer(recorded("new"))
    assert new.conditions == () and new.status_replicas is None
    assert buffer_state(new).problem is None  # not yet seen by the autoscaler: not an error


def test_a_missing_pod_template_is_a_problem():
    state = buffer_state(parse_buffer(recorded("karpenter-template-missing")))
    assert state.conditions["ReadyForProvisioning"] == ("False", "PodTemplateNotFound")
    assert state.problem is not None
    assert "is not ReadyForProvisioning (PodTemplateNotFound: " in state.problem


@pytest.mark.parametrize(
    "mutate",
    [
        lambda b: b.update(kind="Deployment"),
        lambda b: b.update(spec=[]),
        lambda b: b["spec"].update(replicas="3"),
        lambda b: b["spec"].update(replicas=True),
        lambda b: b["status"].update(conditions={"type": "x"}),
    ],
)
def test_unreadable_objects(mutate):
    body = recorded("karpenter-fits")
    mutate(body)
    with pytest.raises(BufferFormatError):
        parse_buffer(body)


def test_other_strategies_and_quotas_are_problems():
    body = recorded("karpenter-fits")
    body["spec"]["provisioningStrategy"] = "buffer.x-k8s.io/standby-capacity"
    assert "not 'buffer.x-k8s.io/active-capacity'" in str(buffer_state(parse_buffer(body)).problem)
    body = recorded("karpenter-fits")
    body["status"]["conditions"].append(
        {
            "type": "LimitedByQuotas",
            "status": "True",
            "reason": "ResourceQuotasAllocated",
            "message": "Buffer replicas limited from 4 to 2",
        }
    )
    problem = buffer_state(parse_buffer(body)).problem
    assert "LimitedByQuotas: Buffer replicas limited" in str(problem)


def test_reasons_are_bounded_metric_labels():
    assert metric_reason("RequiresNewCapacity") == "RequiresNewCapacity"
    assert metric_reason("ResourceQuotasAllocated") == "ResourceQuotasAllocated"
    assert metric_reason("Event: Data 8 in room 1") == "Other"
    assert metric_reason("") == "None"


def test_the_round_sets_replicas_to_the_calendar_target(caplog):
    fake = fake_with(("karpenter-empty", 0), ("karpenter-fits", None))
    caplog.set_level(logging.INFO)
    gpu_now = fake.buffers["buffer-gpu"]["spec"]["replicas"]
    decisions = run(fake, plan(user=3, gpu=gpu_now))
    user = decisions["user"]
    assert (user.action, user.desired, user.current, user.free) == ("scaled", 3, 0, None)
    assert decisions["gpu"].action == "unchanged"
    assert fake.scales == [("buffer-user", 3)]
    [(name, reason, message)] = fake.buffer_events
    assert (name, reason) == ("buffer-user", "BufferScaled")
    assert message.startswith(
        "Set CapacityBuffer replicas of pool user from 0 to 3 "
        "(calendar target 3) no active calendar event; buffer status: "
    )
    assert "Provisioning=False/BufferEmpty" in caplog.text
    assert "pool=user target=3 free=- desired=3 current=0" in caplog.text


def test_headroom_is_not_subtracted_and_no_node_or_pod_is_read():
    fake = fake_with(("karpenter-fits", 1), ("karpenter-fits", 0))
    run(fake, plan(user=2))
    assert fake.scales == [("buffer-user", 2)]
    assert {request for request, _ in fake.calls} == {
        "get capacitybuffer",
        "patch capacitybuffer",
        "create event",
    }


def test_dry_run_patches_nothing():
    fake = fake_with(("karpenter-empty", 0), ("karpenter-empty", 0))
    decisions = run(fake, plan(user=2), dry_run=True)
    assert decisions["user"].action == "would-scale"
    assert fake.scales == [] and fake.buffer_events == []


def test_a_missing_buffer_is_an_error_of_its_pool_only():
    fake = fake_with(("karpenter-empty", 0), None)
    decisions = run(fake, plan(user=1, gpu=1))
    assert decisions["gpu"].action == "error" and decisions["gpu"].stage == "buffer"
    assert "404" in str(decisions["gpu"].error)
    assert decisions["user"].action == "scaled"


def test_a_not_ready_buffer_is_scaled_reported_and_warned_once():
    broken = with_name(recorded("karpenter-template-missing"), "buffer-user", 0)
    fake = fake_with(("karpenter-empty", 0), ("karpenter-empty", 0))
    fake.buffers["buffer-user"] = broken
    first = run(fake, plan(user=2))["user"]
    assert first.action == "scaled" and first.stage == "buffer"
    assert "PodTemplateNotFound" in str(first.error)
    second = run(fake, plan(user=2))["user"]
    assert second.action == "unchanged" and second.error == first.error
    warnings = [e for e in fake.buffer_events if e[1] == "BufferNotReady"]
    assert len(warnings) == 1 and warnings[0][2].startswith("Pool user: CapacityBuffer ")


def test_a_failed_patch_and_a_failed_event():
    fake = fake_with(("karpenter-empty", 0), ("karpenter-empty", 0))
    fake.fail("patch capacitybuffer", "buffer-user", 403, "forbidden")
    fake.fail("create event", "buffer-gpu", 500, "etcd down")
    decisions = run(fake, plan(user=1, gpu=1))
    assert decisions["user"].action == "error" and decisions["user"].stage == "scale"
    assert decisions["gpu"].action == "scaled" and decisions["gpu"].event_error


def test_metrics_of_buffer_conditions():
    metrics = Metrics(CollectorRegistry())
    metrics.buffers.initialise(["user"])
    reg = metrics.registry

    def value(name: str, **labels: str) -> float | None:
        return reg.get_sample_value(f"node_placeholder_{name}", labels)

    assert value("buffer_condition", pool="user", condition="Provisioning") == -1
    fake = fake_with(("karpenter-requires-new", None), ("karpenter-empty", 0))
    target = fake.buffers["buffer-user"]["spec"]["replicas"]
    result = reconcile_once(fake, plan(user=target), SETTINGS, "node-placeholder")
    metrics.observe_round(result, 0.1, T0)
    assert value("buffer_condition", pool="user", condition="Provisioning") == 0
    assert value("buffer_condition", pool="user", condition="ReadyForProvisioning") == 1
    assert (
        value(
            "buffer_condition_reason",
            pool="user",
            condition="Provisioning",
            reason="RequiresNewCapacity",
        )
        == 1
    )
    assert (
        value("buffer_condition_reason", pool="user", condition="Provisioning", reason="None") == 0
    )
    assert value("buffer_status_replicas", pool="user") == target
    fake.buffers["buffer-user"] = with_name(recorded("karpenter-fits"), "buffer-user", target)
    metrics.observe_round(
        reconcile_once(fake, plan(user=target), SETTINGS, "node-placeholder"), 0.1, T0
    )
    assert (
        value(
            "buffer_condition_reason",
            pool="user",
            condition="Provisioning",
            reason="RequiresNewCapacity",
        )
        == 0
    )
    assert (
        value(
            "buffer_condition_reason",
            pool="user",
            condition="Provisioning",
            reason="FitsExistingCapacity",
        )
        == 1
    )


def test_settings_of_the_backend():
    assert SETTINGS.pools["user"].buffer == "buffer-user"
    assert SETTINGS.pools["gpu"].buffer == "buffer-gpu"
    plain = load_settings("calendars: [{url: x}]\npools: {user: {}}\n", "c.yaml", {})
    assert plain.pools["user"].backend == "placeholders"
    with pytest.raises(ConfigError, match=r"pools\.user\.backend: must be one of placeholders, "):
        load_settings("calendars: [{url: x}]\npools: {user: {backend: buffer}}\n", "c.yaml", {})
    with pytest.raises(ConfigError, match=r"pools\.user\.buffer: not a valid"):
        load_settings("calendars: [{url: x}]\npools: {user: {buffer: Big_Buffer}}\n", "c.yaml", {})


def test_the_event_names_the_capacitybuffer():
    from node_placeholder_scaler.kube.buffers import buffer_event

    buffer = parse_buffer(recorded("karpenter-fits"))
    body = buffer_event(buffer, "BufferNotReady", "x" * 2000, T0, warning=True)
    assert body["involvedObject"] == {
        "apiVersion": "autoscaling.x-k8s.io/v1beta1",
        "kind": "CapacityBuffer",
        "name": buffer.name,
        "namespace": buffer.namespace,
        "uid": buffer.uid,
    }
    assert body["type"] == "Warning" and len(body["message"]) == 1024
    assert body["metadata"] == {"generateName": f"{buffer.name}.", "namespace": buffer.namespace}
