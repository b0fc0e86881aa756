"""Azure Resource Graph: `POST /providers/Microsoft.ResourceGraph/resources` over the lab's tables.

Tables `resources` (the world's vault, key, identity and Cosmos DB account, in ARM's shapes
with `type` in lower case) and `resourcechanges` (the history), both filtered to what the
caller may read, as Resource Graph does. Queries run through the lab's one KQL evaluator
(diagnose/lab/kql.py); table names are case-insensitive. Request and response follow the
2024-04-01 specification (docs/research/audit-and-inventory-shapes.md §3): `subscriptions` or
`managementGroups` narrow the scope (neither: every subscription the caller can read), pages
of at most 1,000 rows follow each other by `$skipToken`, and each caller has a quota of queries
per window (15 per 5 s, the published example), said in `x-ms-user-quota-remaining` and
`x-ms-user-quota-resets-after` on every answer and enforced with a 429 `RateLimiting`.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from diagnose.lab import kql
from diagnose.lab.derived import rbac_allows
from diagnose.lab.services import api_versions
from diagnose.lab.services import arm_shapes as shapes
from diagnose.lab.services.common import AzureService
from diagnose.lab.state import State
from diagnose.lab.transport import Request, Response
from diagnose.lab.world import World

API_VERSIONS = ("2019-04-01", "2021-03-01", "2022-10-01", "2024-04-01")
PATH = r"/providers/Microsoft\.ResourceGraph/resources"
MAX_PAGE = 1000

# Resource Graph's generic table columns (docs/research/audit-and-inventory-shapes.md §3).
COLUMNS = {
    name: "dynamic"
    if name in ("properties", "tags", "identity", "sku", "plan", "zones")
    else "string"
    for name in (
        "id",
        "name",
        "type",
        "tenantId",
        "kind",
        "location",
        "resourceGroup",
        "subscriptionId",
        "managedBy",
        "sku",
        "plan",
        "properties",
        "tags",
        "identity",
        "zones",
        "extendedLocation",
    )
}


class ChangeSource(Protocol):
    """The lab's history as this service reads it (diagnose/lab/history.py)."""

    world: World
    lock: Any
    changes: list[dict[str, Any]]


