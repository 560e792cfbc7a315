"""Settings: defaults, durations, and errors that name the file and the key."""

from __future__ import annotations

from datetime import timedelta

import pytest

from node_placeholder_scaler.durations import DurationError, format_duration, parse_duration
from node_placeholder_scaler.settings import ConfigError, load_settings

MINIMAL = "calendars: [{url: a.ics}]\npools: {user: {}}\n"


def test_defaults():
    s = load_settings(MINIMAL, "c.yaml", {})
    assert s.lead_time == timedelta(0)
    assert s.overlap == "sum"
    assert s.interval == timedelta(seconds=30)
    assert s.calendar_refresh_interval == timedelta(minutes=5)
    assert s.max_staleness == timedelta(hours=24)
    assert s.timezone is None
    assert s.pools["user"].deployment == "placeholder-user"
    assert s.pools["user"].min_replicas == 0
    assert s.pools["user"].max_replicas == 10
    assert s.headroom.strategy == "balanced"
    assert s.headroom.threshold == 0.2
    assert s.headroom.node_grace_period == timedelta(minutes=10)
    assert s.calendars[0].name == "calendar-0"


def test_url_from_env_resolves_and_is_not_in_repr():
    s = load_settings("calendars: [{urlFromEnv: FEED}]\npools: {user: {}}\n", "c.yaml",
                      {"FEED": "https://calendar.example/secret-token/basic.ics"})
    assert s.calendars[0].url.endswith("basic.ics")
    assert "secret-token" not in repr(s)


@pytest.mark.parametrize(("body", "key"), [
    ("pools: {user: {}}", "calendars"),
    ("calendars: [{url: a}]", "pools"),
    (MINIMAL + "leadTme: 5m", "leadTme"),
    (MINIMAL + "leadTime: soon", "leadTime"),
    (MINIMAL + "interval: 0s", "interval"),
    (MINIMAL + "overlap: min", "overlap"),
    (MINIMAL + "timezone: Mars/Olympus", "timezone"),
    ("calendars: [{url: a}]\npools: {user: {maxReplicas: -1}}", "pools.user.maxReplicas"),
    ("calendars: [{url: a}]\npools: {user: {minReplicas: 3, maxReplicas: 2}}",
     "pools.user.maxReplicas"),
    ("calendars: [{url: a}]\npools: {user: {minReplicas: two}}", "pools.user.minReplicas"),
    ("calendars: [{url: a}]\npools: {user: {nodeSelectr: {}}}", "pools.user.nodeSelectr"),
    ("calendars: [{url: a}]\npools: {user: {deployment: Bad_Name}}", "pools.user.deployment"),
    ("calendars: [{url: a}]\npools: {lead: {}}", "pools.lead"),
    ("calendars: [{url: a}]\npools: {user: {}, USER: {}}", "pools.USER"),
    ("calendars: [{url: a, pools: [gpu]}]\npools: {user: {}}", "calendars[0].pools"),
    ("calendars: [{name: x}]\npools: {user: {}}", "calendars[0].url"),
    ("calendars: [{urlFromEnv: MISSING}]\npools: {user: {}}", "calendars[0].urlFromEnv"),
    ("calendars: [{url: a, timezone: Nowhere}]\npools: {user: {}}", "calendars[0].timezone"),
    (MINIMAL + "headroom: {threshold: 1.5}", "headroom.threshold"),
    (MINIMAL + "headroom: {strategy: gpu}", "headroom.strategy"),
    ("calendars: {url: a}\npools: {user: {}}", "calendars"),
])
def test_bad_config_names_file_and_key(body, key):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as caught:
        load_settings(body, "conf/c.yaml", {})
    assert caught.value.key == key
    assert str(caught.value).startswith(f"conf/c.yaml: {key}: ")


@pytest.mark.parametrize("body", ["", "- a\n- b", "calendars: [", "just text"])
def test_not_a_mapping_or_not_yaml(body):  # type: ignore[no-untyped-def]
    with pytest.raises(ConfigError) as caught:
        load_settings(body, "c.yaml", {})
    assert str(caught.value).startswith("c.yaml: ")


@pytest.mark.parametrize(("text", "seconds"), [
    ("90s", 90), ("15m", 900), ("1h30m", 5400), ("2d", 172800), (600, 600), ("600", 600),
    ("0", 0), ("1h 5s", 3605),
])
def test_durations(text, seconds):  # type: ignore[no-untyped-def]
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "m", "5x", "-5m", -1, True, 1.5, "1.5h", None])
def test_bad_durations(text):  # type: ignore[no-untyped-def]
    with pytest.raises(DurationError):
        parse_duration(text)


def test_format_duration_round_trips():
    for seconds in (0, 59, 60, 5400, 90061):
        text = format_duration(timedelta(seconds=seconds))
        assert parse_duration(text).total_seconds() == seconds
