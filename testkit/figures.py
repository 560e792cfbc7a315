"""The docs' tables of measured figures, rendered from the stored raw results.

A page holds a generated block per table::

    <!-- figures: VIEW FILE -->
    ...
    <!-- /figures -->

VIEW names a renderer of testkit/figure_tables.py or figure_summary.py, FILE a raw result file
(bench/results/FILE.json, written by the benchmark or test named in it), or several, comma
separated (the renderer then gets ``{"files": {FILE: document}}``). The block is the
rendered table followed by where it comes from: the command, the date, the machine and its
load. ``python -m testkit.figures --write`` renders every block again; without ``--write`` it
lists the blocks out of step and exits 1 (tests/test_figures.py runs that check).
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from testkit import figure_class, figure_summary, figure_tables
from testkit.results import RESULTS, ROOT, read

COMMAND = "python -m testkit.figures --write"
PAGES = (ROOT / "docs", ROOT / "bench" / "results" / "README.md")
BLOCK = re.compile(r"(<!-- figures: ([\w-]+) ([\w.,-]+) -->\n)(.*?)(<!-- /figures -->)", re.S)
Renderer = Callable[[dict[str, Any]], str]
VIEWS: dict[str, Renderer] = figure_tables.VIEWS | figure_summary.VIEWS | figure_class.VIEWS


def provenance(document: dict[str, Any], name: str) -> str:
    """Where a table comes from: command, date, machine, load; the raw file."""
    if "machine" not in document:  # the surge benchmark's runs before results recorded them
        load = next((n for n in document.get("notes", []) if "load average" in n), None)
        said = f"its notes: {load.rstrip('.')}" if load else "nor its load"
        return (
            f"Rendered from `bench/results/{name}.json`, made by `{document['command']}` "
            f"(that run recorded no machine; {said}).\n"
        )
    machine, load = document["machine"], document["load"]
    start, end = (f"{x[0]:.1f}" for x in (load["start"], load["end"]))
    return (
        f"Measured {document['date']} on {machine['cpus']} CPUs ({machine['cpu']}; "
        f"{machine['system']}, Python {machine['python']}, version {machine['version']}), "
        f"load average {start} at the start, {end} at the end, by "
        f"`{document['command']}`; raw results: `bench/results/{name}.json`.\n"
    )


def render(view: str, name: str, folder: Path | None = None) -> str:
    if view not in VIEWS:
        raise KeyError(f"no renderer {view!r} (testkit/figure_tables.py)")
    names = name.split(",")
    documents = {n: read(n, folder or RESULTS) for n in names}
    table = VIEWS[view](
        documents[name] | {"_file": name} if len(names) == 1 else {"files": documents}
    )
    return table.rstrip("\n") + "\n\n" + "\n".join(provenance(documents[n], n) for n in names)


def rendered(text: str, folder: Path | None = None) -> str:
    """``text`` with every figures block rendered again."""

    def one(match: re.Match[str]) -> str:
        return match.group(1) + render(match.group(2), match.group(3), folder) + match.group(5)

    return BLOCK.sub(one, text)


def pages() -> list[Path]:
    found: list[Path] = []
    for place in PAGES:
        found += sorted(place.rglob("*.md")) if place.is_dir() else [place]
    return [p for p in found if BLOCK.search(p.read_text())]


def blocks(path: Path) -> list[tuple[str, str]]:
    """(view, file) of every block of a page."""
    return [(m.group(2), m.group(3)) for m in BLOCK.finditer(path.read_text())]


def out_of_step() -> list[Path]:
    return [p for p in pages() if p.read_text() != rendered(p.read_text())]


def main(argv: list[str]) -> int:
    try:
        return _main(argv)
    except FileNotFoundError as error:
        print(f"a page renders a result file that does not exist: {error.filename}")
        return 1


def _main(argv: list[str]) -> int:
    if "--write" in argv:
        for path in pages():
            text = path.read_text()
            if rendered(text) != text:
                path.write_text(rendered(text))
                print(f"wrote {path.relative_to(ROOT)}")
        return 0
    stale = out_of_step()
    for path in stale:
        print(f"{path.relative_to(ROOT)}: its tables differ from bench/results: run {COMMAND}")
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
