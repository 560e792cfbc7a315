"""values.schema.json: a typo or a wrong type fails `helm template`/`install` with a message
that names the key (additionalProperties: false at every level of our own values)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from testkit.helm import CHART, HelmError, minimal_values, render

pytestmark = pytest.mark.helm


def with_pool(**pool: Any) -> dict[str, Any]:
    values = minimal_values()
    values["pools"]["user"].update(pool)
    return values


def with_calendar(**calendar: Any) -> dict[str, Any]:
    values = minimal_values()
    values["calendars"][0].update(calendar)
    return values


TYPOS = {
    "pool instead of pools": ({**minimal_values(), "pool": {"user": {}}}, "'pool' not allowed"),
    "nodeSelecter": (with_pool(nodeSelecter={"a": "b"}), "'nodeSelecter' not allowed"),
    "maxReplica": (with_pool(maxReplica=3), "'maxReplica' not allowed"),
    "requets": (with_pool(resources={"requets": {"cpu": "1"}}), "'requets' not allowed"),
    "prePuller.image": (with_pool(prePuller={"image": ["x"]}), "'image' not allowed"),
    "calendar URL": (with_calendar(URL="https://x"), "'URL' not allowed"),
    "config.leadtime": (minimal_values(config={"leadtime": "5m"}), "'leadtime' not allowed"),
    "headroom.stratgy": (
        minimal_values(config={"headroom": {"stratgy": "cpu"}}),
        "'stratgy' not allowed",
    ),
    "controler": (minimal_values(controler={}), "'controler' not allowed"),
    "serviceMonitor.enable": (
        minimal_values(serviceMonitor={"enable": True}),
        "'enable' not allowed",
    ),
    "priorityClass.valu": (minimal_values(priorityClass={"valu": -5}), "'valu' not allowed"),
    "prePuller.priorityclass": (
        minimal_values(prePuller={"priorityclass": {}}),
        "'priorityclass' not allowed",
    ),
    "image.tags": (minimal_values(image={"tags": "1"}), "'tags' not allowed"),
    "grafanaDashboard.label": (
        minimal_values(grafanaDashboard={"label": {}}),
        "'label' not allowed",
    ),
    "existingSecret.keys": (
        {**minimal_values(), "calendars": [{"existingSecret": {"name": "s", "keys": "k"}}]},
        "'keys' not allowed",
    ),
}

WRONG_VALUES = {
    "overlap avg": (minimal_values(config={"overlap": "avg"}), "/config/overlap"),
    "bad duration": (minimal_values(config={"leadTime": "15 minutes"}), "/config/leadTime"),
    "pool lead time": (with_pool(leadTime="1y"), "/pools/user/leadTime"),
    "negative minReplicas": (with_pool(minReplicas=-1), "/pools/user/minReplicas"),
    "text maxReplicas": (with_pool(maxReplicas="ten"), "/pools/user/maxReplicas"),
    "numeric nodeSelector value": (
        with_pool(nodeSelector={"gpu-count": 4}),
        "/pools/user/nodeSelector/gpu-count",
    ),
    "bad quantity": (
        with_pool(resources={"requests": {"cpu": "lots"}}),
        "/pools/user/resources/requests/cpu",
    ),
    "threshold 1": (minimal_values(config={"headroom": {"threshold": 1}}), "threshold"),
    "strategy gpu": (minimal_values(config={"headroom": {"strategy": "gpu"}}), "strategy"),
    "log format": (minimal_values(controller={"logFormat": "xml"}), "/controller/logFormat"),
    "url and existingSecret": (
        with_calendar(existingSecret={"name": "s", "key": "k"}),
        "/calendars/0",
    ),
    "neither url nor existingSecret": (
        {**minimal_values(), "calendars": [{"name": "courses"}]},
        "missing property 'url'",
    ),
    "pool name": ({**minimal_values(), "pools": {"9lives": {}}}, "'9lives'"),
    "metricsPort": (minimal_values(config={"metricsPort": 0}), "/config/metricsPort"),
    "maxFeedBytes": (minimal_values(config={"maxFeedBytes": 10}), "/config/maxFeedBytes"),
    "priority text": (minimal_values(priorityClass={"value": "-10"}), "/priorityClass/value"),
    "deployment name": (with_pool(deployment="Placeholder_User"), "/pools/user/deployment"),
}


@pytest.mark.parametrize(("values", "message"), TYPOS.values(), ids=TYPOS.keys())
def test_a_typo_fails_naming_the_key(helm: str, values: dict[str, Any], message: str) -> None:
    with pytest.raises(HelmError) as error:
        render(values)
    text = str(error.value)
    assert "values don't meet the specifications of the schema" in text
    assert message in text


@pytest.mark.parametrize(("values", "where"), WRONG_VALUES.values(), ids=WRONG_VALUES.keys())
def test_a_wrong_value_fails_naming_where(helm: str, values: dict[str, Any], where: str) -> None:
    with pytest.raises(HelmError) as error:
        render(values)
    text = str(error.value)
    assert "values don't meet the specifications of the schema" in text
    assert where in text


def test_valid_spellings_pass(helm: str) -> None:
    values = with_pool(
        leadTime=1800,
        nodeSelector={"gpu-count": "4"},
        resources={"requests": {"cpu": 3.5, "memory": "13Gi", "nvidia.com/gpu": 1}},
    )
    values["config"] = {"leadTime": "1h30m", "interval": "90s", "maxStaleness": "2d"}
    assert render(values)


def walk(schema: dict[str, Any], path: str = "") -> list[tuple[str, dict[str, Any]]]:
    """Every sub-schema with its path."""
    found = [(path or "/", schema)]
    for key, sub in schema.get("properties", {}).items():
        found += walk(sub, f"{path}/{key}")
    for keyword in ("additionalProperties", "items"):
        sub = schema.get(keyword)
        if isinstance(sub, dict):
            found += walk(sub, f"{path}/{keyword}")
    for keyword in ("anyOf", "oneOf"):
        for i, sub in enumerate(schema.get(keyword, [])):
            found += walk(sub, f"{path}/{keyword}{i}")
    return found


# Kubernetes objects passed through as they are: the API server checks them.
PASSED_THROUGH = {"affinity", "podSecurityContext", "securityContext", "global"}


def test_every_object_of_our_own_forbids_unknown_keys() -> None:
    schema = json.loads((CHART / "values.schema.json").read_text())
    for path, sub in walk(schema):
        if sub.get("type") != "object" or path.rsplit("/", 1)[-1] in PASSED_THROUGH:
            continue
        assert "additionalProperties" in sub, path
        if "properties" in sub:
            assert sub["additionalProperties"] is False, path


# Values that are Kubernetes objects: their comment documents the keys inside them.
KUBERNETES_OBJECTS = {
    "resources",
    "startupProbe",
    "livenessProbe",
    "readinessProbe",
    "podSecurityContext",
    "securityContext",
    "labels",
}


def test_every_value_is_commented() -> None:
    """Each key of values.yaml has a comment line right above it, except the keys inside a
    Kubernetes object value (resources, probes, securityContexts, labels)."""
    lines = (CHART / "values.yaml").read_text().splitlines()
    ancestors: list[tuple[int, str]] = []  # (indent, key) of the enclosing keys
    for i, line in enumerate(lines):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", "-")) or ":" not in stripped:
            continue
        indent = len(line) - len(line.lstrip())
        key = stripped.split(":", 1)[0]
        ancestors = [(n, k) for n, k in ancestors if n < indent]
        inside_object = any(k in KUBERNETES_OBJECTS for _, k in ancestors)
        above = lines[i - 1].strip() if i else ""
        assert inside_object or above.startswith("#"), (
            f"values.yaml:{i + 1}: {key!r} has no comment"
        )
        ancestors.append((indent, key))
