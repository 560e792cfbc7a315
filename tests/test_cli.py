"""The commands as a user runs them: real files, the exit code, stdout and stderr.

In process (``cli.main(argv)``); one test starts the installed console script.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from node_placeholder_scaler import __version__, cli
from node_placeholder_scaler.cli.common import load_config
from testkit.unit import FIXTURES

CONFIG = FIXTURES / "config-fixtures.yaml"
ROOT = Path(__file__).parent.parent


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


pytestmark = pytest.mark.usefixtures("keep_root_logger")


@pytest.fixture()
def run(capsys: pytest.CaptureFixture[str]):
    def run(*args: str, config: Path | str = CONFIG) -> Result:
        code = cli.main([*args, "--config", str(config)])
        out, err = capsys.readouterr()
        return Result(code, out, err)

    return run


@pytest.mark.slow  # a fresh interpreter through the console script
def test_console_script_starts():
    script = Path(sys.executable).parent / "node-placeholder-scaler"
    result = subprocess.run(
        [str(script), "plan", "--at", "2026-03-10T16:15:00Z", "--config", str(CONFIG)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "Data 8 midterm" in result.stdout


def test_plan_json_shape(run):
    result = run("plan", "--at", "2026-03-10T16:15:00Z", "--output", "json")
    assert result.returncode == 0, result.stderr
    doc = json.loads(result.stdout)
    assert set(doc) == {"at", "pools", "events", "problems"}
    assert doc["at"] == "2026-03-10T16:15:00+00:00"
    assert doc["pools"] == {"user": 5, "gpu": 0}
    assert [e["summary"] for e in doc["events"]] == ["Data 8 midterm"]
    assert doc["events"][0]["requests"] == {"user": 5}
    assert [p["kind"] for p in doc["problems"]] == ["unknown-pool"]


def test_plan_at_without_offset_uses_config_zone(run):
    result = run("plan", "--at", "2026-03-03T07:45", "--output", "json")
    assert json.loads(result.stdout)["pools"]["user"] == 4  # 07:45 Zurich = 06:45Z


def test_plan_table_and_timeline(run):
    table = run("plan", "--at", "2026-03-10T16:15:00Z")
    assert "user" in table.stdout and "Data 8 midterm" in table.stdout
    timeline = run("plan", "--from", "2026-03-24T00:00", "--to", "2026-03-25T00:00")
    assert timeline.returncode == 0
    lines = timeline.stdout.splitlines()
    assert lines[0].split()[:3] == ["TIME", "USER", "GPU"]
    assert any("Renku workshop" in line for line in lines)
    assert any("[clamped]" in line for line in lines)


def test_timeline_end_before_start_is_a_usage_error(run):
    result = run("plan", "--from", "2026-03-24T00:00", "--to", "2026-03-23T00:00")
    assert (result.returncode, result.stdout) == (2, "")
    assert "--to must be after --from" in result.stderr


def test_validate_all_lists_every_problem_and_exits_1(run):
    result = run("validate", "--all")
    assert result.returncode == 1
    assert "'gpuu' is not a pool" in result.stdout
    assert "Prüfung Lineare Algebra" in result.stdout


def test_validate_clean_exits_0(run, tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text(
        f"calendars: [{{url: {FIXTURES}/nextcloud.ics}}]\n"
        "pools: {user: {}, gpu: {maxReplicas: 5}}\n"
    )
    result = run("validate", config=conf)
    assert result.returncode == 0, result.stdout


BAD_CONFIGS = (
    ("pools: {user: {}}\n", "calendars"),
    ("calendars: [{url: a.ics}]\npools: {user: {maxReplicas: many}}\n", "pools.user.maxReplicas"),
    ("calendars: [\n", "not valid YAML"),
)


@pytest.mark.parametrize(
    ("body", "needle", "command"),
    [
        (body, needle, command)
        for body, needle in BAD_CONFIGS
        for command in ("plan", "validate", "run", "size")
        if not (needle == "calendars" and command == "size")  # size reads no feed
    ],
)
def test_bad_config_exit_2_no_traceback(run, tmp_path, body, needle, command):
    conf = tmp_path / "bad.yaml"
    conf.write_text(body)
    extra = ("--pool", "user") if command == "size" else ()
    result = run(command, *extra, config=conf)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: bad configuration: {conf}: ")
    assert needle in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_file(run):
    result = run("plan", config="/nonexistent/config.yaml")
    assert result.returncode == 2 and "cannot read" in result.stderr


@pytest.mark.parametrize("special", ["fifo", "/dev/zero", "directory"])
def test_config_must_be_a_regular_file(run, tmp_path, special):
    """A named pipe nobody writes to, an endless device or a directory: an answer, at once."""
    path = tmp_path / "config.yaml"
    if special == "fifo":
        os.mkfifo(path)
    elif special == "directory":
        path.mkdir()
    else:
        path = Path(special)
    result = run("validate", config=path)
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: bad configuration: {path}: ")
    assert "not a regular file" in result.stderr or "cannot read" in result.stderr


def test_config_size_is_capped(run, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text("calendars: [{url: a.ics}]\npools: {user: {}}\n" + "#" * (1024 * 1024))
    result = run("plan", config=path)
    assert result.returncode == 2
    assert (
        result.stderr == f"error: bad configuration: {path}: larger than 1024 KiB; "
        "not a configuration file\n"
    )


def test_config_not_utf8(run, tmp_path):
    path = tmp_path / "config.yaml"
    path.write_bytes(b"calendars: [{url: \xff.ics}]\n")
    result = run("plan", config=path)
    assert result.returncode == 2 and "not UTF-8" in result.stderr


def test_bad_time_is_a_message(run):
    result = run("plan", "--at", "next tuesday")
    assert result.returncode == 2 and "bad time" in result.stderr
    assert "Traceback" not in result.stderr


def test_broken_feed_gives_problem_not_traceback(run, tmp_path):
    feed = tmp_path / "broken.ics"
    feed.write_bytes(b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:notadate\n")
    conf = tmp_path / "c.yaml"
    conf.write_text(f"calendars: [{{url: {feed}}}]\npools: {{user: {{}}}}\n")
    result = run("plan", "--at", "2026-03-10T16:15:00Z", "--output", "json")
    assert result.returncode == 0
    plan = run("plan", "--at", "2026-03-10T16:15:00Z", "--output", "json", config=conf)
    doc = json.loads(plan.stdout)
    assert doc["pools"] == {"user": 0}
    assert doc["problems"][0]["kind"] == "feed-error"
    assert "Traceback" not in plan.stderr


def test_run_needs_a_node_selector_for_every_pool(run, tmp_path):
    conf = tmp_path / "c.yaml"
    conf.write_text("calendars: [{url: a.ics}]\npools: {user: {nodeSelector: {p: u}}, gpu: {}}\n")
    result = run("run", "--once", config=conf)
    assert result.returncode == 2
    assert result.stderr == (
        f"error: bad configuration: {conf}: pools.gpu.nodeSelector: is required for run\n"
    )


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (("--pool", "nope"), "pools.nope: is not a configured pool"),
        (("--pool", "user", "--margin", "gpu=1"), "--margin 'gpu=1': unknown resource 'gpu'"),
    ],
)
def test_size_usage_errors_exit_2_before_any_cluster_call(run, tmp_path, args, needle):
    conf = tmp_path / "c.yaml"
    conf.write_text("calendars: [{url: a.ics}]\npools: {user: {nodeSelector: {p: u}}}\n")
    result = run("size", *args, "--kubeconfig", "/nonexistent/kubeconfig", config=conf)
    assert result.returncode == 2
    assert needle in result.stderr and "Kubernetes client" not in result.stderr


@pytest.mark.parametrize("command", [("run", "--once"), ("size", "--pool", "user")])
def test_unreadable_kubeconfig_exit_2(run, tmp_path, command):
    conf = tmp_path / "c.yaml"
    conf.write_text("calendars: [{url: a.ics}]\npools: {user: {nodeSelector: {p: u}}}\n")
    result = run(*command, "--kubeconfig", str(tmp_path / "missing"), config=conf)
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot load the Kubernetes client configuration: ")


@pytest.mark.parametrize(
    ("argv", "code", "needle"),
    [
        (["plan", "--output", "xml"], 2, "invalid choice: 'xml'"),
        (["size"], 2, "the following arguments are required: --pool"),
        (["nonsense"], 2, "invalid choice: 'nonsense'"),
        (["--version"], 0, ""),
    ],
)
def test_flags_are_checked_before_anything_runs(capsys, argv, code, needle):
    assert cli.main(argv) == code
    out, err = capsys.readouterr()
    assert needle in err and "Traceback" not in err
    if argv == ["--version"]:
        assert out.strip() == __version__


def test_the_exit_codes_page_lists_the_programs_codes():
    text = (ROOT / "docs/reference/exit-codes.md").read_text()
    listed = {int(code) for code in re.findall(r"^\| (\d+) \|", text, flags=re.MULTILINE)}
    assert listed == {int(code) for code in cli.Exit}


@pytest.mark.parametrize("command", [("size", "--pool", "user"), ("report",)])
def test_commands_that_read_no_feed_need_no_calendars(run, tmp_path, command):
    """size and report take a configuration without calendars (or with calendars whose
    addresses are not in this environment): they get as far as the cluster client."""
    conf = tmp_path / "c.yaml"
    conf.write_text(
        "calendars: [{urlFromEnv: NOT_SET_HERE}]\npools: {user: {nodeSelector: {p: u}}}\n"
    )
    result = run(*command, "--kubeconfig", str(tmp_path / "missing"), config=conf)
    assert result.returncode == 2
    assert result.stderr.startswith("error: cannot load the Kubernetes client configuration: ")
    conf.write_text("pools: {user: {nodeSelector: {p: u}}}\n")
    result = run(*command, "--kubeconfig", str(tmp_path / "missing"), config=conf)
    assert result.stderr.startswith("error: cannot load the Kubernetes client configuration: ")


def test_the_config_comes_from_the_environment_variable(capsys, monkeypatch):
    monkeypatch.setenv("NODE_PLACEHOLDER_SCALER_CONFIG", str(CONFIG))
    assert cli.main(["plan", "--at", "2026-03-10T16:15:00Z"]) == 0
    assert "Data 8 midterm" in capsys.readouterr().out


def test_plan_prints_yaml_as_it_prints_json(run):
    as_json = run("plan", "--at", "2026-03-10T16:15:00Z", "--output", "json")
    as_yaml = run("plan", "--at", "2026-03-10T16:15:00Z", "-o", "yaml")
    assert as_json.returncode == as_yaml.returncode == 0
    assert yaml.safe_load(as_yaml.stdout) == json.loads(as_json.stdout)
    timeline = run("plan", "--from", "2026-03-10T00:00Z", "--to", "2026-03-11T00:00Z", "-o", "yaml")
    assert isinstance(yaml.safe_load(timeline.stdout), list | dict)


KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
users: [{name: u, user: {token: t}}]
contexts:
  - {name: a, context: {cluster: c, user: u, namespace: ns-a}}
  - {name: b, context: {cluster: c, user: u, namespace: ns-b}}
current-context: a
"""


