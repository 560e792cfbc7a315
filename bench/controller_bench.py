"""API cost of one controller round on the test cluster, with big pools and busy neighbours.

    .venv/bin/python bench/controller_bench.py [--kubeconfig K] [--sizes 100,1000]
                                               [--outside-pods 20000] [--rounds 3]

Without --kubeconfig (or NPS_TESTCLUSTER_KUBECONFIG) it starts its own cluster with
``scripts/testcluster up --name nps-bench --no-autoscaler`` and stops it at the end.

Setup: a pool of kwok nodes per size (label nps.bench/pool=p<size>), 3 pods bound to each (as a
DaemonSet pod and two users would be), and ``--outside-pods`` pods bound to other nodes of the
cluster. The round is the real one (kube.Kube, reconcile_once) with a calendar target of 3 and
no placeholders running, so every pool node is eligible and its pods are read: the worst case.
Each size is measured twice: as ``run --once`` makes a round (one pod LIST per eligible node)
and as the ``run`` loop does (pods from the watch-fed cache; its one-time initial sync is
printed separately). Prints per round the API requests, response bytes and seconds, then per
size ``controller-bench: nodes=<n> requests=<n> bytes=<n> round_s=<x>`` (the ``run`` loop,
median round) as the last lines. With --out FILE (``--out -``:
bench/results/controller-bench.json) it also stores the figures, the machine and its load; the
docs' table is rendered from that file (testkit/figures.py).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from prometheus_client import CollectorRegistry

from node_placeholder_scaler import kube
from node_placeholder_scaler.config.settings import load_settings
from node_placeholder_scaler.loop import Controller
from node_placeholder_scaler.metrics import Metrics
from node_placeholder_scaler.server import Health
from testkit.figure_tables import controller_bench
from testkit.manifests import node_manifest, pod_manifest
from testkit.planners import StaticPlanner
from testkit.results import Recording, out_path

REPO = Path(__file__).resolve().parents[1]

NS, USERS = "nps-bench", "nps-bench-users"
POOL_LABEL, OTHER_LABEL = "nps.bench/pool", "nps.bench/other"
PODS_PER_POOL_NODE, PODS_PER_OTHER_NODE = 3, 100
CONFIG = """
namespace: {ns}
calendars: [{{name: bench, url: /dev/null}}]
headroom: {{nodeGracePeriod: 0s}}
pools:
  bench: {{deployment: placeholder-bench, nodeSelector: {{{label}: p{size}}}, maxReplicas: 100}}
"""


def pool_node(name: str, labels: dict[str, str]) -> dict[str, Any]:
    return node_manifest(name, labels=labels, boot_delay="0s")


def bound_pod(name: str, node: str) -> dict[str, Any]:
    return pod_manifest(name, memory="256Mi", labels={"app": "b"}, node_name=node)


def create_all(what: str, create: Any, items: list[Any], workers: int = 32) -> None:
    started = time.monotonic()

    def one(item: Any) -> None:
        try:
            create(item)
        except ApiException as error:
            if error.status != 409:
                raise

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(one, items))
    print(f"# created {len(items)} {what} in {time.monotonic() - started:.1f}s", flush=True)


def existing(core: client.CoreV1Api, selector: str) -> set[str]:
    body = core.list_node(label_selector=selector, _preload_content=False)
    return {n["metadata"]["name"] for n in json.loads(body.data)["items"]}


def ensure_pool(core: client.CoreV1Api, size: int) -> None:
    """A pool of ``size`` nodes of its own (label nps.bench/pool=p<size>)."""
    have = existing(core, f"{POOL_LABEL}=p{size}")
    names = [f"bench-p{size}-{i:04d}" for i in range(size)]
    new = [n for n in names if n not in have]
    create_all(
        "pool nodes",
        lambda n: core.create_node(pool_node(n, {POOL_LABEL: f"p{size}"}), _preload_content=False),
        new,
    )
    pods = [(f"{n}-pod-{j}", n) for n in new for j in range(PODS_PER_POOL_NODE)]
    create_all(
        "pool pods",
        lambda p: core.create_namespaced_pod(USERS, bound_pod(*p), _preload_content=False),
        pods,
    )
    wait_ready(core, size)


def pod_count(core: client.CoreV1Api) -> int:
    page = json.loads(core.list_namespaced_pod(USERS, limit=1, _preload_content=False).data)
    return len(page["items"]) + int(page["metadata"].get("remainingItemCount") or 0)


def schedulable(node: dict[str, Any]) -> bool:
    """Ready and free of NoSchedule/NoExecute taints (the node controller lifts not-ready late)."""
    ready = any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in node["status"].get("conditions") or []
    )
    taints = node["spec"].get("taints") or []
    return ready and not any(t.get("effect") in ("NoSchedule", "NoExecute") for t in taints)


def wait_ready(core: client.CoreV1Api, size: int, timeout: float = 600) -> None:
    """kwok marks new nodes Ready after their boot delay; measure only a settled pool."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        body = core.list_node(
            label_selector=f"{POOL_LABEL}=p{size}", resource_version="0", _preload_content=False
        )
        ready = sum(1 for n in json.loads(body.data)["items"] if schedulable(n))
        if ready >= size:
            print(
                f"# {ready} pool nodes schedulable after {time.monotonic() - started:.0f}s",
                flush=True,
            )
            return
        time.sleep(2)
    raise SystemExit(f"pool nodes not Ready after {timeout:.0f}s")


