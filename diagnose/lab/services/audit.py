"""Microsoft Graph `GET /v1.0/auditLogs/directoryAudits` over the lab's history.

Shape, filters and the 403 follow docs/research/audit-and-inventory-shapes.md §1: `$filter`
on `activityDateTime` (ge, le), `activityDisplayName` (eq, startswith), `loggedByService`,
`initiatedBy/app/appId`, `initiatedBy/user/userPrincipalName` and
`targetResources/any(t: t/id eq '..')`, joined by `and`; `$top`; `@odata.nextLink` paging.
Without AuditLog.Read.All: 403 `Authentication_MSGraphPermissionMissing`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from diagnose.lab.history import GRAPH_AUDIT_PERMISSION, History
from diagnose.lab.services.common import AzureService
from diagnose.lab.transport import Request, Response
from diagnose.timeline.window import parse_time

PAGE = 50  # lab's choice: the default page size
_CLAUSE = re.compile(
    r"""^(?P<field>[\w/]+)\s+(?P<op>eq|ge|le)\s+(?P<value>'(?:[^']|'')*'|[\w:.+-]+)$
      | ^startswith\(\s*(?P<sfield>[\w/]+)\s*,\s*'(?P<svalue>(?:[^']|'')*)'\s*\)$
      | ^targetResources/any\(\s*(?P<var>\w+)\s*:\s*(?P=var)/(?P<tfield>id|displayName)\s+eq\s+'(?P<tvalue>(?:[^']|'')*)'\s*\)$""",
    re.X | re.I,
)
_FIELDS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "activitydatetime": lambda e: e["activityDateTime"],
    "activitydisplayname": lambda e: e["activityDisplayName"],
    "loggedbyservice": lambda e: e["loggedByService"],
    "category": lambda e: e["category"],
    "correlationid": lambda e: e["correlationId"],
    "initiatedby/app/appid": lambda e: (e["initiatedBy"].get("app") or {}).get("appId"),
    "initiatedby/user/userprincipalname": lambda e: (e["initiatedBy"].get("user") or {}).get(
        "userPrincipalName"
    ),
    "initiatedby/user/id": lambda e: (e["initiatedBy"].get("user") or {}).get("id"),
}


class BadFilter(ValueError):
    pass


def _predicate(clause: str) -> Callable[[dict[str, Any]], bool]:
    m = _CLAUSE.match(clause.strip())
    if m is None:
        raise BadFilter(clause)
    if m.group("tfield"):
        field, value = m.group("tfield"), m.group("tvalue").replace("''", "'")
        return lambda e: any(
            str(t.get(field)).lower() == value.lower() for t in e["targetResources"]
        )
    if m.group("sfield"):
        starts = _FIELDS.get(m.group("sfield").lower())
        prefix = m.group("svalue").replace("''", "'").lower()
        if starts is None:
            raise BadFilter(clause)
        return lambda e: str(starts(e) or "").lower().startswith(prefix)
    get = _FIELDS.get(m.group("field").lower())
    if get is None:
        raise BadFilter(clause)
    op, raw = m.group("op").lower(), m.group("value")
    if m.group("field").lower() == "activitydatetime":
        when = parse_time(raw.strip("'"))
        if when is None:
            raise BadFilter(clause)
        if op == "ge":
            return lambda e: parse_time(get(e)) >= when  # type: ignore[operator]
        if op == "le":
            return lambda e: parse_time(get(e)) <= when  # type: ignore[operator]
        return lambda e: parse_time(get(e)) == when
    if op != "eq":
        raise BadFilter(clause)
    value = raw.strip("'").replace("''", "'")
    return lambda e: str(get(e) or "").lower() == value.lower()


def directory_audits(service: AzureService, history: History, req: Request) -> Response:
    claims = service.authenticate(req)
    if GRAPH_AUDIT_PERMISSION not in (claims.get("roles") or []):
        return service.error(
            403,
            "Authentication_MSGraphPermissionMissing",
            f"Calling principal does not have required MSGraph permissions {GRAPH_AUDIT_PERMISSION}",
        )
    raw = req.query.get("$filter", "").strip()
    try:
        predicates = [_predicate(c) for c in re.split(r"\s+and\s+", raw, flags=re.I)] if raw else []
    except BadFilter as exc:
        return service.error(400, "BadRequest", f"Invalid filter clause: '{exc}'")
    try:
        top = max(1, min(int(req.query.get("$top", PAGE)), 1000))
        skip = int(req.query.get("$skiptoken", "0"))
    except ValueError:
        return service.error(400, "BadRequest", "Invalid $top or $skiptoken value.")
    with history.lock:
        events = [e for e in history.audits if all(p(e) for p in predicates)]
    events.sort(key=lambda e: e["activityDateTime"], reverse=True)  # newest first, as Graph
    page = events[skip : skip + top]
    base = service.ctx.urls["graph"]
    body: dict[str, Any] = {
        "@odata.context": f"{base}/v1.0/$metadata#auditLogs/directoryAudits",
        "value": page,
    }
    if skip + top < len(events):
        query = f"$top={top}&$skiptoken={skip + top}" + (f"&$filter={raw}" if raw else "")
        body["@odata.nextLink"] = f"{base}/v1.0/auditLogs/directoryAudits?{query}"
    return Response(200, body)