@pytest.mark.parametrize(
    ("flags", "namespace"),
    [
        ({}, "ns-a"),  # the current context's, as kubectl
        ({"context": "b"}, "ns-b"),  # --context b
        ({"context": "b", "namespace": "mine"}, "mine"),  # -n wins
    ],
)
def test_the_namespace_follows_kubectl(tmp_path, flags, namespace):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    conf = tmp_path / "c.yaml"
    conf.write_text("pools: {user: {nodeSelector: {p: u}}}\n")
    args = argparse.Namespace(
        name="report",
        config=str(conf),
        kubeconfig=str(kubeconfig),
        **{"context": None, "namespace": None, **flags},
    )
    assert load_config(args).namespace == namespace


def test_the_configs_namespace_wins_over_the_context(tmp_path):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    conf = tmp_path / "c.yaml"
    conf.write_text("namespace: nps\npools: {user: {nodeSelector: {p: u}}}\n")
    args = argparse.Namespace(
        name="size", config=str(conf), kubeconfig=str(kubeconfig), context="b", namespace=None
    )
    assert load_config(args).namespace == "nps"


def test_without_a_config_a_cluster_command_names_where_it_looked(tmp_path, capsys, monkeypatch):
    """No --config, no variable, no default file, and no cluster to ask: one clear line."""
    monkeypatch.delenv("NODE_PLACEHOLDER_SCALER_CONFIG", raising=False)
    code = cli.main(["report", "--kubeconfig", str(tmp_path / "missing")])
    err = capsys.readouterr().err
    assert code == 2 and err.startswith("error: ") and "Traceback" not in err
