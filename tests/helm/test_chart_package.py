"""`helm package` makes the release's chart archive: its version is the package's, `helm show
readme` prints the generated chart README, and `helm show chart` carries what Artifact Hub and a
reviewer read (home, sources, kubeVersion, maintainers, icon, annotations)."""

from __future__ import annotations

import pytest
import yaml

from node_placeholder_scaler import __version__
from testkit.helm import CHART, minimal_values, run_helm, values_args

pytestmark = pytest.mark.helm


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    out = tmp_path_factory.mktemp("chart")
    run_helm(["package", str(CHART), "--destination", str(out)])
    (path,) = out.glob("*.tgz")
    return path


def test_the_archive_is_named_by_the_version(archive):
    assert archive.name == f"node-placeholder-scaler-{__version__}.tgz"


def test_helm_show_readme_prints_the_chart_readme(archive):
    shown = run_helm(["show", "readme", str(archive)])
    assert shown.strip() == (CHART / "README.md").read_text().strip()
    assert "| `controller.replicaCount` | int | `2` |" in shown


def test_helm_show_chart_has_the_release_metadata(archive):
    chart = yaml.safe_load(run_helm(["show", "chart", str(archive)]))
    assert chart["version"] == chart["appVersion"] == __version__
    for key in ("home", "sources", "kubeVersion", "maintainers", "icon"):
        assert chart[key], key
    assert chart["annotations"]["artifacthub.io/license"] == "BSD-3-Clause"
    assert yaml.safe_load(chart["annotations"]["artifacthub.io/images"])


def test_the_packaged_chart_renders_with_its_default_image_tag(archive):
    """The archive installs as the source chart does; an unset image tag is the appVersion."""
    out = run_helm(
        ["template", "nps", str(archive), "-n", "nps-system", *values_args(minimal_values())]
    )
    images = {
        c["image"]
        for doc in yaml.safe_load_all(out)
        if doc and doc["kind"] == "Deployment"
        for c in doc["spec"]["template"]["spec"]["containers"]
    }
    assert f"node-placeholder-scaler:{__version__}" in images