def ensure_outside(core: client.CoreV1Api, count: int) -> None:
    nodes = [f"bench-other-{i:03d}" for i in range(-(-count // PODS_PER_OTHER_NODE))]
    have = existing(core, f"{OTHER_LABEL}=true")
    create_all(
        "outside nodes",
        lambda n: core.create_node(pool_node(n, {OTHER_LABEL: "true"}), _preload_content=False),
        [n for n in nodes if n not in have],
    )
    if pod_count(core) >= count:
        print(f"# {count} outside pods already there", flush=True)
        return
    pods = [(f"other-{i:05d}", nodes[i // PODS_PER_OTHER_NODE]) for i in range(count)]
    create_all(
        "outside pods",
        lambda p: core.create_namespaced_pod(USERS, bound_pod(*p), _preload_content=False),
        pods,
        workers=48,
    )


def setup(api: client.ApiClient) -> None:
    core, apps = client.CoreV1Api(api), client.AppsV1Api(api)
    for ns in (NS, USERS):
        try:
            core.create_namespace({"metadata": {"name": ns}})
        except ApiException as error:
            if error.status != 409:
                raise
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "placeholder-bench"},
        "spec": {
            "replicas": 0,
            "selector": {"matchLabels": {"app": "placeholder-bench"}},
            "template": {
                "metadata": {"labels": {"app": "placeholder-bench"}},
                "spec": {
                    "nodeSelector": {POOL_LABEL: "none"},
                    "containers": [
                        {
                            "name": "pause",
                            "image": "registry.k8s.io/pause:3.10",
                            "resources": {"requests": {"cpu": "3500m", "memory": "14Gi"}},
                        }
                    ],
                },
            },
        },
    }
    try:
        apps.create_namespaced_deployment(NS, deployment)
    except ApiException as error:
        if error.status != 409:
            raise


SYNCS: list[dict[str, float]] = []  # the pod cache's initial syncs, in order


def measure(kubeconfig: str, nodes: int, rounds: int, *, cache: bool) -> tuple[int, int, float]:
    """Rounds as ``run`` makes them (cache=True: pods from the watch-fed cache) or as
    ``run --once`` does (one LIST per eligible node); returns the last round's requests and
    bytes and the median seconds."""
    settings = load_settings(CONFIG.format(ns=NS, label=POOL_LABEL, size=nodes), "bench.yaml", {})
    cluster = kube.Kube(kube.load_api_client(kubeconfig))
    mode = "run (pod cache)" if cache else "run --once (a LIST per node)"
    if cache:
        started = time.monotonic()
        pod_cache = cluster.start_pod_cache()
        assert pod_cache.synced.wait(300), "pod cache did not sync"
        requests, size = cluster.cache_meter.snapshot()
        SYNCS.append(
            {
                "pods": len(pod_cache),
                "requests": requests,
                "bytes": size,
                "seconds": round(time.monotonic() - started, 2),
            }
        )
        print(
            f"# pod cache initial sync: pods={len(pod_cache)} requests={requests} "
            f"bytes={size} seconds={time.monotonic() - started:.1f}",
            flush=True,
        )
    ctl = Controller(
        settings,
        cluster,
        cluster,
        StaticPlanner(bench=3, feed="bench"),
        Metrics(CollectorRegistry()),
        Health(settings.interval, datetime.now(UTC)),
        NS,
        dry_run=True,
    )
    seen: list[tuple[int, int, float]] = []
    try:
        for index in range(rounds):
            before = cluster.usage()
            started = time.monotonic()
            result = ctl.round()
            seconds = time.monotonic() - started
            after = cluster.usage()
            assert result is not None and result.pools[0].error is None, result
            decision = result.pools[0]
            requests, size = after[0] - before[0], after[1] - before[1]
            seen.append((requests, size, seconds))
            print(
                f"{mode} round {index + 1}: nodes={decision.nodes} "
                f"eligible={decision.eligible} free={decision.free} requests={requests} "
                f"bytes={size} seconds={seconds:.3f}",
                flush=True,
            )
            assert decision.nodes == nodes, decision
    finally:
        cluster.stop_pod_cache()
    median = statistics.median(s for _, _, s in seen)
    return seen[-1][0], seen[-1][1], median


def figures(measured: tuple[int, int, float]) -> dict[str, float]:
    return {"requests": measured[0], "bytes": measured[1], "round_s": round(measured[2], 3)}


def start_cluster(name: str) -> str:
    out = subprocess.run(
        [str(REPO / "scripts/testcluster"), "up", "--name", name, "--no-autoscaler"],
        stdout=subprocess.PIPE,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kubeconfig", default=os.environ.get("NPS_TESTCLUSTER_KUBECONFIG"))
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--outside-pods", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--name", default="nps-bench", help="the cluster started here")
    parser.add_argument("--out", help="store the result (- : bench/results/controller-bench.json)")
    args = parser.parse_args()
    recording = Recording("controller-bench")
    started_here = args.kubeconfig is None
    kubeconfig = args.kubeconfig or start_cluster(args.name)
    try:
        api = kube.load_api_client(kubeconfig, pool_size=64)
        core = client.CoreV1Api(api)
        setup(api)
        sizes = sorted(int(s) for s in args.sizes.split(","))
        ensure_pool(core, sizes[0])
        print(f"# {sizes[0]} pool nodes, no pods outside the pool", flush=True)
        quiet = measure(kubeconfig, sizes[0], args.rounds, cache=False)
        ensure_outside(core, args.outside_pods)
        results = []
        for size in sizes:
            ensure_pool(core, size)
            print(f"# {size} pool nodes, {args.outside_pods} pods outside the pool", flush=True)
            lists = measure(kubeconfig, size, args.rounds, cache=False)
            watched = measure(kubeconfig, size, args.rounds, cache=True)
            results.append((size, lists, watched))
        print(
            f"# run --once requests per round at {sizes[0]} nodes: {quiet[0]} with no outside "
            f"pods, {results[0][1][0]} with {args.outside_pods}"
        )
        for size, (requests, size_bytes, seconds), _ in results:
            print(
                f"# run --once (a LIST per node): nodes={size} requests={requests} "
                f"bytes={size_bytes} round_s={seconds:.3f}"
            )
        for size, _, (requests, size_bytes, seconds) in results:
            print(
                f"controller-bench: nodes={size} requests={requests} bytes={size_bytes} "
                f"round_s={seconds:.3f}"
            )
        data = {
            "outside_pods": args.outside_pods,
            "rounds": args.rounds,
            "quiet": {"nodes": sizes[0], "requests": quiet[0]},
            "sync": SYNCS[-1],
            "sizes": [
                {"nodes": size, "once": figures(once), "loop": figures(loop)}
                for size, once, loop in results
            ],
        }
        path = out_path(args.out, "controller-bench")
        if path is not None:
            print(f"wrote {recording.write(path, data)}")
        print(controller_bench(recording.document(data)))
    finally:
        if started_here:
            subprocess.run(
                [str(REPO / "scripts/testcluster"), "down", "--name", args.name], check=False
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
