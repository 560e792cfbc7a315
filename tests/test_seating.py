"""The class-sized rule (seating/rule.py) as tables, and replayed over a recorded surge timeline."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from node_placeholder_scaler.model import ClassRequest, Occurrence
from node_placeholder_scaler.observed import Resources
from node_placeholder_scaler.seating.phase import Phase
from node_placeholder_scaler.seating.rule import (
    Counted,
    Profile,
    decide,
    expected,
    late_by,
    learned_seat,
    memory_bytes,
    needed,
    seats_per_node,
)

GI = 1024**3
T0 = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)
TIMELINES = Path(__file__).parent / "fixtures" / "timelines"


def klass(seats: int, start: datetime = T0, arrival: timedelta | None = None) -> ClassRequest:
    occurrence = Occurrence("course", "data8", "Data 8", start, start + 60 * MIN, arrival=arrival)
    return ClassRequest(occurrence, seats)


def profile(per: int = 4, spread: float = 10, node_up: float = 3, hold: float = 10) -> Profile:
    return Profile(per, spread * MIN, node_up * MIN, hold * MIN)


@pytest.mark.parametrize(
    ("room", "seat", "seats"),
    [
        (Resources(3900, 15 * GI), Resources(500, 3 * GI // 2), 7),  # the surge bench's node
        (Resources(3900, 15 * GI), Resources(0, 3 * GI // 2), 10),  # memory alone
        (Resources(4000, 16 * GI), Resources(1000, 0), 4),  # cpu alone
        (
            Resources(4000, 16 * GI, {"nvidia.com/gpu": 1}),
            Resources(500, GI, {"nvidia.com/gpu": 1}),
            1,
        ),  # one GPU per seat
        (Resources(4000, 16 * GI), Resources(500, GI, {"nvidia.com/gpu": 1}), 0),  # no GPU
        (Resources(4000, 16 * GI), Resources(), 0),  # a seat that asks nothing: unknown
        (Resources(-100, 16 * GI), Resources(500, GI), 0),  # an over-full node
    ],
)
def test_seats_per_node(room, seat, seats):
    assert seats_per_node(room, seat) == seats


@pytest.mark.parametrize(
    ("text", "amount"),
    [
        ("1.5Gi", 3 * GI // 2),
        ("512Mi", 512 * 1024**2),
        ("2G", 2 * 10**9),
        ("1000", 1000),
        (" 1Gi ", GI),
        ("1.5 Gi", None),
        ("lots", None),
        ("-1Gi", None),
        ("", None),
    ],
)
def test_memory_sizes(text, amount):
    assert memory_bytes(text) == amount


def test_learned_seat_is_the_most_common_request():
    small, big = Resources(500, GI), Resources(2000, 4 * GI)
    assert learned_seat([small, big, small, Resources()]) == small
    assert learned_seat([Resources()]) is None
    assert learned_seat([]) is None


@pytest.mark.parametrize(
    ("minutes", "arrived"),
    [
        (-1, 0),
        (0, 0),
        (0.5, 6),
        (1, 12),
        (5, 60),
        (9.99, 120),
        (10, 120),
        (30, 120),
    ],
)
def test_expected_arrivals_are_even_over_the_spread(minutes, arrived):
    assert expected(120, T0, 10 * MIN, T0 + minutes * MIN) == arrived


def test_needed_runs_one_node_up_ahead_and_sums_overlapping_classes():
    p = profile(node_up=3)
    assert needed([klass(120)], p, T0 - 4 * MIN) == 0
    assert needed([klass(120)], p, T0 - 3 * MIN) == 0  # the first arrival is at T0
    assert needed([klass(120)], p, T0 - 2 * MIN) == 12
    assert needed([klass(120)], p, T0 + 2 * MIN) == 60
    assert needed([klass(120), klass(40, T0 + 5 * MIN)], p, T0 + 2 * MIN) == 60
    assert needed([klass(120), klass(40, T0 + 5 * MIN)], p, T0 + 4 * MIN) == 84 + 8
    assert needed([klass(120)], p, T0 + 10 * MIN) == 0  # hold passed: released


def test_the_ramp_grows_with_the_arrival_curve_not_all_at_the_lead():
    nothing = Counted(seated=0, free=0, warm=0)
    warm = [
        decide([klass(120)], profile(), nothing, T0 + m * MIN, 50).warm
        for m in (-5, -3, -2, 0, 2, 4, 7)
    ]
    assert warm == [0, 0, 3, 9, 15, 21, 30]
    assert all(
        d.phase == Phase.RAMP
        for d in (decide([klass(120)], profile(), nothing, T0 + m * MIN, 50) for m in (-2, 0))
    )


def test_students_and_free_seats_lower_the_warm_nodes():
    at = T0 + 2 * MIN  # 60 of 120 expected by T0 + 5m
    assert decide([klass(120)], profile(), Counted(0, 0, 15), at, 50).warm == 15
    assert decide([klass(120)], profile(), Counted(20, 0, 15), at, 50).warm == 10
    assert decide([klass(120)], profile(), Counted(20, 7, 15), at, 50).warm == 9
    assert decide([klass(120)], profile(), Counted(70, 0, 0), at, 50).warm == 0
    # covered (70 + 15 x 4 >= 120): room for the whole class is kept, less the seated
    assert decide([klass(120)], profile(), Counted(70, 0, 15), at, 50).warm == 13


def test_no_refill_once_the_class_is_covered():
    # 100 seated + 8 free + 3 placeholders x 4 seats = 120: covered. Everything expected by now
    # (120) minus seated and free is 12 seats = 3 nodes, but never more than the 3 there are.
    state = decide([klass(120)], profile(), Counted(100, 8, 3), T0 + 8 * MIN, 50)
    assert (state.phase, state.warm) == (Phase.SEATED, 3)
    assert "cover 120 students: no refill" in state.why
    # a student took a placeholder's node: it is not replaced (3 -> 2, not back to 3)
    state = decide([klass(120)], profile(), Counted(101, 11, 2), T0 + 8 * MIN, 50)
    assert (state.phase, state.warm) == (Phase.SEATED, 2)
    # one seat short of covered: still the ramp, and it may add
    state = decide([klass(120)], profile(), Counted(100, 7, 3), T0 + 8 * MIN, 50)
    assert (state.phase, state.warm) == (Phase.RAMP, 4)


def test_an_event_s_arrival_spread_shapes_its_own_ramp_and_window():
    # the overlap of two courses in one pool: 60 over 10 min from T0 (the pool's spread), and
    # 40 who arrive within 1 minute from T0+5m (`arrival: 1m`); node-up 3 min; no pool hold
    burst = klass(40, T0 + 5 * MIN, arrival=MIN)
    p = Profile(4, 10 * MIN, 3 * MIN, None)
    classes = [klass(60), burst]
    # the ramp looks 3 minutes ahead: at T0+2m 30 of the first course and none of the burst
    # (it starts at T0+5m); at T0+3m 36 of the first and all 40 of the burst (by T0+6m)
    assert needed(classes, p, T0 + 2 * MIN) == 30
    assert needed(classes, p, T0 + 3 * MIN) == 36 + 40
    # with the pool's 10-minute spread the burst would look like 4 students a minute
    assert needed([klass(60), klass(40, T0 + 5 * MIN)], p, T0 + 3 * MIN) == 36 + 4
    # the burst's window is its own minute: closed at T0+6m, the first course's open to T0+10m
    assert decide(classes, p, Counted(0, 0, 0), T0 + 6 * MIN, 50).students == 60


def test_a_closed_class_takes_its_seated_students_first():
    # the burst (40, closed at T0+6m) and 45 of the first course have sat down by T0+7m: the
    # first course has 60 - 45 = 15 to come, not 60 - 85 (judged seated by the other's students)
    burst = klass(40, T0 + 5 * MIN, arrival=MIN)
    p = Profile(4, 10 * MIN, 3 * MIN, None)
    state = decide([klass(60), burst], p, Counted(85, 0, 0), T0 + 7 * MIN, 50)
    assert (state.students, state.seated, state.phase) == (60, 45, Phase.RAMP)
    assert state.warm == 4  # all 60 expected by T0+10m: 15 to come, 4 nodes of 4 seats
    # without the burst's students the first course is judged on its own seated students
    alone = decide([klass(60)], p, Counted(45, 0, 0), T0 + 7 * MIN, 50)
    assert (alone.seated, alone.warm) == (45, 4)


def test_release_after_the_hold():
    state = decide([klass(120)], profile(hold=12), Counted(60, 10, 10), T0 + 12 * MIN, 50)
    assert (state.phase, state.warm) == (Phase.RELEASED, 0)
    assert "hold 12m" in state.why and "09:12 UTC" in state.why
    early = decide([klass(120)], profile(hold=12), Counted(60, 10, 10), T0 + 11 * MIN, 50)
    assert early.phase != Phase.RELEASED


def test_unsized_and_clamped():
    state = decide([klass(120)], profile(per=0), Counted(0, 0, 0), T0, 50)
    assert (state.phase, state.warm) == (Phase.UNSIZED, 0)
    assert "seatCpu" in state.why
    assert decide([klass(120)], profile(per=1), Counted(0, 0, 0), T0 + 5 * MIN, 10).warm == 10


def _recorded(name: str) -> tuple[datetime, list[datetime], int]:
    data = json.loads((TIMELINES / name).read_text())
    start = datetime.fromisoformat(data["window"]["start"])
    opens = start - timedelta(seconds=data["window"]["lead_s"])
    arrivals = sorted(
        datetime.fromisoformat(p["created"])
        for p in data["pods"]
        if not p["placeholder"]
        and p["targets_pool"]
        and datetime.fromisoformat(p["created"]) >= opens
    )
    return start, arrivals, data["users_per_node"]


def test_replayed_over_a_recorded_surge_the_warm_seats_stay_ahead_of_the_arrivals():
    """The surge bench's recorded run (100 students over 60 s at time scale 0.25, node-up about
    40 s): replay the rule every 10 s with the recorded arrivals as the seated students and
    the controller's own placeholders as warm. Warm seats + seated cover the real arrivals of
    the next node-up time within one node's seats, the warm nodes never rise once seated, and
    nothing is kept after the hold."""
    start, arrivals, per = _recorded("ours-n10.json")
    p = Profile(per, timedelta(seconds=60), timedelta(seconds=40), timedelta(seconds=75))
    students = len(arrivals)
    warm = 0
    phases: list[tuple[Phase, int]] = []
    shortfalls: list[int] = []
    for step in range(-10, 12):
        at = start + timedelta(seconds=10 * step)
        seated = sum(1 for a in arrivals if a <= at)
        state = decide([klass(students, start)], p, Counted(seated, 0, warm), at, 30)
        if phases and phases[-1][0] == Phase.SEATED:
            assert state.warm <= warm, f"refill at {at}"
        warm = state.warm
        phases.append((state.phase, warm))
        coming = sum(1 for a in arrivals if a <= at + p.node_up)
        shortfalls.append(coming - seated - warm * per)
    print("phases", phases, "shortfall", shortfalls)
    assert max(shortfalls) < per
    assert [ph for ph, _ in phases][-1] == Phase.RELEASED and phases[-1][1] == 0
    assert {Phase.RAMP, Phase.SEATED, Phase.RELEASED} <= {ph for ph, _ in phases}


def test_late_by_is_the_lead_short_of_one_node_up():
    p = profile(node_up=3)
    assert late_by([klass(120)], T0 - 5 * MIN, p) is None
    assert late_by([klass(120)], T0 - 3 * MIN, p) is None
    assert late_by([klass(120)], T0 - 1 * MIN, p) == 2 * MIN
    assert late_by([klass(120), klass(40, T0 - 2 * MIN)], T0 - 1 * MIN, p) == 4 * MIN
