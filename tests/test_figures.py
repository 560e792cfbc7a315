"""The docs' tables of measured figures equal a re-render of the stored raw results.

When this fails after a new run, run `python -m testkit.figures --write` and commit the pages
with the result files. Every result file a page renders records its command, the machine and
the load at the start and the end of the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from testkit import figures, results
from testkit.results import RESULTS, read

PAGES = figures.pages()


def test_the_figures_pages_are_found() -> None:
    names = {p.name for p in PAGES}
    assert {"benchmarks.md", "index.md", "high-availability.md"} <= names, names


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(results.ROOT)))
def test_the_tables_of_a_page_equal_a_render_of_their_result_files(page: Path) -> None:
    text = page.read_text()
    assert figures.blocks(page), f"{page.name}: no figures block"
    assert text == figures.rendered(text), (
        f"{page.relative_to(results.ROOT)}: its tables differ from bench/results: "
        f"run {figures.COMMAND}"
    )


@pytest.mark.parametrize(
    "name",
    sorted({name for p in PAGES for _, files in figures.blocks(p) for name in files.split(",")}),
)
def test_every_rendered_file_records_its_command_machine_and_load(name: str) -> None:
    document = read(name)
    if name.startswith("surge-"):  # the surge runs kept from before results recorded these
        assert "bench/surge_bench.py" in document["command"]
        assert "recorded no machine;" in figures.provenance(document, name)
        return
    assert document["command"] and document["date"]
    assert document["machine"]["cpus"] >= 1 and document["machine"]["cpu"]
    assert len(document["load"]["start"]) == 3 and len(document["load"]["end"]) == 3
    assert document["kind"] in set(figures.VIEWS) | {"hostile-calendar"}


def test_a_changed_figure_is_found_and_write_mends_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "bench" / "results").mkdir(parents=True)
    result = tmp_path / "bench" / "results" / "ha-takeover.json"
    result.write_text((RESULTS / "ha-takeover.json").read_text())
    page = tmp_path / "page.md"
    page.write_text("# HA\n\n<!-- figures: ha-takeover ha-takeover -->\nstale\n<!-- /figures -->\n")
    monkeypatch.setattr(figures, "RESULTS", result.parent)
    monkeypatch.setattr(figures, "ROOT", tmp_path)
    monkeypatch.setattr(figures, "PAGES", (page,))
    assert figures.out_of_step() == [page]
    assert figures.main([]) == 1
    assert figures.main(["--write"]) == 0
    assert figures.out_of_step() == [] and "| leader killed (SIGKILL)" in page.read_text()
    result.write_text(result.read_text().replace('"takeover_s": ', '"takeover_s": 1'))
    assert figures.out_of_step() == [page]


def test_an_unknown_view_is_named() -> None:
    with pytest.raises(KeyError, match="no renderer 'nothing'"):
        figures.render("nothing", "ha-takeover")
