"""The class-sized page's picture is in step with its script, and the event it computes
behaves as the page says (testkit/class_timeline.py, with the controller's own rule)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from testkit import class_timeline


def test_the_committed_picture_is_the_scripts():
    text = class_timeline.svg(class_timeline.timeline())
    assert class_timeline.OUT.read_text() == text, (
        "run `python -m testkit.class_timeline --write` and commit the SVG"
    )
    assert ET.fromstring(text).tag.endswith("svg")


def test_the_computed_event_ramps_seats_everyone_and_releases_at_the_hold():
    rows = dict(class_timeline.timeline(step=30))
    assert all(s["waiting"] == 0 for s in rows.values())  # nobody waits
    held = {t: s["warm"] + s["booting"] for t, s in rows.items()}
    assert held[-600] == 0 and 0 < held[-150] < held[-30]  # a ramp, not all at the lead
    assert max(held.values()) < class_timeline.STUDENTS  # never the whole class at once
    assert rows[690]["warm"] > 0 and held[750] == 0  # released once the hold has passed
    assert rows[900]["seated"] == class_timeline.COME
