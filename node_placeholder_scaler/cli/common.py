"""What every command shares: exit codes, the error a command raises, reading the config file
(bounded) and loading the Kubernetes client."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from enum import IntEnum
from typing import TYPE_CHECKING

from ..feeds import environment
from ..files import FileTooLarge, NotRegularFile, read_regular
from ..settings import ConfigError, Settings, load_settings

if TYPE_CHECKING:
    from ..kube import Kube

DEFAULT_CONFIG = "/etc/node-placeholder-scaler/config.yaml"
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
    Exit.PROBLEMS: "`validate` found problems; `run --once` made a round in which a pool failed, "
                   "or another replica holds the Lease; `size` could not read the pool's node; "
                   "`report` could not read a pool's reports",
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


def read_settings(path: str) -> Settings:
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
    return load_settings(text, path, environment())


def load_client(kubeconfig: str | None) -> Kube:
    """The Kubernetes client (in-cluster, else ``kubeconfig``/KUBECONFIG); exit 2 if none."""
    from .. import kube  # the kubernetes package loads slowly; plan/validate never need it

    try:
        return kube.Kube(kube.load_api_client(kubeconfig))
    except Exception as error:
        raise CommandError(
            f"cannot load the Kubernetes client configuration: {error}", Exit.CONFIG
        ) from None
