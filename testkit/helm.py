"""Run the pinned helm (scripts/helm) on our chart and parse what it renders."""

from __future__ import annotations

import functools
import json
import os
import subprocess
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "helm" / "node-placeholder-scaler"
ALL_FEATURES = REPO / "tests" / "helm" / "values-all-features.yaml"
MINIMAL = REPO / "tests" / "helm" / "values-minimal.yaml"
CALENDAR_DIR = "/var/run/node-placeholder-scaler/calendars"  # each feed address as a file
# The CRDs a render may use (the chart refuses to render their objects on a cluster that does
# not serve them; offline, helm template sees only the API versions given with --api-versions).
CRD_APIS = (
    "monitoring.coreos.com/v1/ServiceMonitor",
    "monitoring.coreos.com/v1/PrometheusRule",
    "autoscaling.x-k8s.io/v1beta1/CapacityBuffer",
)
HELM_SCRIPT = REPO / "scripts" / "helm"

Doc = dict[str, Any]


class HelmError(Exception):
    """helm exited non-zero; the message is its stderr."""


@functools.cache
def helm_binary() -> str:
    """The cached helm binary (built by scripts/helm on first use), or $NPS_HELM."""
    if os.environ.get("NPS_HELM"):
        return os.environ["NPS_HELM"]
    out = subprocess.run(
        [str(HELM_SCRIPT), "path"], check=True, capture_output=True, text=True, timeout=3600
    )
    return out.stdout.strip().splitlines()[-1]


def run_helm(
    args: Iterable[str], env: Mapping[str, str] | None = None, timeout: float = 300
) -> str:
    """Run helm; its stdout, or HelmError with its stderr."""
    proc = subprocess.run(
        [helm_binary(), *args],
        check=False,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
    if proc.returncode != 0:
        raise HelmError(proc.stderr.strip() or proc.stdout.strip())
    return proc.stdout


def values_args(values: Mapping[str, Any] | None, files: Iterable[Path] = ()) -> list[str]:
    """-f arguments: the given files, then the values dict written as a temporary JSON file."""
    args: list[str] = []
    for f in files:
        args += ["-f", str(f)]
    if values is not None:
        handle = tempfile.NamedTemporaryFile(  # noqa: SIM115  (helm reads it after we return)
            "w", suffix=".json", prefix="nps-values-", delete=False
        )
        with handle:
            json.dump(values, handle)
        args += ["-f", handle.name]
    return args


def render(  # noqa: PLR0917  (the chart tests pass values and files by position)
    values: Mapping[str, Any] | None = None,
    files: Iterable[Path] = (),
    release: str = "nps",
    namespace: str = "nps-system",
    extra: Iterable[str] = (),
    apis: Iterable[str] = CRD_APIS,
) -> list[Doc]:
    """`helm template` of the chart -> the list of rendered objects (``apis``: the CRDs the
    render may take as served)."""
    out = run_helm(
        [
            "template",
            release,
            str(CHART),
            "--namespace",
            namespace,
            *values_args(values, files),
            *[arg for api in apis for arg in ("--api-versions", api)],
            *extra,
        ]
    )
    return [d for d in yaml.safe_load_all(out) if d]


def find(docs: list[Doc], kind: str, name: str | None = None) -> list[Doc]:
    return [
        d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)
    ]


def one(docs: list[Doc], kind: str, name: str | None = None) -> Doc:
    found = find(docs, kind, name)
    assert len(found) == 1, f"expected one {kind} {name or ''}, got {len(found)}"
    return found[0]


def config_of(docs: list[Doc]) -> Doc:
    """The controller's config file, parsed, from the rendered ConfigMap."""
    cm = next(d for d in find(docs, "ConfigMap") if "config.yaml" in d.get("data", {}))
    config: Doc = yaml.safe_load(cm["data"]["config.yaml"])
    return config


def minimal_values(**overrides: Any) -> dict[str, Any]:
    """The smallest useful install: one calendar, one pool."""
    values: dict[str, Any] = {
        "calendars": [
            {"name": "courses", "url": "https://calendar.example.org/secret-token/basic.ics"}
        ],
        "pools": {
            "user": {
                "nodeSelector": {"hub.jupyter.org/pool-name": "user-pool"},
                "maxReplicas": 5,
                "resources": {"requests": {"cpu": "3500m", "memory": "13Gi"}},
            }
        },
    }
    values.update(overrides)
    return values
