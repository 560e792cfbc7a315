"""Plans and problems -> JSON documents and tables for people."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from .durations import format_duration
from .guardrails import Holding
from .model import Occurrence, Plan, Problem


def occurrence_dict(occurrence: Occurrence) -> dict[str, Any]:
    seats = {"seats": dict(occurrence.seats)} if occurrence.seats else {}  # class sizes
    return {
        "calendar": occurrence.calendar,
        "uid": occurrence.uid,
        "summary": occurrence.summary,
        "start": occurrence.start.isoformat(),
        "end": occurrence.end.isoformat(),
        "requests": dict(occurrence.requests),
        "lead": format_duration(occurrence.lead) if occurrence.lead is not None else None,
        **seats,
    }


def plan_dict(plan: Plan) -> dict[str, Any]:
    return {
        "at": plan.at.isoformat(),
        "pools": {name: target.target for name, target in plan.pools.items()},
        "events": [occurrence_dict(o) for o in plan.events],
        "problems": [p.as_dict() for p in plan.problems],
    }


def plan_json(plan: Plan) -> str:
    return json.dumps(plan_dict(plan), indent=2, ensure_ascii=False)


def timeline_json(plans: Sequence[Plan]) -> str:
    return json.dumps([plan_dict(p) for p in plans], indent=2, ensure_ascii=False)


def _local(instant: datetime, zone: ZoneInfo) -> str:
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    return [
        "  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *rows]
    ]


def problem_line(problem: Problem, zone: ZoneInfo) -> str:
    where = " / ".join(
        part
        for part in (
            problem.calendar,
            problem.event and repr(problem.event),
            problem.start and _local(problem.start, zone),
        )
        if part
    )
    return (
        f"[{problem.kind}] {where}: {problem.message}"
        if where
        else (f"[{problem.kind}] {problem.message}")
    )


def plan_table(plan: Plan, zone: ZoneInfo) -> str:
    lines = [f"Plan at {_local(plan.at, zone)} ({plan.at.isoformat()})", ""]
    rows = []
    for name, target in plan.pools.items():
        note = " (clamped)" if target.clamped else ""
        note += " (no feed: left as is)" if not target.known else ""
        if target.classes:  # sized each round from the pool (docs: class-sized requests)
            note += f" + a class of {sum(c.seats for c in target.classes)} students"
        rows.append((name, f"{target.target}{note}", ", ".join(target.event_names) or "-"))
    lines += _table(("POOL", "TARGET", "EVENTS"), rows)
    lines += _problems(plan.problems, zone)
    return "\n".join(lines)


def timeline_table(plans: Sequence[Plan], zone: ZoneInfo) -> str:
    if not plans:
        return "No changes."
    pools = list(plans[0].pools)
    rows = []
    for plan in plans:
        names = sorted({o.summary for t in plan.pools.values() for o in t.occurrences})
        rows.append(
            (
                _local(plan.at, zone),
                *(str(plan.pools[p].target) for p in pools),
                ", ".join(names) or "-",
            )
        )
    lines = _table(("TIME", *(p.upper() for p in pools), "EVENTS"), rows)
    problems = [p for plan in plans for p in plan.problems]
    lines += _problems(list(dict.fromkeys(problems)), zone)
    return "\n".join(lines)


def _problems(problems: Sequence[Problem], zone: ZoneInfo) -> list[str]:
    if not problems:
        return []
    return ["", f"Problems ({len(problems)}):", *(f"  {problem_line(p, zone)}" for p in problems)]


def holdings_table(holdings: Sequence[Holding], zone: ZoneInfo) -> str:
    """Node-hours (and cost, where the pool has a price) each event will hold per pool."""
    if not holdings:
        return "No event holds nodes."
    rows = [
        (
            _local(h.occurrence.start, zone),
            h.occurrence.summary,
            h.pool,
            str(h.nodes),
            f"{h.node_hours:.1f}",
            "-" if h.cost is None else f"{h.cost:.2f}",
        )
        for h in holdings
    ]
    hours = sum(h.node_hours for h in holdings)
    costs = [h.cost for h in holdings if h.cost is not None]
    rows.append(("total", "", "", "", f"{hours:.1f}", f"{sum(costs):.2f}" if costs else "-"))
    return "\n".join(_table(("START", "EVENT", "POOL", "NODES", "NODE-HOURS", "COST"), rows))
