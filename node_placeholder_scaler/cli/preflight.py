"""``validate [--cluster]``: the feeds' problems, and with ``--cluster`` a read-only preflight of
the cluster (preflight.py): each pool's backend object, the CapacityBuffer CRD, the autoscaler,
the placeholder PriorityClass and user pods with preemptionPolicy Never.

Exit 0; 1 when the feeds have problems in the judged window (validate.py) or the cluster has
an error finding (something that would stop warming); 2 for a bad configuration or flags.
"""

from __future__ import annotations

import argparse

from ..observed import ClusterError
from ..preflight import judge
from ..settings import Settings
from . import validate
from .common import CommandError, Exit, load_client


def arguments(parser: argparse.ArgumentParser) -> None:
    validate.window_arguments(parser)
    parser.add_argument("--cluster", action="store_true",
                        help="also read the cluster (read-only) for what would stop warming")
    parser.add_argument("--kubeconfig", help="kubeconfig file (with --cluster)")


def command(settings: Settings, args: argparse.Namespace) -> int:
    if args.cluster and args.output != "table":
        raise CommandError(f"--output {args.output} judges the feeds only; run --cluster "
                           "without it", Exit.CONFIG)
    code = validate.command(settings, args)
    if not args.cluster:
        return code
    from ..kube import default_namespace
    from ..kube.preflight import gather

    client = load_client(args.kubeconfig, args.context)
    namespace = settings.namespace or default_namespace()
    try:
        facts = gather(client, settings, namespace)
    except ClusterError as error:
        raise CommandError(f"cannot read the cluster: {error}", Exit.PROBLEMS) from None
    scalers = ", ".join(f"{a.kind} ({'; '.join(a.evidence)})" for a in facts.autoscalers)
    print(f"cluster: namespace {namespace}; autoscaler: {scalers or 'none found'}; "
          f"CapacityBuffer API: {'served' if facts.buffer_api else 'not served'}")
    findings = judge(facts)
    for finding in findings:
        print(finding.line())
    errors = sum(1 for f in findings if f.severity == "error")
    print(f"{errors} error(s), {len(findings) - errors} warning(s) on the cluster")
    return Exit.PROBLEMS if errors or code != Exit.OK else Exit.OK
