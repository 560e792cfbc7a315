"""What every command shares: exit codes, the error a command raises, finding and reading the
config file (bounded), loading the Kubernetes client, and the structured outputs."""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
from collections.abc import Callable
from enum import IntEnum
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from ..clusterfacts import PoolReads
from ..config.settings import ConfigError, Settings, load_settings
from ..feeds.book import environment
from ..feeds.files import FileTooLarge, NotRegularFile, read_regular
from ..observed import ClusterError

if TYPE_CHECKING:
    from ..kube import Kube

DEFAULT_CONFIG = "/etc/node-placeholder-scaler/config.yaml"
CONFIG_ENV = "NODE_PLACEHOLDER_SCALER_CONFIG"
CLUSTER_COMMANDS = frozenset({"run", "validate", "size", "report"})  # --context, -n
NO_CALENDARS = frozenset({"size", "report"})  # they read no feed
OUTPUTS = ("table", "json", "yaml")
MAX_CONFIG_BYTES = 1024 * 1024  # a configuration is a few KiB; a bigger file is a mistake

Arguments = Callable[[argparse.ArgumentParser], None]
Command = Callable[[Settings, argparse.Namespace], int]


class Exit(IntEnum):
    """The process exit codes (docs/reference/exit-codes.md)."""

    OK = 0
    PROBLEMS = 1  # validate found problems; run --once had errors; size could not read the pool
    CONFIG = 2  # bad configuration, flags or client configuration: nothing was tried
    INTERRUPTED = 130


# What each code means, for the reference page (docs/reference/exit-codes.md is generated).
EXIT_MEANINGS: dict[Exit, str] = {
    Exit.OK: "done (`validate`: no problem)",
    Exit.PROBLEMS: "`validate` found problems in its window or a feed problem; `run --once` "
    "made a round in which a pool failed, or another replica holds the Lease; "
    "`size` could not read the pool's node; `report` could not read a pool's "
    "reports",
    Exit.CONFIG: "nothing was tried: bad configuration (`error: bad configuration: <file>: "
    "<key>: ...`), bad flags or time, a pool without `nodeSelector` for `run`, no "
    "loadable Kubernetes client configuration",
    Exit.INTERRUPTED: "interrupted (Ctrl-C)",
}


class CommandError(Exception):
    """A command's failure: ``main`` prints ``error: <message>`` and exits with ``code``."""

    def __init__(self, message: str, code: Exit = Exit.CONFIG) -> None:
        super().__init__(message)
        self.code = code


def cluster_arguments(parser: argparse.ArgumentParser) -> None:
    """The kubectl-like flags of a command that reads the cluster."""
    parser.add_argument("--context", help="kubeconfig context (default: its current context)")
    parser.add_argument(
        "-n",
        "--namespace",
        help="the release's namespace (default: the "
        "config's namespace, else the pod's, else the kubeconfig context's)",
    )


def output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=OUTPUTS, default="table")


def structured(text: str, output: str) -> str:
    """A command's JSON text in the output asked for (json as it is, yaml converted)."""
    if output == "yaml":
        return yaml.safe_dump(json.loads(text), sort_keys=False, allow_unicode=True).rstrip("\n")
    return text


def load_config(args: argparse.Namespace) -> Settings:
    """The settings: --config, else $NODE_PLACEHOLDER_SCALER_CONFIG, else the default file if it
    exists, else (commands that read the cluster) the installed release's ConfigMap in the
    namespace; with -n/--namespace or the kubeconfig context's namespace applied."""
    on_cluster = args.name in CLUSTER_COMMANDS and (args.name != "validate" or args.cluster)
    calendars = args.name not in NO_CALENDARS
    path = (
        args.config
        or os.environ.get(CONFIG_ENV)
        or (DEFAULT_CONFIG if Path(DEFAULT_CONFIG).exists() or not on_cluster else None)
    )
    if path is not None:
        settings = read_settings(path, calendars=calendars)
    else:  # the release's own config: its feed addresses are in the pod's environment only
        settings = _release_settings(args)
    if not on_cluster:
        return settings
    # lazy: the kubernetes client loads slowly; commands without a cluster skip it
    from ..kube import default_namespace

    namespace = (
        args.namespace or settings.namespace or default_namespace(args.kubeconfig, args.context)
    )
    return dataclasses.replace(settings, namespace=namespace)


def _release_settings(args: argparse.Namespace) -> Settings:
    # lazy: the kubernetes client loads slowly; commands without a cluster skip it
    from ..kube import default_namespace

    namespace = args.namespace or default_namespace(args.kubeconfig, args.context)
    try:
        texts = load_client(args.kubeconfig, args.context).release_configs(namespace)
    except ClusterError as error:
        raise CommandError(f"cannot read the release's configuration: {error}") from None
    where = f"configmap in {namespace}"
    if len(texts) != 1:
        found = "no release" if not texts else f"{len(texts)} releases"
        raise ConfigError(
            DEFAULT_CONFIG,
            "",
            f"not found, and {found} of the chart in namespace "
            f"{namespace}: give --config FILE, set {CONFIG_ENV} or -n NAMESPACE",
        )
    return load_settings(texts[0], where, environment(), calendars=False)


def read_settings(path: str, *, calendars: bool = True) -> Settings:
    """The settings from the config file; ConfigError for anything but a small UTF-8 file."""
    try:
        data = read_regular(path, MAX_CONFIG_BYTES)
    except NotRegularFile:
        raise ConfigError(path, "", "not a regular file") from None
    except FileTooLarge:
        raise ConfigError(
            path, "", f"larger than {MAX_CONFIG_BYTES // 1024} KiB; not a configuration file"
        ) from None
    except OSError as error:
        raise ConfigError(path, "", f"cannot read the file: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(path, "", "the file is not UTF-8 text") from None
    return load_settings(text, path, environment(), calendars=calendars)


def load_client(kubeconfig: str | None, context: str | None = None) -> Kube:
    """The Kubernetes client (in-cluster, else ``kubeconfig``/KUBECONFIG; with ``context``,
    that context of the kubeconfig); exit 2 if none."""
    from .. import kube  # the kubernetes package loads slowly; plan/validate never need it

    try:
        return kube.Kube(kube.load_api_client(kubeconfig, context=context))
    except Exception as error:
        raise CommandError(
            f"cannot load the Kubernetes client configuration: {error}", Exit.CONFIG
        ) from None


def pool_reads(settings: Settings) -> tuple[PoolReads, ...]:
    """The pools as the cluster reads of ``validate --cluster`` and the pool checks need them."""
    return tuple(
        PoolReads(
            pool.name,
            pool.backend,
            pool.deployment,
            pool.buffer,
            dict(pool.node_selector),
            pool.max_replicas,
        )
        for pool in settings.pools.values()
    )
