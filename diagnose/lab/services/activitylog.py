"""The Azure Activity Log: `GET /subscriptions/{id}/providers/microsoft.insights/eventtypes/management/values`.

api-version 2015-04-01 only; `$filter` only in the five patterns the specification allows
(docs/research/audit-and-inventory-shapes.md §2), else 400 (lab's choice of code); `$select`
trims each record. The caller needs `Microsoft.Insights/eventtypes/values/read` at the scope
the filter names (Reader's `*/read`), else ARM's 403 `AuthorizationFailed`.
"""

from __future__ import annotations

import re
from typing import Any

from diagnose.lab.derived import in_scope, rbac_allows
from diagnose.lab.history import History
from diagnose.lab.services import api_versions
from diagnose.lab.services.common import AzureService
from diagnose.lab.transport import Request, Response
from diagnose.timeline.window import parse_time

API_VERSION = "2015-04-01"
READ = "Microsoft.Insights/eventtypes/values/read"
PAGE = 200  # lab's choice
_FILTER = re.compile(
    r"^eventTimestamp ge '(?P<ge>[^']+)' and eventTimestamp le '(?P<le>[^']+)'"
    r"(?: and (?P<field>resourceGroupName|resourceUri|resourceProvider|correlationId) eq '(?P<value>[^']*)')?$"
)
PATH = r"/subscriptions/(?P<sub>[^/]+)/providers/microsoft\.insights/eventtypes/management/values"


def _matches(event: dict[str, Any], field: str | None, value: str) -> bool:
    if field is None:
        return True
    if field == "resourceGroupName":
        return str(event["resourceGroupName"]).lower() == value.lower()
    if field == "resourceUri":
        return str(event["resourceId"]).lower() == value.rstrip("/").lower()
    if field == "resourceProvider":
        return str(event["resourceProviderName"]["value"]).lower() == value.lower()
    return str(event["correlationId"]).lower() == value.lower()


def list_events(service: AzureService, history: History, req: Request, sub: str) -> Response:
    version = req.query.get("api-version")
    if not version:
        return service.error(400, *api_versions.MISSING)
    claims = service.authenticate(req)
    if refused := api_versions.unsupported(version, (API_VERSION,)):
        return service.error(400, *refused)
    world = history.world
    m = _FILTER.match(req.query.get("$filter", "").strip())
    low, high = (parse_time(m.group("ge")), parse_time(m.group("le"))) if m else (None, None)
    if m is None or low is None or high is None:
        return service.error(
            400,
            "BadRequest",
            "The $filter is not one of the patterns the Activity Log accepts "
            "(eventTimestamp ge '..' and eventTimestamp le '..' [and resourceGroupName|resourceUri|"
            "resourceProvider|correlationId eq '..']).",
        )
    field, value = m.group("field"), m.group("value") or ""
    scope = f"/subscriptions/{sub}"
    if field == "resourceGroupName":
        scope += f"/resourceGroups/{value}"
    elif field == "resourceUri":
        scope = value
    oid = str(claims.get("oid"))
    if sub.lower() != world.subscription_id or not rbac_allows(world, oid, scope, READ, data=False):
        return service.error(
            403,
            "AuthorizationFailed",
            f"The client '{claims.get('appid')}' with object id '{oid}' does not have authorization to perform action '{READ}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
        )
    with history.lock:
        events = [
            e
            for e in history.activity
            if low <= parse_time(e["eventTimestamp"]) <= high  # type: ignore[operator]
            and _matches(e, field, value)
            and in_scope(f"/subscriptions/{sub}", e["resourceId"])
        ]
    events.sort(key=lambda e: e["eventTimestamp"], reverse=True)
    select = [s.strip() for s in req.query.get("$select", "").split(",") if s.strip()]
    if select:
        events = [{k: v for k, v in e.items() if k in select} for e in events]
    skip = (
        int(req.query.get("$skiptoken", "0") or 0)
        if req.query.get("$skiptoken", "0").isdigit()
        else 0
    )
    body: dict[str, Any] = {"value": events[skip : skip + PAGE]}
    if skip + PAGE < len(events):
        from urllib.parse import urlencode

        params = {k: v for k, v in req.query.items() if k != "$skiptoken"} | {
            "$skiptoken": str(skip + PAGE)
        }
        body["nextLink"] = f"{service.ctx.urls['arm']}{req.path}?{urlencode(params)}"
    return Response(200, body)
