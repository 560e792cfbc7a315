"""Settings: defaults, durations, and errors that name the file and the key."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from node_placeholder_scaler.config.configkeys import Key, Reader, default
from node_placeholder_scaler.config.sections import SECTION_TABLES, HeadroomSettings, ReportSettings
from node_placeholder_scaler.config.settings import CALENDAR, POOL, TOP, ConfigError, load_settings
from node_placeholder_scaler.durations import DurationError, format_duration, parse_duration
from testkit import chart_schema

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
    s = load_settings(
        "calendars: [{urlFromEnv: FEED}]\npools: {user: {}}\n",
        "c.yaml",
        {"FEED": "https://calendar.example/secret-token/basic.ics"},
    )
    assert s.calendars[0].url.endswith("basic.ics")
    assert "secret-token" not in repr(s)


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("pools: {user: {}}", "calendars"),
        ("calendars: [{url: a}]", "pools"),
        (MINIMAL + "leadTme: 5m", "leadTme"),
        (MINIMAL + "leadTime: soon", "leadTime"),
        (MINIMAL + "interval: 0s", "interval"),
        (MINIMAL + "overlap: min", "overlap"),
        (MINIMAL + "timezone: Mars/Olympus", "timezone"),
        ("calendars: [{url: a}]\npools: {user: {maxReplicas: -1}}", "pools.user.maxReplicas"),
        (
            "calendars: [{url: a}]\npools: {user: {minReplicas: 3, maxReplicas: 2}}",
            "pools.user.maxReplicas",
        ),
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
    ],
)
def test_bad_config_names_file_and_key(body, key):
    with pytest.raises(ConfigError) as caught:
        load_settings(body, "conf/c.yaml", {})
    assert caught.value.key == key
    assert str(caught.value).startswith(f"conf/c.yaml: {key}: ")


@pytest.mark.parametrize("body", ["", "- a\n- b", "calendars: [", "just text"])
def test_not_a_mapping_or_not_yaml(body):
    with pytest.raises(ConfigError) as caught:
        load_settings(body, "c.yaml", {})
    assert str(caught.value).startswith("c.yaml: ")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90s", 90),
        ("15m", 900),
        ("1h30m", 5400),
        ("2d", 172800),
        (600, 600),
        ("600", 600),
        ("0", 0),
        ("1h 5s", 3605),
    ],
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


@pytest.mark.parametrize("text", ["", "m", "5x", "-5m", -1, True, 1.5, "1.5h", None])
def test_bad_durations(text):
    with pytest.raises(DurationError):
        parse_duration(text)


def test_format_duration_round_trips():
    for seconds in (0, 59, 60, 5400, 90061):
        text = format_duration(timedelta(seconds=seconds))
        assert parse_duration(text).total_seconds() == seconds


# --- hostile files: nothing of the file is echoed, nothing grows without bound ---------------

SECRET = "private-s3cr3tT0KEN"
BOMB = """calendars: [{url: a.ics}]
pools: {user: {}}
a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: [*d, *d, *d, *d, *d, *d, *d, *d, *d]
"""


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (BOMB, "aliases (*name) are not allowed"),
        (
            "defaults: &d {minReplicas: 1}\ncalendars: [{url: a.ics}]\npools: {user: {<<: *d}}\n",
            "aliases (*name) are not allowed",
        ),
        ("calendars: [{url: a.ics}]\npools: {user: {}}\nx: " + "[" * 100_000, "nested deeper than"),
        (
            "calendars: [{url: a.ics}]\npools: {user: {}}\nx: " + "{a: " * 50 + "1" + "}" * 50,
            "nested deeper than",
        ),
    ],
)
def test_aliases_and_deep_nesting_are_refused_before_they_grow(body: str, says: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(body, "c.yaml", {})
    assert caught.value.key == ""
    assert says in str(caught.value)


def test_an_anchor_without_alias_is_harmless() -> None:
    s = load_settings("calendars: [{url: a.ics}]\npools: &p {user: {}}\n", "c.yaml", {})
    assert list(s.pools) == ["user"]


@pytest.mark.parametrize(
    "body",
    [
        # a YAML syntax error on the url line (an unclosed quote, a tab, a stray colon)
        f"calendars:\n  - url: 'https://calendar.example/{SECRET}/basic.ics\n"
        f"pools: {{user: {{}}}}\n",
        f"calendars:\n  - url: https://calendar.example/{SECRET}/basic.ics: x\n"
        f"pools: {{user: {{}}}}\n",
        f"calendars:\n\t- url: https://calendar.example/{SECRET}/basic.ics\n"
        f"pools: {{user: {{}}}}\n",
        f'calendars: [{{url: "https://calendar.example/{SECRET}/\\q.ics"}}]\n'
        f"pools: {{user: {{}}}}\n",
        # a url given as a list or a mapping
        f"calendars: [{{url: [https://calendar.example/{SECRET}/basic.ics]}}]\n"
        f"pools: {{user: {{}}}}",
        f"calendars: [{{url: {{x: https://calendar.example/{SECRET}}}}}]\npools: {{user: {{}}}}",
        # a scheme typo, in the file and through urlFromEnv
        f"calendars: [{{url: 'htps://calendar.example/{SECRET}/basic.ics?t={SECRET}'}}]\n"
        "pools: {user: {}}",
        "calendars: [{urlFromEnv: FEED}]\npools: {user: {}}",
        # an unknown key that is itself the secret
        f"calendars: [{{url: a.ics, 'https://calendar.example/{SECRET}': 1}}]\n"
        f"pools: {{user: {{}}}}",
    ],
)
def test_errors_never_echo_a_feed_url(body: str) -> None:
    environ = {"FEED": f"htps://calendar.example/{SECRET}/basic.ics"}
    with pytest.raises(ConfigError) as caught:
        load_settings(body, "c.yaml", environ)
    assert SECRET not in str(caught.value)
    assert "s3cr3t" not in str(caught.value)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("htps://calendar.example/private-x/basic.ics", "calendars[0].url"),
        ("ftp://example.org/basic.ics", "calendars[0].url"),
        ("https:///basic.ics", "calendars[0].url"),
    ],
)
def test_an_unknown_scheme_is_refused_at_load_time(url: str, key: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(f"calendars: [{{url: '{url}'}}]\npools: {{user: {{}}}}", "c.yaml", {})
    assert caught.value.key == key


@pytest.mark.parametrize(
    "url",
    [
        "https://calendar.example/basic.ics",
        "webcal://calendar.example/basic.ics",
        "file:///srv/basic.ics",
        "courses.ics",
        "/srv/courses.ics",
        "./odd:name.ics",
    ],
)
def test_known_schemes_and_paths_load(url: str) -> None:
    s = load_settings(f"calendars: [{{url: '{url}'}}]\npools: {{user: {{}}}}", "c.yaml", {})
    assert s.calendars[0].url == url


# --- one table: everything else derives from it or is checked against it ---------------------

ROOT = Path(__file__).resolve().parent.parent
SECTIONS = {"": TOP, **SECTION_TABLES, "pools": POOL, "calendars": CALENDAR}


def test_every_key_is_documented_and_its_default_is_valid() -> None:
    for table in SECTIONS.values():
        for key in table:
            assert key.doc and key.doc[0].isupper(), key.name
            if key.kind != "section":
                default(table, key.name)  # raises ConfigError if the default is not valid


def test_the_defaults_are_the_tables() -> None:
    s = load_settings(MINIMAL, "c.yaml", {})
    assert s.lead_time == default(TOP, "leadTime") == timedelta(0)
    assert s.interval == default(TOP, "interval")
    assert s.max_feed_bytes == default(TOP, "maxFeedBytes")
    assert s.metrics_port == default(TOP, "metricsPort")
    assert s.headroom == HeadroomSettings()
    assert s.reports == ReportSettings() and s.reports.wait_target == timedelta(seconds=30)
    assert s.pools["user"].max_replicas == default(POOL, "maxReplicas")


def documented_configuration() -> dict[str, Any]:
    """The YAML block of docs/reference/configuration.md (generated from the tables)."""
    text = (ROOT / "docs/reference/configuration.md").read_text()
    block = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    loaded = yaml.safe_load(block)
    assert isinstance(loaded, dict)
    return loaded


def test_the_configuration_page_shows_every_key_with_its_default() -> None:
    """The configuration page's YAML block names every key of the table, and a key that has a
    default shows that default (read back by the controller's own reader)."""
    shown = documented_configuration()
    where: dict[str, tuple[dict[str, Any], tuple[Key, ...]]] = {
        "": (shown, TOP),
        **{name: (shown[name], table) for name, table in SECTION_TABLES.items()},
        "pools": (next(iter(shown["pools"].values())), POOL),
        "calendars": (shown["calendars"][0], CALENDAR),
    }
    for section, (body, table) in where.items():
        assert set(body) == {key.name for key in table}, section
        reader = Reader("configuration.md", f"{section}.", body, table)
        for key in table:
            if key.default is not None:
                assert reader.value(key.name) == default(table, key.name), (section, key.name)


def test_the_charts_values_state_no_default_of_their_own() -> None:
    values = yaml.safe_load((ROOT / "helm/node-placeholder-scaler/values.yaml").read_text())
    assert values["config"] == {}


def test_the_chart_schema_is_in_step_with_the_table() -> None:
    """values.schema.json carries every key of the table (config, pools, calendars) with its
    kind, bounds and default; `python -m testkit.chart_schema --write` updates it."""
    current = json.loads(chart_schema.SCHEMA.read_text())
    assert chart_schema.in_step(current) == current
    config = current["properties"]["config"]["properties"]
    assert config["leadTime"]["default"] == "0s"
    sections = {"headroom", "reports", "leaderElection", "notifications"}
    assert set(config) == {k.name for k in TOP if k.chart and k.name not in sections} | sections


def test_the_chart_template_omits_exactly_the_charts_own_pool_keys() -> None:
    schema = json.loads(chart_schema.SCHEMA.read_text())
    helpers = (ROOT / "helm/node-placeholder-scaler/templates/_helpers.tpl").read_text()
    line = next(t for t in helpers.splitlines() if t.startswith('{{- list "resources"'))
    listed = set(re.findall(r'"([A-Za-z]+)"', line))
    assert listed == chart_schema.chart_pool_keys(schema)
