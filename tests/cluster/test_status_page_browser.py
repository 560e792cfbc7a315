"""The status page in a real browser: Debian's Chromium (headless) loads /status from a
running controller on the test cluster, the DOM it built is checked, screenshots are kept
under test-artifacts/status-page/ (git-ignored), and calendar titles that are scripts or
script-carrying elements stay text. Had one run, it would have changed the DOM dumped here
(a body attribute, the document title), and its alert() would have opened a dialog that
nobody closes, so the dump would not have finished (the control test shows both).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path

import pytest
from kubernetes import client

from testkit.cluster import (
    Namespace,
    TestCluster,
    create_node,
    delete_node,
    ensure_priority_class,
    node_schedulable,
    running_on,
    unique_name,
    wait_for,
)
from testkit.controller import ControllerProcess
from testkit.ics import Event, calendar
from testkit.manifests import node_manifest, pod_manifest

pytestmark = pytest.mark.cluster

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts" / "status-page"
PLACEHOLDER_CLASS = "nps-placeholder"
# Each payload, if it ever ran, leaves a mark in the DOM (a body attribute, the title).
SCRIPT_TITLE = "Midterm <script>document.title='PWNED';alert(1)</script>"
IMG_TITLE = "<img src=x onerror=\"document.body.dataset.pwned='yes';alert(2)\"> tutorial"


class Dom(HTMLParser):
    """The elements and text of a DOM that Chromium dumped."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.chunks: list[str] = []
        self.title: str | None = None  # the document's (the first <title>)
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.chunks.append(data)
        if self.title is None and self.tags and self.tags[-1][0] == "title":
            self.title = data.strip()

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.chunks).split())

    def attrs_of(self, tag: str) -> dict[str, str | None]:
        return next(a for t, a in self.tags if t == tag)


def chromium(*args: str, profile: Path, timeout: float = 60) -> str:
    """Headless Chromium (Debian's package); its stdout. A run that does not end in time
    raises subprocess.TimeoutExpired (an alert() that ran holds a dump open)."""
    binary = shutil.which("chromium")
    if binary is None:
        pytest.fail("chromium is not installed: run scripts/system-packages")
    result = subprocess.run(
        [
            binary,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            f"--user-data-dir={profile}",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture
def pool_node(kube_api: client.ApiClient, namespace: Namespace) -> Iterator[dict[str, str]]:
    """One schedulable node of the test's own pool (4 CPUs, 16 GiB); its label."""
    label = {"nps.test/pool": f"{namespace.name}-user"}
    name = unique_name("user-node")
    create_node(kube_api, node_manifest(name, labels=label))
    try:
        wait_for(
            f"node {name} schedulable",
            lambda: node_schedulable(client.CoreV1Api(kube_api).read_node(name)),
            timeout=60,
        )
        yield label
    finally:
        delete_node(kube_api, name)


def placeholders(api: client.ApiClient, namespace: str, label: dict[str, str]) -> None:
    pod = pod_manifest(
        "placeholder-user",
        cpu="3500m",
        memory="14Gi",
        priority_class=PLACEHOLDER_CLASS,
        node_selector=label,
        labels={"app": "placeholder-user"},
    )
    client.AppsV1Api(api).create_namespaced_deployment(
        namespace,
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "placeholder-user"},
            "spec": {
                "replicas": 0,
                "selector": {"matchLabels": {"app": "placeholder-user"}},
                "template": {"metadata": pod["metadata"], "spec": pod["spec"]},
            },
        },
    )


