"""``size``: read one live node of a pool and print the chart values for its placeholders.

Exit 0; 1 when the pool's node cannot be read; 2 for a bad pool, margin or client config.
"""

from __future__ import annotations

import argparse
import sys

from ..config.settings import Settings
from ..observed import ClusterError
from ..sizing import parse_margin, pick_node, placeholder_size, render_values
from .common import CommandError, Exit, load_client


def arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pool", required=True, help="the pool to size")
    parser.add_argument("--node", help="the node to read (default: a Ready node of the pool)")
    parser.add_argument("--margin", default="256Mi", help="memory left free (default 256Mi)")
    parser.add_argument("--kubeconfig", help="kubeconfig file")


def command(settings: Settings, args: argparse.Namespace) -> int:
    # lazy: the kubernetes client loads slowly; commands without a cluster skip it
    from ..kube import objects

    pool = settings.pools.get(args.pool.lower())
    if pool is None or not pool.node_selector:
        what = "is not a configured pool" if pool is None else "has no nodeSelector"
        raise CommandError(f"{settings.path}: pools.{args.pool}: {what}", Exit.CONFIG)
    try:
        margin = parse_margin(args.margin, objects.resources)
    except (ValueError, ArithmeticError) as error:
        raise CommandError(f"--margin {args.margin!r}: {error}", Exit.CONFIG) from None
    client = load_client(args.kubeconfig, args.context)
    try:
        chosen = pick_node(client.list_nodes(pool.node_selector), args.node)
        if chosen is None:
            where = f"node {args.node} is not" if args.node else "no node is"
            raise CommandError(
                f"{where} in pool {args.pool} (nodeSelector {dict(pool.node_selector)}); "
                "scale the pool to one node first",
                Exit.PROBLEMS,
            )
        pods = client.pods_on_node(chosen.name)
    except ClusterError as error:
        raise CommandError(str(error), Exit.PROBLEMS) from None
    sys.stdout.write(render_values(pool.name, placeholder_size(chosen, pods, margin)))
    return Exit.OK
