"""The surge benchmark's presets, class-sized strategies and per-phase table: pure parts."""

from __future__ import annotations

import json
import random
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from testkit.surge.analysis import Figures, NodeRecord, arrivals_end, lower_bound, phase_minutes
from testkit.surge.cluster import attach_messages
from testkit.surge.courses import PRESETS, class_settings, courses, events, requested
from testkit.surge.feed import class_rounds
from testkit.surge.run import RunResult
from testkit.surge.scenario import Scenario

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from surge_bench import _parser, scenario_from, swept  # noqa: E402
from surge_report import goal, phase_table  # noqa: E402


def preset(name: str, *flags: str) -> Scenario:
    found: Scenario = scenario_from(_parser().parse_args(["--preset", name, *flags]))
    return found


def test_the_dev_preset_is_the_scenario_of_earlier_runs() -> None:
    s = preset("dev")
    assert s == Scenario()
    rng = random.Random(s.seed)  # the arrivals of the recorded runs: one course, same draw
    assert s.arrivals() == sorted(rng.uniform(0.0, 240.0) for _ in range(100))
    assert requested(s, "ours") == "user: 9"
    assert requested(s, "class") == "user: 100 students"


def test_the_overlap_preset_has_two_courses_in_one_pool() -> None:
    s = preset("overlap")
    a, b = courses(s)
    assert (a.students, a.spread, b.students, b.start, b.spread) == (60, 300.0, 40, 180.0, 60.0)
    arrivals = s.arrivals()
    assert len(arrivals) == 100
    assert sum(1 for x in arrivals if 180.0 <= x < 240.0) >= 40  # the burst of course two
    assert arrivals_end(s) == 300.0
    # the README rule per event: 60/300 s x 160 s node-up / 8 per node; the second course
    # arrives faster than nodes boot: capped at the whole class, 40 / 8
    assert requested(s, "ours") == "user: 4 + user: 5"
    assert requested(s, "class-buffer") == "user: 60 students + user: 40 students"
    t0 = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
    second = events(s.with_(time_scale=0.25), "class", t0, lead=60.0)[1]
    assert second[2].isoformat() == "2026-12-07T09:00:45+00:00"  # 180 s x 0.25
    # its own arrival spread, 60 s x 0.25 (the node form's events do not say it)
    assert second[4].splitlines()[1:] == ["user: 40 students", "lead: 60s", "arrival: 15s"]
    assert events(s, "ours", t0, lead=60.0)[1][4].splitlines()[1:] == ["user: 5", "lead: 60s"]


def test_flags_override_a_preset() -> None:
    s = preset("short-lead", "--lead", "90", "--quick")
    assert s.lead == 90.0 and s.lead < s.boot_delay + 1000
    assert s.students == Scenario.quick().students  # quick first, then the preset, then flags
    assert preset("short-lead").lead == 60.0 < Scenario().boot_delay
    assert set(PRESETS) == {"dev", "overlap", "short-lead"}


def _figures(p95: float, max_wait: float, node_minutes: float) -> Figures:
    return Figures(
        students=10,
        scheduled=10,
        p50=0.0,
        p95=p95,
        max_wait=max_wait,
        over_30s=0,
        node_minutes=node_minutes,
        lower_bound=10.0,
        peak_nodes=3,
    )


def _run(strategy: str, figures: Figures, nodes: list[NodeRecord]) -> RunResult:
    return RunResult(
        strategy,
        0,
        figures,
        1000.0,
        [],
        [],
        nodes,
        "karpenter",
        [],
        request="user: 20 students" if strategy.startswith("class") else "",
    )


def test_the_goal_names_each_part_missed() -> None:
    nothing = _run("nothing", _figures(300.0, 360.0, 100.0), [])
    assert goal(_run("class", _figures(4.0, 12.0, 110.0), []), nothing) == "met"
    assert goal(_run("class", _figures(8.0, 40.0, 125.0), []), nothing) == (
        "missed: p95 8.0 > 5, max 40.0 > 30, 1.25x nothing > 1.1"
    )
    assert goal(_run("class", _figures(1.0, 2.0, 50.0), []), None) == (
        "missed: no nothing run to compare"
    )


def test_the_phase_split_adds_up_to_the_window() -> None:
    s = Scenario.quick()  # before 90, arrivals over 60, after 240; scale 1, T0 at wall 1000
    nodes = [
        NodeRecord("warm", created=950.0, ready=960.0, deleted=1100.0),
        NodeRecord("steady", created=0.0, ready=1.0, deleted=None),
    ]
    split = phase_minutes(s, nodes, 1000.0)
    assert [round(u, 3) for u, _ in split] == [
        round((90 + 50) / 60, 3),
        2.0,
        round((240 - 60 + 40) / 60, 3),
    ]
    assert sum(b for _, b in split) == pytest.approx(lower_bound(s))
    runs = [
        _run("nothing", _figures(80.0, 90.0, 8.0), nodes),
        _run("class", _figures(0.0, 0.0, 8.4), nodes),
    ]
    rows = phase_table(s, runs).splitlines()
    assert rows[0].startswith("| strategy | before T0 (bound) | during arrivals (bound) |")
    assert rows[3].startswith("| 6 class-sized (pause pods), user: 20 students | 2.3 (")
    assert rows[3].endswith("| +0.4 (1.05x) | met |")