def write_config(tmp: Path, namespace: str, label: dict[str, str]) -> Path:
    """A feed in a folder whose name stands for a secret address; the week's events."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    hour = timedelta(hours=1)
    feed = tmp / "feed-s3cr3t-token" / "course.ics"
    feed.parent.mkdir()
    feed.write_bytes(
        calendar(
            [
                Event("Lab now", now - timedelta(minutes=1), now + hour, "user: 2"),
                Event(
                    IMG_TITLE,
                    now + timedelta(days=1),
                    now + timedelta(days=1) + hour,
                    "usr: 3\nRoom: 101",
                ),
                Event(
                    SCRIPT_TITLE,
                    now + timedelta(days=2),
                    now + timedelta(days=2) + hour,
                    "user: 3\nlead: 45m",
                ),
                Event(
                    "Last week's lab",
                    now - timedelta(days=3),
                    now - timedelta(days=3) + hour,
                    "gpuu: 1",
                ),
            ]
        )
    )
    key, value = next(iter(label.items()))
    config = tmp / "config.yaml"
    config.write_text(
        f"namespace: {namespace}\ninterval: 2s\ntimezone: Europe/Zurich\n"
        f"calendars: [{{name: course, url: {feed}}}]\nheadroom: {{nodeGracePeriod: 0s}}\n"
        f"pools:\n  user: {{nodeSelector: {{{key}: {value}}}, maxReplicas: 5}}\n"
    )
    return config


def test_status_page_in_headless_chromium(
    testcluster: TestCluster,
    kube_api: client.ApiClient,
    namespace: Namespace,
    pool_node: dict[str, str],
    tmp_path: Path,
) -> None:
    ensure_priority_class(kube_api, PLACEHOLDER_CLASS, -10)
    ns, core = namespace.name, client.CoreV1Api(kube_api)
    placeholders(kube_api, ns, pool_node)
    core.create_namespaced_pod(ns, pod_manifest("alice-notebook", node_selector=pool_node))
    wait_for("alice's pod running", lambda: running_on(core, ns, "alice-notebook"), timeout=60)
    config = write_config(tmp_path, ns, pool_node)
    controller = ControllerProcess(config, testcluster.kubeconfig, "page-0", tmp_path).start()
    url = f"http://127.0.0.1:{controller.port}/status"
    try:
        # one placeholder lands on the node; the node then is no free room: 2 wanted, 1 waits
        warm = re.compile(r"placeholders desired 2 .*placeholders ready 1 / 2 .*pool nodes 1 ")
        try:
            wait_for(
                "the page shows the warm state of the round",
                lambda: warm.search(Dom(controller.get("/status")[1]).text),
                timeout=90,
            )
        except AssertionError as error:
            raise AssertionError(
                f"{error}\npage: {Dom(controller.get('/status')[1]).text}\n"
                f"log: {controller.output()[-3000:]}"
            ) from None
        dom = Dom(chromium("--dump-dom", url, profile=tmp_path / "profile"))
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        for name, size in (("phone", "412,1800"), ("desktop", "1280,2000")):
            shot = ARTIFACTS / f"status-{name}.png"
            shot.unlink(missing_ok=True)
            chromium(
                f"--screenshot={shot}", f"--window-size={size}", url, profile=tmp_path / "profile"
            )
            assert shot.stat().st_size > 10_000, f"{shot} is not a picture of the page"
    finally:
        assert controller.stop() == 0, controller.output()[-3000:]
    check_content(dom)
    check_inert(dom)
    assert "s3cr3t" not in " ".join(dom.chunks) and "s3cr3t" not in str(dom.tags)  # no URL
    assert "alice" not in dom.text  # no pod or user name


def check_content(dom: Dom) -> None:
    text = dom.text
    assert "Pool user" in text and "This replica: leader" in text
    assert re.search(r"Upcoming events \(2\)", text), text  # Lab now and the midterm
    assert "Lab now" in text and "45 min" in text
    problems = text.split("Pool user")[0]
    assert "'usr: 3': 'usr' is not a pool" in problems  # the near miss, days ahead
    assert "suggested line: user: 3" in problems
    assert "Room" not in problems  # free text, not a problem
    assert "gpuu" not in text  # last week's problem is not news
    assert "course in use" in text
    svg = [a for t, a in dom.tags if t == "svg"]
    assert svg and svg[0]["viewbox"] == "0 0 720 150"
    leads = [a for t, a in dom.tags if t == "rect" and a.get("class") == "lead"]
    assert len(leads) == 1  # the midterm's 45 minutes (the lab has no lead: 0s by default)
    assert (
        "meta",
        {"name": "viewport", "content": "width=device-width, initial-scale=1"},
    ) in dom.tags


def check_inert(dom: Dom) -> None:
    """The hostile titles are on the page as text, and nothing of them became an element."""
    assert SCRIPT_TITLE in dom.text and IMG_TITLE in dom.text
    names = {t for t, _ in dom.tags}
    assert "script" not in names and "img" not in names
    assert not [a for _, attrs in dom.tags for a in attrs if a.startswith("on")]
    assert "data-pwned" not in dom.attrs_of("body")
    assert dom.title == "Warm node pools: status"


def test_the_same_payloads_unescaped_do_run_and_are_seen(tmp_path: Path) -> None:
    """The control for check_inert: in this Chromium the payloads as raw HTML change the DOM
    it dumps, and an alert() that runs keeps the dump from finishing."""
    marks = [title.replace(f";alert({n})", "") for n, title in ((2, IMG_TITLE), (1, SCRIPT_TITLE))]
    raw = tmp_path / "raw.html"
    raw.write_text(
        "<html><head><title>raw</title></head><body>"
        + "".join(f"<p>{m}</p>" for m in marks)
        + "</body></html>"
    )
    dom = Dom(chromium("--dump-dom", raw.as_uri(), profile=tmp_path / "profile"))
    assert dom.attrs_of("body").get("data-pwned") == "yes"
    assert dom.title == "PWNED"
    assert "img" in {t for t, _ in dom.tags}
    alert = tmp_path / "alert.html"
    alert.write_text("<html><body><script>alert(1)</script></body></html>")
    with pytest.raises(subprocess.TimeoutExpired):
        chromium("--dump-dom", alert.as_uri(), profile=tmp_path / "profile2", timeout=15)
