"""Resource Graph's `resourcechanges`: property-level diffs of the vault, the key and the account."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from diagnose.azure.rest import RestClient, resource_graph
from diagnose.model import Limitation
from diagnose.timeline import queries
from diagnose.timeline.model import CHANGE, Event, Query, SourceReport, Targets
from diagnose.timeline.window import parse_time

NAME = "resource-changes"
REACH_DAYS = 14
RIGHT = "Reader on the vault, the key and the Cosmos DB account"


def report() -> SourceReport:
    return SourceReport(
        NAME,
        "Resource Graph resource changes",
        reach=f"{REACH_DAYS} days",
        lag="change records are available in less than five minutes",
    )


def plan(targets: Targets, since: datetime, until: datetime) -> list[Query]:
    ids = targets.arm_ids()
    if not ids:
        return []
    scope = f"subscription {targets.subscription_id}"
    return [
        Query(
            "Resource Graph",
            scope,
            "which of the objects the tool can see",
            queries.visible_resources(ids),
        ),
        Query(
            "Resource Graph", scope, "property changes", queries.resource_changes(ids, since, until)
        ),
    ]


def _run(arm: RestClient, subscription: str | None, query: Query) -> list[dict[str, Any]]:
    """The query's rows; a refusal (or any answer that is not rows) is the source's limitation."""
    body: dict[str, Any] = {"query": query.text}
    if subscription:
        body["subscriptions"] = [subscription]
    reply = resource_graph(arm, body)
    data = reply.body.get("data") if isinstance(reply.body, dict) else None
    if reply.status == 200 and isinstance(data, list):
        return data
    raise reply.problem(f"Resource Graph's {query.purpose}", RIGHT)


def _detail(changes: Any) -> str:
    if not isinstance(changes, dict):
        return ""
    return "; ".join(
        f"{path} {c.get('previousValue')} → {c.get('newValue')}"
        for path, c in changes.items()
        if isinstance(c, dict)
    )


def collect(
    arm: RestClient, targets: Targets, since: datetime, until: datetime, out: SourceReport
) -> list[Event]:
    planned = plan(targets, since, until)
    out.queries = planned
    if not planned:
        return []
    seen = _run(arm, targets.subscription_id, planned[0])
    visible = {str(r.get("id", "")).lower() for r in seen}
    hidden = [t for t in targets.arm_ids() if t.lower() not in visible]
    if hidden:
        out.limitation = Limitation(
            "Resource Graph shows the diagnosing identity none of: " + ", ".join(hidden),
            "Reader on " + ", ".join(hidden),
        )
    rows = _run(arm, targets.subscription_id, planned[1])
    events = []
    for row in rows:
        when = parse_time(row.get("changeTime"))
        if when is None:
            continue
        operation = f"{row.get('changeType')} ({row.get('operation')})"
        events.append(
            Event(
                when,
                NAME,
                str(row.get("changedBy") or "unknown"),
                operation,
                str(row.get("targetResourceId")),
                CHANGE,
                _detail(row.get("changes")),
            )
        )
    return events
