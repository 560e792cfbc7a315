"""``validate [--cluster]``: the feeds' problems, and with ``--cluster`` a read-only preflight of
the cluster (preflight/cluster.py): each pool's backend object, the CapacityBuffer CRD, the
autoscaler,
the placeholder PriorityClass, user pods with preemptionPolicy Never, and why a pool would not
scale (preflight/pools.py: its selector, placeholder size and NodePool limits; ``--instance-types``
sizes the types a NodePool allows when no node of the pool is up). Refused reads are one
``not-checked`` finding.

Exit 0; 1 when the feeds have problems in the judged window (validate.py) or the cluster has
an error finding (something that would stop warming); 2 for a bad configuration or flags.
"""

from __future__ import annotations

import argparse

from ..config.settings import Settings
from ..observed import ClusterError
from ..preflight.cluster import DETECTION_READS, cluster_facts, judge
from . import validate
from .common import CommandError, Exit, load_client, pool_reads


def arguments(parser: argparse.ArgumentParser) -> None:
    validate.window_arguments(parser)
    parser.add_argument(
        "--cluster",
        action="store_true",
        help="also read the cluster (read-only) for what would stop warming",
    )
    parser.add_argument("--kubeconfig", help="kubeconfig file (with --cluster)")
    parser.add_argument(
        "--instance-types",
        metavar="FILE",
        help="JSON list of instance types ({name, resources}, the format of "
        "Karpenter's kwok provider): with no node of a pool up, placeholders "
        "are checked against the types its NodePools allow",
    )


def command(settings: Settings, args: argparse.Namespace) -> int:
    if args.cluster and args.output != "table":
        raise CommandError(
            f"--output {args.output} judges the feeds only; run --cluster without it", Exit.CONFIG
        )
    code = validate.command(settings, args)
    if not args.cluster:
        return code
    # lazy: the kubernetes client loads slowly; commands without a cluster skip it
    from ..kube import default_namespace
    from ..kube.clusterfacts import gather
    from ..kube.poolfacts import InstanceTypeError, read_instance_types

    try:
        types = read_instance_types(args.instance_types) if args.instance_types else ()
    except InstanceTypeError as error:
        raise CommandError(str(error), Exit.CONFIG) from None
    client = load_client(args.kubeconfig, args.context)
    namespace = settings.namespace or default_namespace()
    try:
        facts = cluster_facts(gather(client, pool_reads(settings), namespace, types))
    except ClusterError as error:
        raise CommandError(f"cannot read the cluster: {error}", Exit.PROBLEMS) from None
    scalers = ", ".join(f"{a.kind} ({'; '.join(a.evidence)})" for a in facts.autoscalers)
    if not scalers:
        refused = any(r.startswith(DETECTION_READS) for r in facts.unreadable)
        scalers = "not checked" if refused else "none found"
    print(
        f"cluster: namespace {namespace}; autoscaler: {scalers}; "
        f"CapacityBuffer API: {'served' if facts.buffer_api else 'not served'}"
    )
    findings = judge(facts)
    for finding in findings:
        print(finding.line())
    errors = sum(1 for f in findings if f.severity == "error")
    warnings = sum(1 for f in findings if f.severity == "warning")
    skipped = len(findings) - errors - warnings
    print(
        f"{errors} error(s), {warnings} warning(s) on the cluster"
        + (f"; {skipped} check(s) not run (see not-checked)" if skipped else "")
    )
    return Exit.PROBLEMS if errors or code != Exit.OK else Exit.OK
