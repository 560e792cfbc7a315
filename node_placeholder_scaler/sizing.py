"""``size``: placeholder requests that make one placeholder take one node of a pool.

requests = node allocatable - requests of the node's DaemonSet pods and static (mirror) pods
(they run on every node, so a placeholder must leave their room) - a margin; for every
extended resource the node offers (a domain-qualified name such as ``nvidia.com/gpu``) all of
it. Pure: computes and renders; the ``size`` command (cli/size.py) reads the live node.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from .observed import NodeInfo, PodInfo, Resources, total

MI = 1024**2
DEFAULT_MARGIN = "cpu=0,memory=256Mi"


@dataclass(frozen=True)
class Size:
    node: str
    allocatable: Resources
    reserved: Resources  # DaemonSet and static pods on the node
    reserved_pods: tuple[str, ...]
    margin: Resources
    requests: Resources  # of one placeholder


def node_bound(pod: PodInfo) -> bool:
    """A pod that every node of the pool runs (DaemonSet) or that the node itself runs."""
    return pod.owner_kind == "DaemonSet" or pod.mirror


def placeholder_size(node: NodeInfo, pods: Sequence[PodInfo], margin: Resources) -> Size:
    bound = [p for p in pods if node_bound(p) and not p.terminated]
    reserved = total(p.requests for p in bound)
    alloc = node.allocatable
    extended = {
        name: max(0, amount - reserved.get(name))
        for name, amount in alloc.extended.items()
        if "/" in name and amount > 0
    }
    requests = Resources(
        cpu_milli=max(0, alloc.cpu_milli - reserved.cpu_milli - margin.cpu_milli),
        memory=max(0, alloc.memory - reserved.memory - margin.memory) // MI * MI,
        extended=extended,
    )
    names = tuple(sorted(f"{p.namespace}/{p.name}" for p in bound))
    return Size(node.name, alloc, reserved, names, margin, requests)


def format_cpu(milli: int) -> str:
    return str(milli // 1000) if milli % 1000 == 0 else f"{milli}m"


def format_memory(amount: int) -> str:
    if amount % (1024 * MI) == 0:
        return f"{amount // (1024 * MI)}Gi"
    if amount % MI == 0:
        return f"{amount // MI}Mi"
    return str(amount)


def describe(amount: Resources) -> str:
    parts = [f"cpu {format_cpu(amount.cpu_milli)}", f"memory {format_memory(amount.memory)}"]
    parts += [f"{name} {value}" for name, value in amount.extended.items() if "/" in name]
    return ", ".join(parts)


def render_values(pool: str, size: Size) -> str:
    """The chart values to paste (YAML), with comments saying where the numbers come from."""
    lines = [
        f"# node-placeholder-scaler size --pool {pool}: from node {size.node}",
        f"#   allocatable:            {describe(size.allocatable)}",
        f"#   DaemonSet/static pods:  {describe(size.reserved)} ({len(size.reserved_pods)} pods)",
        f"#   margin:                 {describe(size.margin)}",
        "pools:",
        f"  {pool}:",
        "    resources:",
        "      requests:",
        f"        cpu: {format_cpu(size.requests.cpu_milli)}",
        f"        memory: {format_memory(size.requests.memory)}",
    ]
    lines += [f'        {name}: "{value}"' for name, value in size.requests.extended.items()]
    return "\n".join(lines) + "\n"


def pick_node(nodes: Sequence[NodeInfo], wanted: str | None) -> NodeInfo | None:
    """The named node, else the pool's Ready node with the most allocatable memory."""
    if wanted is not None:
        return next((n for n in nodes if n.name == wanted), None)
    ready = [n for n in nodes if n.ready] or list(nodes)
    return max(ready, key=lambda n: (n.allocatable.memory, n.name), default=None)


def parse_margin(text: str, parse: Callable[[Mapping[str, str]], Resources]) -> Resources:
    """``256Mi`` (memory) or ``cpu=100m,memory=256Mi``; ``parse`` reads a resource mapping."""
    text = (text or DEFAULT_MARGIN).strip()
    if "=" not in text:
        text = f"memory={text}"
    pairs = dict(part.split("=", 1) for part in text.split(",") if part.strip())
    unknown = set(pairs) - {"cpu", "memory"}
    if unknown:
        raise ValueError(f"unknown resource {sorted(unknown)[0]!r} (use cpu= and memory=)")
    return parse({k.strip(): v.strip() for k, v in pairs.items()})