def test_reports_get_the_event_text_of_their_occurrence() -> None:
    recorded = json.loads((ROOT / "bench/results/reports-ours-n10.json").read_text())
    report = {k: v for k, v in recorded["runs"][0]["reports"][0].items() if k != "event_message"}
    other = {**report, "title": "Second course"}
    texts = [
        "Second course (2026-11-23T16:12): 40 arrivals",
        "unrelated",
        recorded["runs"][0]["reports"][0]["event_message"],
    ]
    reports = [report, other, {"title": "Second course", "start": "2026-11-23T16:13:00"}]
    attach_messages(reports, texts)
    assert reports[0]["event_message"].startswith("Course login surge (2026-11-23T16:11): 100")
    assert "event_message" not in reports[1]  # its start is 16:11, the text's 16:12
    assert "event_message" not in reports[2]


def test_the_class_mode_is_configured_in_cluster_time() -> None:
    pool, top = class_settings(Scenario().with_(time_scale=0.25))
    # a seat of 500m / 1.5 GiB (seats per node computed from a node); arrivals over 240 s and
    # node-up 120 + 10 s, 4x faster
    assert pool == {
        "seatCpu": 0.5,
        "seatMemory": "1536Mi",
        "arrivalSpread": "60s",
        "nodeUp": "32s",
    }
    assert top == {}
    assert class_settings(Scenario(time_scale=0.25, class_node_up=200.0))[0]["nodeUp"] == "50s"
    assert class_settings(Scenario(time_scale=0.25, class_spread=60.0))[0]["arrivalSpread"] == "15s"


def test_a_sweep_varies_one_field_and_keeps_the_arrivals() -> None:
    s = preset("short-lead")
    assert swept(s, "lead", "120") == s.with_(lead=120.0)
    assert swept(s, "nodes", "7").nodes == 7
    assert swept(s, "boot_delay", "60").arrivals() == s.arrivals()
    with pytest.raises(SystemExit):
        _parser().parse_args(["--sweep-field", "students"])


def test_the_class_rounds_are_read_from_the_controller_log(tmp_path: Path) -> None:
    line = (
        "2026-12-07 18:53:{s},840 INFO node_placeholder_scaler.reconcile pool=user target=0 "
        'free=- desired={d} current=0 events="Course login surge" pending=0 action=scaled '
        "phase={p} students=20 needed=4 seated=0 free_seats=1 warm_seats=0 "
        'seats_per_node=7 why="{w}"'
    )
    log = tmp_path / "controller.log"
    log.write_text(
        "\n".join(
            [
                "2026-12-07 18:53:00,000 INFO node_placeholder_scaler.loop started",
                line.format(s="12", d=1, p="ramp", w="4 of 20 students expected"),
                line.format(s="22", d=1, p="ramp", w="5 of 20 students expected"),
                line.format(s="32", d=2, p="ramp", w="11 of 20 students expected"),
                line.format(s="42", d=0, p="released", w="arrival window passed"),
            ]
        )
        + "\n"
    )
    rounds = class_rounds(log)
    assert [(e["phase"], e["desired"]) for e in rounds] == [
        ("ramp", 1),
        ("ramp", 2),
        ("released", 0),
    ]
    assert float(str(rounds[1]["t"])) - float(str(rounds[0]["t"])) == pytest.approx(20.0)
    assert rounds[2]["why"] == "arrival window passed"
    assert class_rounds(tmp_path / "missing.log") == []


def test_the_class_table_of_the_docs_is_made_from_a_stored_run() -> None:
    from testkit.figure_class import surge_class
    from testkit.results import read

    document = read("surge-class-dev")
    rows = [line.split(" | ") for line in surge_class(document).splitlines()[2:]]
    by_name = {row[0].lstrip("| "): row for row in rows}
    nothing = by_name["1 nothing"]
    assert nothing[4] == "1.00" and nothing[-1].rstrip(" |") == "-"
    for run, row in zip(document["runs"], rows, strict=False):  # a row per run, in order
        assert row[3] == f"{run['figures']['node_minutes']:.0f}"
        # the phases add up to the run's node-minutes (each rounded)
        assert sum(int(x) for x in row[6].split(" / ")) == pytest.approx(
            run["figures"]["node_minutes"], abs=2
        )
    assert by_name["lower bound (perfect packing)"][5] == "1.00"
    goals = [row[-1].rstrip(" |") for row in rows]
    assert all(g in ("-", "") or g == "met" or g.startswith("missed: ") for g in goals)
