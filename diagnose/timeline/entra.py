"""Entra ID's audit log (Microsoft Graph `auditLogs/directoryAudits`): changes to the CMK principal."""

from __future__ import annotations

import json
import uuid
from datetime import datetime
from typing import Any

from diagnose.azure.rest import GRAPH_NOT_FOUND, RestClient
from diagnose.timeline.model import CHANGE, Event, SourceReport
from diagnose.timeline.window import iso, parse_time

NAME = "entra-audit"
RIGHT = "Microsoft Graph AuditLog.Read.All"
REACH_DAYS = 30  # the longest of the plans' retentions below


def report() -> SourceReport:
    return SourceReport(
        NAME,
        "Entra ID audit log",
        reach=f"7 days (Entra ID Free) or {REACH_DAYS} days (P1, P2)",
        lag="no published per-event figure",
    )


def _actor(event: dict[str, Any]) -> str:
    by = event.get("initiatedBy") or {}
    user, app = by.get("user") or {}, by.get("app") or {}
    if user.get("userPrincipalName") or user.get("displayName"):
        return str(user.get("userPrincipalName") or user.get("displayName"))
    if app:
        return f"{app.get('displayName') or 'application'} (app {app.get('appId')})"
    return "unknown"


def _value(text: Any) -> str:
    """Graph's `"[true]"` as `true` (values are JSON arrays in strings)."""
    try:
        parsed = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return str(text)
    if isinstance(parsed, list):
        return (
            ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in parsed) or "(none)"
        )
    return "(none)" if parsed is None else str(parsed)


def _detail(event: dict[str, Any]) -> str:
    parts = []
    for target in event.get("targetResources") or []:
        for prop in target.get("modifiedProperties") or []:
            name = prop.get("displayName")
            if name and not str(name).startswith(("Included Updated Properties", "TargetId.")):
                parts.append(
                    f"{name} {_value(prop.get('oldValue'))} → {_value(prop.get('newValue'))}"
                )
    return "; ".join(parts)


class Names:
    """Principals' display names by object id, read from Microsoft Graph where the right allows.

    `refused` holds the right Graph asked for once it refused (no further asking); an id Graph
    does not know as a service principal stays unnamed. At most MAX_LOOKUPS ids are asked.
    """

    MAX_LOOKUPS = 20
    RIGHT = "Microsoft Graph Application.Read.All"

    def __init__(self, graph: RestClient) -> None:
        self.graph = graph
        self.refused: str | None = None
        self.unknown: set[str] = set()
        self._names: dict[str, str | None] = {}

    def __call__(self, object_id: str) -> str | None:
        key = object_id.lower()
        if key in self._names:
            return self._names[key]
        if self.refused or len(self._names) >= self.MAX_LOOKUPS or not _is_guid(key):
            return None
        reply = self.graph.get(f"/v1.0/servicePrincipals/{key}", {"$select": "id,displayName"})
        name = None
        if reply.status in (401, 403) and reply.error_code:
            self.refused = self.RIGHT
        elif reply.status == 200 and isinstance(reply.body, dict):
            name = str(reply.body.get("displayName") or "") or None
        elif reply.status == 404 and reply.error_code in GRAPH_NOT_FOUND:
            self.unknown.add(key)
        self._names[key] = name
        return name


def _is_guid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


def _principal(graph: RestClient, app_id: str) -> tuple[str, str] | None:
    """(object id, display name) of the principal, deleted or not; None when Graph has neither."""
    params = {"$filter": f"appId eq '{app_id}'", "$select": "id,displayName"}
    for path in (
        "/v1.0/servicePrincipals",
        "/v1.0/directory/deletedItems/microsoft.graph.servicePrincipal",
    ):
        reply = graph.get(path, params)
        if reply.status != 200 or not isinstance(reply.body, dict):
            # Graph's own 403 names the missing right; a throttle, a 5xx, a bare 401 or 404, or a
            # gateway's page says nothing of the principal or of the rights (a limitation)
            raise reply.problem(f"the service principal of app id {app_id}", Names.RIGHT)
        found = reply.body.get("value")
        if found:
            return str(found[0]["id"]), str(found[0].get("displayName") or app_id)
    return None


def collect(
    graph: RestClient, app_id: str, since: datetime, until: datetime, out: SourceReport
) -> list[Event]:
    principal = _principal(graph, app_id)
    if principal is None:
        out.notes.append(f"Microsoft Graph knows no principal with app id {app_id}")
        return []
    oid, name = principal
    flt = (
        f"activityDateTime ge {iso(since)} and activityDateTime le {iso(until)} "
        f"and targetResources/any(t: t/id eq '{oid}')"
    )
    reply = graph.get_all("/v1.0/auditLogs/directoryAudits", {"$filter": flt})
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise reply.problem("the audit log", RIGHT)
    events = []
    for item in reply.body.get("value") or []:
        when = parse_time(item.get("activityDateTime"))
        if when is None:
            continue
        operation = str(item.get("activityDisplayName"))
        if item.get("result") not in (None, "success"):
            operation += f" ({item.get('result')})"
        events.append(
            Event(
                when,
                NAME,
                _actor(item),
                operation,
                f"service principal {name} ({app_id})",
                CHANGE,
                _detail(item),
            )
        )
    return events
