"""Azure Resource Graph: `POST /providers/Microsoft.ResourceGraph/resources` over the lab's tables.

Tables `resources` (the world's vault, key, identity and Cosmos DB account, in ARM's shapes
with `type` in lower case) and `resourcechanges` (the history), both filtered to what the
caller may read, as Resource Graph does. Queries run through the lab's one KQL evaluator
(diagnose/lab/kql.py); table names are case-insensitive. Request and response follow the
2024-04-01 specification (docs/research/audit-and-inventory-shapes.md §3).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from diagnose.lab import kql
from diagnose.lab.derived import rbac_allows
from diagnose.lab.history import ARG_COLUMNS, History
from diagnose.lab.services import arm_shapes as shapes
from diagnose.lab.services.common import AzureService
from diagnose.lab.state import State
from diagnose.lab.transport import Request, Response

API_VERSIONS = ("2019-04-01", "2021-03-01", "2022-10-01", "2024-04-01")
PATH = r"/providers/Microsoft\.ResourceGraph/resources"


def _resource_rows(state: State) -> list[dict[str, Any]]:
    w = state.world
    bodies: list[dict[str, Any]] = []
    if not w.vault.deleted:
        bodies.append(shapes.vault(w))
        bodies += [shapes.key(w, name) for name, k in w.vault.keys.items() if not k.deleted]
    bodies += [shapes.identity(w, i) for i in w.identities]
    if w.cosmos.customer_readable:
        bodies.append(shapes.cosmos(w, state.observed().cmk_code))
    rows = []
    for body in bodies:
        parts = body["id"].split("/")
        row = {name: body.get(name) for name in ARG_COLUMNS}
        row |= {
            "type": str(body["type"]).lower(),
            "tenantId": w.tenant_id,
            "resourceGroup": parts[4].lower() if len(parts) > 4 else "",
            "subscriptionId": w.subscription_id,
        }
        rows.append(row)
    return rows


def _bad_query(service: AzureService, error: kql.KqlError) -> Response:
    code = {
        "syntax": "ParserFailure",
        "semantic": "InvalidQuery",
        "unsupported": "UnsupportedQuery",
    }
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return service.error(
        400,
        "BadRequest",
        f"Please provide below info when asking for support: timestamp = {stamp}, correlationId = {uuid.uuid4()}.",
        details=[
            {
                "code": "InvalidQuery",
                "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.",
            },
            {"code": code[error.kind], "message": error.message},
        ],
    )


def query(service: AzureService, history: History, req: Request) -> Response:
    version = req.query.get("api-version")
    if version not in API_VERSIONS:
        return service.error(
            400,
            "InvalidApiVersionParameter" if version else "MissingApiVersionParameter",
            f"The api-version '{version or ''}' is invalid. The supported versions are '{', '.join(API_VERSIONS)}'.",
        )
    claims = service.authenticate(req)
    body = req.json()
    text = body.get("query") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return service.error(400, "BadRequest", "The request body must hold a 'query'.")
    world = history.world
    subs = [str(s).lower() for s in (body.get("subscriptions") or [world.subscription_id])]
    oid = str(claims.get("oid"))

    def visible(target: str, rtype: str) -> bool:
        in_subscription = target.lower().startswith(f"/subscriptions/{world.subscription_id}")
        return (
            in_subscription
            and world.subscription_id in subs
            and rbac_allows(world, oid, target, f"{rtype}/read", data=False)
        )

    with service.state.lock:
        resources = [r for r in _resource_rows(service.state) if visible(r["id"], r["type"])]
    with history.lock:
        changes = [
            r
            for r in history.changes
            if visible(r["properties"]["targetResourceId"], r["properties"]["targetResourceType"])
        ]
    tables = {
        "resources": kql.Table(ARG_COLUMNS, resources),
        "resourcechanges": kql.Table(ARG_COLUMNS, changes),
    }
    try:
        result = kql.run(text, tables, datetime.now(UTC), fold_table_names=True)
    except kql.KqlError as exc:
        return _bad_query(service, exc)
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    top = int(options.get("$top") or 1000)
    skip = int(options.get("$skip") or 0)
    rows = result.objects()
    page = rows[skip : skip + min(max(top, 1), 1000)]
    answer: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(page),
        "resultTruncated": "false",
        "facets": [],
        "data": page,
    }
    if options.get("resultFormat") == "table":
        answer["data"] = {
            "columns": [{"name": n, "type": _arg_type(t)} for n, t in result.columns],
            "rows": [[r.get(n) for n, _ in result.columns] for r in page],
        }
    # quota is not modelled: every answer leaves 14 of 15 (lab's choice)
    headers = {"x-ms-user-quota-remaining": "14", "x-ms-user-quota-resets-after": "00:00:05"}
    return Response(200, answer, headers)


def _arg_type(kind: str) -> str:
    return {
        "long": "integer",
        "int": "integer",
        "real": "number",
        "bool": "boolean",
        "dynamic": "object",
    }.get(kind, kind if kind in ("string", "datetime") else "string")
