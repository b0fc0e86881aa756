"""The Log Analytics query API (`api.loganalytics.io`): one workspace holding AZKVAuditLogs and
CDBDataPlaneRequests, queried through the lab's one KQL evaluator (diagnose/lab/kql.py).

`POST /v1/workspaces/{workspaceId}/query` and the resource-centric
`POST /v1/{resourceId}/query` (the records of that resource only), `{"query", "timespan"}` in,
`{"tables": [{"name": "PrimaryResult", "columns", "rows"}]}` out; errors in the API's shape
(docs/research/audit-and-inventory-shapes.md §4). The caller needs read access to the workspace
(Log Analytics Reader, or Reader) or, resource-centric, to the resource: else 403
`InsufficientAccessError`. The lab ingests at once (no ingestion lag; lab's choice).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnose.lab import kql
from diagnose.lab.derived import rbac_allows
from diagnose.lab.history import History
from diagnose.lab.services.common import AzureService, Context
from diagnose.lab.transport import Request, Response
from diagnose.timeline.window import parse_time

READ_WORKSPACE = "Microsoft.OperationalInsights/workspaces/query/read"
READ_RESOURCE = "Microsoft.Insights/logs/read"
_DURATION = re.compile(
    r"^P(?:(?P<d>\d+(?:\.\d+)?)D)?(?:T(?:(?P<h>\d+(?:\.\d+)?)H)?(?:(?P<m>\d+(?:\.\d+)?)M)?(?:(?P<s>\d+(?:\.\d+)?)S)?)?$",
    re.I,
)


def _duration(text: str) -> timedelta | None:
    m = _DURATION.match(text.strip())
    if m is None or not any(m.groupdict().values()):
        return None
    d, h, mi, s = (float(m.group(k) or 0) for k in "dhms")
    return timedelta(days=d, hours=h, minutes=mi, seconds=s)


def timespan(text: str, now: datetime) -> tuple[datetime, datetime] | None:
    """`PT12H`, `start/end` or `start/duration` (ISO 8601) as a (start, end) pair."""
    parts = text.split("/")
    if len(parts) == 1:
        span = _duration(parts[0])
        return (now - span, now) if span is not None else None
    if len(parts) != 2:
        return None
    start = parse_time(parts[0])
    end = parse_time(parts[1])
    if start is not None and end is None and (span := _duration(parts[1])) is not None:
        end = start + span
    return (start, end) if start is not None and end is not None else None


class LogAnalytics(AzureService):
    name = "loganalytics"

    def __init__(self, ctx: Context, history: History) -> None:
        super().__init__(ctx)
        self.history = history
        ws = r"/v1/workspaces/(?P<workspace>[^/]+)/query"
        self.route("POST", ws, self.query_workspace, re.I)
        self.route("GET", ws, self.query_workspace, re.I)
        self.route("POST", r"/v1(?P<resource>/subscriptions/.+)/query", self.query_resource, re.I)

    def error(self, status: int, code: str, message: str, **extra: object) -> Response:
        return Response(
            status,
            {
                "error": {
                    "message": message,
                    "code": code,
                    "correlationId": str(uuid.uuid4()),
                    **extra,
                }
            },
        )

    def unauthenticated(self, req: Request, reason: str) -> Response:
        return self.error(
            401, "AuthorizationRequiredError", "Valid authentication was not provided"
        )

    def not_found(self, req: Request) -> Response:
        return self.error(
            404, "PathNotFoundError", f"The requested path does not exist: {req.path}"
        )

    def _forbidden(self) -> Response:
        return self.error(
            403,
            "InsufficientAccessError",
            "The provided credentials have insufficient access to perform the requested operation",
        )

    def query_workspace(self, req: Request, workspace: str) -> Response:
        claims = self.authenticate(req)
        h = self.history
        if workspace.lower() not in (h.workspace_id, h.workspace_resource_id.lower()):
            return self.error(
                404, "WorkspaceNotFoundError", f"The workspace {workspace} could not be found"
            )
        if not rbac_allows(
            self.world, str(claims.get("oid")), h.workspace_resource_id, READ_WORKSPACE, data=False
        ):
            return self._forbidden()
        return self._run(req, None)

    def query_resource(self, req: Request, resource: str) -> Response:
        claims = self.authenticate(req)
        if not rbac_allows(self.world, str(claims.get("oid")), resource, READ_RESOURCE, data=False):
            return self._forbidden()
        return self._run(req, resource)

    def _run(self, req: Request, resource: str | None) -> Response:
        body: Any = req.json() if req.method == "POST" else dict(req.query)
        text = body.get("query") if isinstance(body, dict) else None
        if not isinstance(text, str) or not text.strip():
            return self.error(
                400,
                "BadArgumentError",
                "The request had some invalid properties",
                innererror={"code": "QueryMissing", "message": "No query was given."},
            )
        now = datetime.now(UTC)
        window = timespan(str(body.get("timespan")), now) if body.get("timespan") else None
        if body.get("timespan") and window is None:
            return self.error(
                400,
                "BadArgumentError",
                "The request had some invalid properties",
                innererror={
                    "code": "InvalidTimespan",
                    "message": f"'{body['timespan']}' is not an ISO 8601 time span",
                },
            )
        tables = self.history.log_tables()
        for table in tables.values():
            table.rows = [
                r
                for r in table.rows
                if (
                    resource is None
                    or str(r["_ResourceId"]).lower() == resource.rstrip("/").lower()
                )
                and (window is None or window[0] <= r["TimeGenerated"] <= window[1])
            ]
        try:
            result = kql.run(text, tables, now)
        except kql.KqlError as exc:
            inner = {
                "syntax": {
                    "code": "SyntaxError",
                    "message": "A recognition error occurred in the query.",
                    "innererror": {"code": "SYN0002", "message": exc.message},
                },
                "semantic": {
                    "code": "SemanticError",
                    "message": "A semantic error occurred.",
                    "innererror": {"code": "SEM0100", "message": exc.message},
                },
                "unsupported": {
                    "code": "SemanticError",
                    "message": "A semantic error occurred.",
                    "innererror": {
                        "code": "SEM0001",
                        "message": f"The lab's KQL does not support {exc.message}",
                    },
                },
            }[exc.kind]
            return self.error(
                400, "BadArgumentError", "The request had some invalid properties", innererror=inner
            )
        rows = [
            [json.dumps(c) if isinstance(c, dict | list) else c for c in row]
            for row in result.cells()
        ]
        return Response(
            200,
            {
                "tables": [
                    {
                        "name": "PrimaryResult",
                        "columns": [{"name": n, "type": t} for n, t in result.columns],
                        "rows": rows,
                    }
                ]
            },
        )
