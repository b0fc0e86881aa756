"""Run the analysis on a backend and turn its rows into per-group results."""

from __future__ import annotations

import math
from typing import Any, Protocol

from diagnose.delays.analysis import BIN_EDGES, Filters, Plan, names, render
from diagnose.delays.fields import resolve
from diagnose.delays.result import Analysis, Execution, Group, TimePoint
from diagnose.errors import InputError

TIMELINE_BUCKETS = 60


class Backend(Protocol):
    dialect: str
    table: str
    prefer: str

    def describe(self) -> str: ...
    def probe(self, path: str, layout: str) -> str | None: ...
    def fetch(self, sql: str) -> list[dict[str, Any]]: ...
    def close(self) -> None: ...


def analyse(
    backend: Backend,
    filters: Filters,
    triggers: tuple[tuple[str, float], ...] = (),
    top: int = 10,
    timeline: bool = False,
    send_rate: float = 500.0,
) -> Analysis:
    """Resolve the fields, run every query of the analysis, assemble the groups."""
    resolved = resolve(backend.probe, backend.describe(), prefer=backend.prefer)
    plan = Plan(
        resolved=resolved,
        table=backend.table,
        filters=filters,
        triggers=triggers,
        top=top,
        send_rate=send_rate,
    )
    rows: dict[str, list[dict[str, Any]]] = {}
    sql: dict[str, str] = {}
    for name in names(with_timeline=False):
        sql[name] = render(plan, name, backend.dialect)
        rows[name] = backend.fetch(sql[name])
        if name == "span" and not rows["span"][0]["events"]:
            raise InputError(f"{backend.describe()}: no feedback events{_filtered(filters)}")
    span = rows["span"][0]
    first, last = float(span["first_ts"]), float(span["last_ts"])
    width = max(1.0, math.ceil((last - first) / TIMELINE_BUCKETS))
    if timeline:
        sql["timeline"] = render(plan, "timeline", backend.dialect, origin=first, width=width)
        rows["timeline"] = backend.fetch(sql["timeline"])
    return Analysis(
        events=int(span["events"]),
        first_ts=first,
        last_ts=last,
        groups=_groups(rows),
        slowest=[_execution(r) for r in rows["slowest"]],
        timeline=[
            TimePoint(
                campaign=str(r["campaign_id"]),
                measure=r["measure"],
                start=first + float(r["bucket"]) * width,
                width=width,
                n=int(r["n"]),
                p50=float(r["p50"]),
                p90=float(r["p90"]),
                max=float(r["max_seconds"]),
            )
            for r in rows.get("timeline", [])
        ],
        sql=sql,
        dialect=backend.dialect,
        with_triggers=bool(triggers),
    )


def _filtered(filters: Filters) -> str:
    parts = []
    if filters.campaigns:
        parts.append("--campaign " + ",".join(filters.campaigns))
    if filters.executions:
        parts.append("--execution " + ",".join(filters.executions))
    if filters.since is not None or filters.until is not None:
        parts.append("--since/--until")
    return f" match {' '.join(parts)}" if parts else " (the data are empty)"


def _groups(rows: dict[str, list[dict[str, Any]]]) -> list[Group]:
    groups: dict[tuple[str, str], Group] = {}

    def group(row: dict[str, Any]) -> Group:
        key = (str(row["campaign_id"]), str(row["channel"]))
        if key not in groups:
            groups[key] = Group(campaign=key[0], channel_id=key[1])
        return groups[key]

    for r in rows["counts"]:
        g = group(r)
        g.counts[str(r["status"])] = g.counts.get(str(r["status"]), 0) + int(r["events"])
    for r in rows["percentiles"]:
        group(r).percentiles[r["measure"]] = {
            "count": int(r["n"]),
            "p50": float(r["p50"]),
            "p90": float(r["p90"]),
            "p99": float(r["p99"]),
            "max": float(r["max_seconds"]),
        }
        group(r).histogram[r["measure"]] = [int(r[f"h{i}"]) for i in range(len(BIN_EDGES) + 1)]
    for r in rows["upstream"]:
        g = group(r)
        g.executions = int(r["executions"])
        g.single_executions = int(r["single_executions"] or 0)
        g.max_spread = float(r["max_spread"] or 0.0)
        g.spread_excess = {k: float(r[f"e{k[1:]}"]) for k in ("p50", "p90", "p99")}
    for r in rows["reasons"]:
        group(r).reasons.append(
            {"status": r["status"], "reason": r["reason"], "events": int(r["events"])}
        )
    return sorted(groups.values(), key=lambda g: (g.campaign, g.channel))


def _execution(r: dict[str, Any]) -> Execution:
    def opt(key: str) -> float | None:
        return None if r[key] is None else float(r[key])

    return Execution(
        campaign=str(r["campaign_id"]),
        channel_id=str(r["channel"]),
        execution=str(r["execution_id"]),
        first_departure=float(r["first_departure"]),
        sent=int(r["sent"]),
        departure_spread=opt("departure_spread"),
        trigger_to_departure=opt("trigger_to_departure"),
        departure_to_delivered=opt("departure_to_delivered"),
    )
