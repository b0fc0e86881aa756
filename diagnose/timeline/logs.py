"""Key Vault's and Cosmos DB's own logs in Log Analytics, through azure-monitor-query.

By workspace id when the profile names one, else resource-centric (the vault's and the
account's own ids). `azure.monitor.query` is imported only here, on this path.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from diagnose.azure import pipeline
from diagnose.model import Limitation
from diagnose.profile import Profile
from diagnose.timeline import queries
from diagnose.timeline.model import CHANGE, FAILURE, Event, Query, SourceReport, Targets
from diagnose.timeline.window import parse_time

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

KEY_VAULT = "key-vault-logs"
COSMOS = "cosmos-logs"
RIGHT = "Log Analytics Reader on the workspace (or Reader on the resource, resource-centric)"
# The query API of each cloud (the Azure SDKs' LogsQueryAudience values).
ENDPOINTS = {
    "AzureCloud": "https://api.loganalytics.io",
    "AzureChinaCloud": "https://api.loganalytics.azure.cn",
    "AzureUSGovernment": "https://api.loganalytics.us",
}
INGESTION = "typically 20 s to 3 min to ingest"
SERVER_TIMEOUT_S = 60


def reports() -> tuple[SourceReport, SourceReport]:
    reach = "the workspace's retention (30 days by default)"
    return (
        SourceReport(
            KEY_VAULT,
            "Key Vault logs (AZKVAuditLogs)",
            reach=reach,
            lag=f"{INGESTION}; Key Vault logs at most 10 min after the operation",
        ),
        SourceReport(COSMOS, "Cosmos DB logs (CDBDataPlaneRequests)", reach=reach, lag=INGESTION),
    )


def endpoint(profile: Profile) -> str | None:
    return profile.loganalytics_url or ENDPOINTS.get(profile.cloud_name)


def plan(profile: Profile, targets: Targets, since: datetime, until: datetime) -> dict[str, Query]:
    """The queries per source; scope is the workspace id, else the resource id."""
    ws = profile.workspace_id
    out: dict[str, Query] = {}
    if targets.vault_id:
        scope = f"workspace {ws}" if ws else f"resource {targets.vault_id}"
        out[KEY_VAULT] = Query(
            "Log Analytics",
            scope,
            "Key Vault changes and refusals",
            queries.key_vault_events(targets.vault_id, since, until),
        )
    if targets.cosmos_id:
        scope = f"workspace {ws}" if ws else f"resource {targets.cosmos_id}"
        out[COSMOS] = Query(
            "Log Analytics",
            scope,
            "Cosmos DB data-plane refusals",
            queries.cosmos_refusals(targets.cosmos_id, since, until),
        )
    return out


def _rows(client: Any, query: Query, since: datetime, until: datetime) -> Iterator[dict[str, Any]]:
    from azure.monitor.query import LogsQueryStatus

    kind, _, scope = query.scope.partition(" ")
    run = client.query_workspace if kind == "workspace" else client.query_resource
    result = run(scope, query.text, timespan=(since, until), server_timeout=SERVER_TIMEOUT_S)
    tables = result.tables if result.status == LogsQueryStatus.SUCCESS else result.partial_data
    for table in tables or []:
        for row in table.rows:
            yield dict(zip(table.columns, row, strict=False))


def _identity(raw: Any) -> dict[str, Any]:
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        return {}
    claim = value.get("claim") if isinstance(value, dict) else None
    return claim if isinstance(claim, dict) else {}


def _kv_event(row: dict[str, Any], principal_app_id: str | None) -> Event | None:
    when = parse_time(row.get("TimeGenerated"))
    if when is None:
        return None
    claim = _identity(row.get("Identity"))
    upn = claim.get("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn") or claim.get("upn")
    appid = claim.get("appid")
    if upn:
        actor = str(upn)
    elif appid and principal_app_id and str(appid).lower() == principal_app_id.lower():
        actor = f"the CMK identity (app {appid})"
    else:
        actor = f"app {appid}" if appid else str(claim.get("oid") or "unknown")
    status = int(row.get("HttpStatusCode") or 0)
    operation = str(row.get("OperationName"))
    if status >= 400:
        return Event(
            when,
            KEY_VAULT,
            actor,
            f"{operation} refused: {status} {row.get('ResultSignature') or ''}".strip(),
            str(row.get("Id") or ""),
            FAILURE,
            str(row.get("ResultDescription") or ""),
        )
    return Event(
        when,
        KEY_VAULT,
        actor,
        operation,
        str(row.get("Id") or ""),
        CHANGE,
        "Key Vault does not log which attribute changed",
    )


def _cosmos_event(row: dict[str, Any], cosmos_id: str) -> Event | None:
    when = parse_time(row.get("TimeGenerated"))
    if when is None:
        return None
    operation = f"{row.get('OperationName')} refused: {row.get('StatusCode')}"
    return Event(
        when,
        COSMOS,
        f"principal {row.get('AadPrincipalId') or 'unknown'}",
        operation,
        cosmos_id,
        FAILURE,
        f"{row.get('RequestResourceType') or ''} {row.get('DatabaseName') or ''}".strip(),
    )


def collect(
    profile: Profile,
    credential: TokenCredential,
    targets: Targets,
    since: datetime,
    until: datetime,
    out: dict[str, SourceReport],
) -> list[Event]:
    planned = plan(profile, targets, since, until)
    for name, query in planned.items():
        out[name].queries = [query]
    url = endpoint(profile)
    if not url:
        for name in planned:
            out[name].limitation = Limitation(
                "the profile names no Log Analytics endpoint (loganalytics_url)"
            )
        return []
    from azure.core.exceptions import (
        ClientAuthenticationError,
        HttpResponseError,
        ServiceRequestError,
    )
    from azure.monitor.query import LogsQueryClient

    client = LogsQueryClient(
        credential,
        endpoint=url,
        transport=pipeline.transport(profile, "Log Analytics"),
        retry_policy=pipeline.retry_policy(),
    )
    events: list[Event] = []
    for name, query in planned.items():
        try:
            rows = list(_rows(client, query, since, until))
        except HttpResponseError as exc:
            status = exc.status_code or 0
            code = exc.error.code if exc.error else ""
            out[name].limitation = Limitation(
                f"Log Analytics refused the query ({status} {code})".strip(),
                RIGHT if status in (401, 403) else None,
            )
            continue
        except ClientAuthenticationError as exc:
            out[name].limitation = Limitation(
                f"no token for Log Analytics: {str(exc).splitlines()[0][:200]}"
            )
            continue
        except ServiceRequestError as exc:
            out[name].limitation = Limitation(f"cannot reach {url}: {type(exc).__name__}")
            continue
        for row in rows:
            event = (
                _kv_event(row, targets.principal_app_id)
                if name == KEY_VAULT
                else _cosmos_event(row, targets.cosmos_id or "")
            )
            if event is not None:
                events.append(event)
    return events