@dataclass
class Quota:
    """Resource Graph's per-user quota: `limit` queries in every `window_s` (published: 15 per 5 s).

    A window starts with a user's first query and resets `window_s` later (the published example:
    remaining 10 with 3 s left becomes 15 and 00:00:05 once the 3 s are over).
    """

    limit: int = 15
    window_s: float = 5.0
    _windows: dict[str, tuple[float, int]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def take(self, user: str, now: float | None = None) -> tuple[bool, int, float]:
        """(allowed, remaining, seconds until the reset) for one query of `user`."""
        now = time.monotonic() if now is None else now
        with self._lock:
            start, used = self._windows.get(user, (now, 0))
            if now - start >= self.window_s:
                start, used = now, 0
            allowed = used < self.limit
            used += 1 if allowed else 0
            self._windows[user] = (start, used)
            return allowed, self.limit - used, max(0.0, self.window_s - (now - start))


def quota_headers(remaining: int, resets_after_s: float) -> dict[str, str]:
    whole = int(-(-resets_after_s // 1))  # rounded up: never tell a client to come back too early
    return {
        "x-ms-user-quota-remaining": str(max(0, remaining)),
        "x-ms-user-quota-resets-after": time.strftime("%H:%M:%S", time.gmtime(whole)),
    }


def resource_rows(
    state: State, tags: Callable[[str], dict[str, str]] | None = None
) -> list[dict[str, Any]]:
    """The `resources` rows of one world: its vault and keys, identities and Cosmos DB account."""
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
        row = {name: body.get(name) for name in COLUMNS}
        row |= {
            "type": str(body["type"]).lower(),
            "tenantId": w.tenant_id,
            "resourceGroup": parts[4].lower() if len(parts) > 4 else "",
            "subscriptionId": parts[2] if len(parts) > 2 else w.subscription_id,
        }
        if tags is not None:
            row["tags"] = tags(body["id"])
        rows.append(row)
    return rows


@dataclass(frozen=True)
class Scope:
    """What one query may see: the subscriptions the request names (or all), readable by the caller."""

    subscriptions: frozenset[str] | None  # lower case; None: every one the caller can read
    object_id: str

    def sees(self, world: World, target: str, rtype: str) -> bool:
        parts = target.lower().split("/")
        sub = parts[2] if len(parts) > 2 and parts[1] == "subscriptions" else ""
        if self.subscriptions is not None and sub not in self.subscriptions:
            return False
        return rbac_allows(world, self.object_id, target, f"{rtype}/read", data=False)


Tables = Callable[[Scope], dict[str, kql.Table]]


def _bad_query(service: AzureService, error: kql.KqlError) -> Response:
    code = {
        "syntax": "ParserFailure",
        "semantic": "InvalidQuery",
        "unsupported": "UnsupportedQuery",
    }
    return service.error(
        400,
        "BadRequest",
        _support_text(),
        details=[
            {
                "code": "InvalidQuery",
                "message": "Query is invalid. Please refer to the documentation for the Azure Resource Graph service and fix the error before retrying.",
            },
            {"code": code[error.kind], "message": error.message},
        ],
    )


def _support_text() -> str:
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return f"Please provide below info when asking for support: timestamp = {stamp}, correlationId = {uuid.uuid4()}."


def throttled(service: AzureService, remaining: int, resets_after_s: float) -> Response:
    """The 429 of a spent quota (body as real tenants got it: Azure/azure-cli-extensions#3325)."""
    response = service.error(
        429,
        "RateLimiting",
        _support_text(),
        details=[
            {
                "code": "RateLimiting",
                "message": "Client application has been throttled and should not attempt to repeat the request until an amount of time has elapsed. Please see https://aka.ms/resourcegraph-throttling for help.",
            }
        ],
    )
    response.headers.update(quota_headers(remaining, resets_after_s))
    return response


def answer(
    service: AzureService,
    req: Request,
    tables: Tables,
    *,
    quota: Quota | None = None,
    management_groups: Callable[[str], Iterable[str]] | None = None,
) -> Response:
    """Resource Graph's answer to `req` over the tables `tables(scope)` builds.

    `management_groups(name)` gives the subscriptions below a management group (None: the lab
    has none, and a request naming one sees nothing).
    """
    version = req.query.get("api-version")
    if not version:
        return service.error(400, *api_versions.MISSING)
    claims = service.authenticate(req)
    if refused := api_versions.unsupported(version, API_VERSIONS):
        return service.error(400, *refused)
    oid = str(claims.get("oid"))
    remaining, resets = 14, 5.0  # no quota modelled: every answer leaves 14 of 15 (lab's choice)
    if quota is not None:
        allowed, remaining, resets = quota.take(oid)
        if not allowed:
            return throttled(service, remaining, resets)
    body = req.json()
    text = body.get("query") if isinstance(body, dict) else None
    if not isinstance(text, str) or not text.strip():
        return service.error(400, "BadRequest", "The request body must hold a 'query'.")
    scope = Scope(_subscriptions(body, management_groups), oid)
    try:
        result = kql.run(text, tables(scope), datetime.now(UTC), fold_table_names=True)
    except kql.KqlError as exc:
        return _bad_query(service, exc)
    options = body.get("options") if isinstance(body.get("options"), dict) else {}
    rows = result.objects()
    top = min(max(int(options.get("$top") or MAX_PAGE), 1), MAX_PAGE)
    skip = _skip_of(options)
    page = rows[skip : skip + top]
    answer_body: dict[str, Any] = {
        "totalRecords": len(rows),
        "count": len(page),
        "resultTruncated": "false",
        "facets": [],
        "data": page,
    }
    if skip + len(page) < len(rows):
        token = json.dumps({"skip": skip + len(page)}).encode()
        answer_body["$skipToken"] = base64.b64encode(token).decode()
    if options.get("resultFormat") == "table":
        answer_body["data"] = {
            "columns": [{"name": n, "type": _arg_type(t)} for n, t in result.columns],
            "rows": [[r.get(n) for n, _ in result.columns] for r in page],
        }
    return Response(200, answer_body, quota_headers(remaining, resets))


def _subscriptions(
    body: dict[str, Any], management_groups: Callable[[str], Iterable[str]] | None
) -> frozenset[str] | None:
    subs = body.get("subscriptions")
    groups = body.get("managementGroups")
    if isinstance(subs, list) and subs:
        return frozenset(str(s).lower() for s in subs)
    if isinstance(groups, list) and groups:
        below: set[str] = set()
        for g in groups:
            below |= {s.lower() for s in (management_groups(str(g)) if management_groups else ())}
        return frozenset(below)
    return None


def _skip_of(options: dict[str, Any]) -> int:
    token = options.get("$skipToken")
    if isinstance(token, str) and token:
        try:
            return int(json.loads(base64.b64decode(token))["skip"])
        except (ValueError, KeyError, TypeError):
            return 0  # lab's choice: an unreadable token starts again from the first page
    return int(options.get("$skip") or 0)


def query(service: AzureService, history: ChangeSource, req: Request) -> Response:
    """The single-account lab's Resource Graph: the world's resources and its change history."""
    world = history.world

    def tables(scope: Scope) -> dict[str, kql.Table]:
        with service.state.lock:
            resources = [
                r for r in resource_rows(service.state) if scope.sees(world, r["id"], r["type"])
            ]
        with history.lock:
            changes = [
                r
                for r in history.changes
                if scope.sees(
                    world,
                    r["properties"]["targetResourceId"],
                    r["properties"]["targetResourceType"],
                )
            ]
        return {
            "resources": kql.Table(COLUMNS, resources),
            "resourcechanges": kql.Table(COLUMNS, changes),
        }

    return answer(service, req, tables)


def _arg_type(kind: str) -> str:
    return {
        "long": "integer",
        "int": "integer",
        "real": "number",
        "bool": "boolean",
        "dynamic": "object",
    }.get(kind, kind if kind in ("string", "datetime") else "string")
