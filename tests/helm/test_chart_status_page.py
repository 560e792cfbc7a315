"""The chart's status page parts: a Service port named status (on by default) and an optional
Ingress that routes /status alone to it."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_chart_render import notes

from testkit.helm import ALL_FEATURES, find, minimal_values, one, render

pytestmark = pytest.mark.helm

FULLNAME = "nps-node-placeholder-scaler"


def ports(values: dict[str, object]) -> list[tuple[str, int]]:
    service = one(render(values), "Service")
    return [(p["name"], p["port"]) for p in service["spec"]["ports"]]


@pytest.mark.parametrize(
    ("status_page", "expected"),
    [
        (None, [("http", 8080), ("status", 80)]),  # on by default
        ({"servicePort": 8081}, [("http", 8080), ("status", 8081)]),
        ({"enabled": False}, [("http", 8080)]),
    ],
)
def test_service_port_of_the_page(
    helm: str, status_page: dict[str, object] | None, expected: list[tuple[str, int]]
) -> None:
    values = minimal_values() if status_page is None else minimal_values(statusPage=status_page)
    assert ports(values) == expected


def test_no_ingress_unless_asked(helm: str) -> None:
    assert find(render(minimal_values()), "Ingress") == []
    off = minimal_values(statusPage={"enabled": False, "ingress": {"enabled": True}})
    assert find(render(off), "Ingress") == []  # the page is not published: nothing to route


def test_the_ingress_routes_the_page_alone(helm: str) -> None:
    ingress = one(render(files=[ALL_FEATURES]), "Ingress")
    spec = ingress["spec"]
    assert ingress["metadata"]["annotations"] == {
        "nginx.ingress.kubernetes.io/auth-url": "https://hub.example.org/auth"
    }
    assert spec["ingressClassName"] == "nginx"
    assert spec["tls"] == [{"secretName": "courses-tls", "hosts": ["courses.example.org"]}]
    (rule,) = spec["rules"]
    assert rule["host"] == "courses.example.org"
    assert rule["http"]["paths"] == [
        {
            "path": "/status",
            "pathType": "Exact",
            "backend": {"service": {"name": FULLNAME, "port": {"name": "status"}}},
        }
    ]


def test_an_ingress_without_host_or_tls(helm: str) -> None:
    values = minimal_values(statusPage={"ingress": {"enabled": True}})
    spec = one(render(values), "Ingress")["spec"]
    assert "tls" not in spec and "ingressClassName" not in spec
    assert "host" not in spec["rules"][0]


def test_notes_say_where_the_page_is(helm: str, tmp_path: Path) -> None:
    text = notes(minimal_values(), tmp_path / "on")
    assert f"port-forward service/{FULLNAME} 8080:80" in text
    assert "http://localhost:8080/status" in text
    off = notes(minimal_values(statusPage={"enabled": False}), tmp_path / "off")
    assert "/status" not in off
