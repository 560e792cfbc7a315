"""Helpers of the delivery tests (tests/delivery)."""

from __future__ import annotations

import json
import socket
import subprocess
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from testkit.feedserver import FeedServer

# The release the real-node chart tests install, and the names the chart gives its objects.
RELEASE = "nps"
FULLNAME = "nps-node-placeholder-scaler"
PLACEHOLDERS = "placeholder-user"
SELECTOR = "app.kubernetes.io/instance=nps,app.kubernetes.io/component=controller"

REPO = Path(__file__).resolve().parents[1]
IMAGE_SCRIPT = REPO / "scripts" / "image"


@dataclass(frozen=True)
class Image:
    tag: str

    def docker(
        self, *args: str, timeout: float = 180, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run the docker client against our engine."""
        proc = subprocess.run(
            [str(IMAGE_SCRIPT), "docker", *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and proc.returncode != 0:
            pytest.fail(f"docker {' '.join(args)} -> {proc.returncode}\n{proc.stderr[-3000:]}")
        return proc


def script(*args: str, timeout: float = 1800) -> str:
    proc = subprocess.run(
        [str(IMAGE_SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if proc.returncode != 0:
        pytest.fail(f"scripts/image {' '.join(args)} failed:\n{proc.stderr[-4000:]}")
    return proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ""


class CalendarServer:
    """Calendar feeds over plain HTTP on one address (the host end of the real node's link:
    host-internal, reachable from pods, not from outside): one testkit FeedServer per feed,
    each serving its own path (others: 404). ``put(path, body)`` starts one, returns its URL."""

    def __init__(self, host: str) -> None:
        self.host = host
        self.servers: list[FeedServer] = []

    def put(self, path: str, body: bytes) -> str:
        server = FeedServer(body, path=path, host=self.host)
        self.servers.append(server)
        return server.url

    def feed(self, url: str) -> FeedServer:
        """The server of a URL ``put`` returned (``publish`` changes its calendar)."""
        return next(server for server in self.servers if server.url == url)

    def close(self) -> None:
        for server in self.servers:
            server.stop()


class Prometheus:
    """A prometheus on loopback, scraping what ``scrape_configs`` select. ``binary``: the one
    scripts/testcluster builds with Kubernetes service discovery (Debian's has none)."""

    def __init__(self, binary: Path, workdir: Path, scrape_configs: list[dict[str, Any]]) -> None:
        if not binary.is_file():
            pytest.fail(f"{binary} is missing (scripts/testcluster build makes it)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{port}"
        config = {
            "global": {"scrape_interval": "5s", "evaluation_interval": "5s"},
            "scrape_configs": scrape_configs,
        }
        (workdir / "prometheus.yml").write_text(yaml.safe_dump(config, sort_keys=False))
        self.log = workdir / "prometheus.log"
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={workdir / 'prometheus.yml'}",
                    f"--storage.tsdb.path={workdir / 'data'}",
                    f"--web.listen-address=127.0.0.1:{port}",
                    "--storage.tsdb.retention.time=1d",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
        deadline = time.monotonic() + 60
        while not self._ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.close()
                pytest.fail(f"prometheus did not start:\n{self.log.read_text()[-3000:]}")
            time.sleep(0.5)

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/-/ready", timeout=2) as r:
                return bool(r.status == 200)
        except OSError:
            return False

    def api(self, path: str, **params: str) -> Any:
        query = urllib.parse.urlencode(params)
        with urllib.request.urlopen(f"{self.url}/api/v1/{path}?{query}", timeout=30) as r:
            body = json.load(r)
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("query", query=expr)["result"]
        return result

    def value(self, expr: str) -> float | None:
        """The value of a query that returns one series (None: no series)."""
        result = self.query(expr)
        assert len(result) <= 1, result
        return float(result[0]["value"][1]) if result else None

    def close(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=30)


def service_monitor_scrape_config(
    monitor: dict[str, Any], kubeconfig: Path, job: str
) -> dict[str, Any]:
    """A Prometheus scrape config doing what the Prometheus Operator makes of a ServiceMonitor:
    endpoints discovery in its namespaces, keep the Services its selector matches and the
    endpoint port it names; job = the Service's name; namespace, service and pod labels."""
    spec = monitor["spec"]
    endpoint = spec["endpoints"][0]
    keep = [
        {
            "source_labels": [f"__meta_kubernetes_service_label_{_label_name(k)}"],
            "regex": v,
            "action": "keep",
        }
        for k, v in spec["selector"]["matchLabels"].items()
    ]
    keep.append(
        {
            "source_labels": ["__meta_kubernetes_endpoint_port_name"],
            "regex": endpoint["port"],
            "action": "keep",
        }
    )
    labels = [
        {"source_labels": [f"__meta_kubernetes_{src}"], "target_label": dst}
        for src, dst in (
            ("namespace", "namespace"),
            ("service_name", "service"),
            ("pod_name", "pod"),
            ("service_name", "job"),
        )
    ]
    return {
        "job_name": job,
        "metrics_path": endpoint.get("path", "/metrics"),
        "scrape_interval": "5s",
        "kubernetes_sd_configs": [
            {
                "role": "endpoints",
                "kubeconfig_file": str(kubeconfig),
                "namespaces": {"names": spec["namespaceSelector"]["matchNames"]},
            }
        ],
        "relabel_configs": keep + labels,
    }


def _label_name(key: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in key)
