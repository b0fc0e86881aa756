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
from diagnose.timeline.entra import Names
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
            "Key Vault logs (AZKVAuditLogs, or AzureDiagnostics AuditEvent)",
            reach=reach,
            lag=f"{INGESTION}; Key Vault logs at most 10 min after the operation",
        ),
        SourceReport(
            COSMOS,
            "Cosmos DB logs (CDBDataPlaneRequests, or AzureDiagnostics DataPlaneRequests)",
            reach=reach,
            lag=INGESTION,
        ),
    )


def endpoint(profile: Profile) -> str | None:
    return profile.loganalytics_url or ENDPOINTS.get(profile.cloud_name)


# Per source: the resource-specific table, then the legacy AzureDiagnostics one (a diagnostic
# setting sends a resource's logs to one or the other, by its mode).
TABLES = {
    KEY_VAULT: ("AZKVAuditLogs", "AzureDiagnostics (Category AuditEvent)"),
    COSMOS: ("CDBDataPlaneRequests", "AzureDiagnostics (Category DataPlaneRequests)"),
}


# Per source: what it looks for, and its two queries (resource-specific, then AzureDiagnostics).
_PURPOSES = {
    KEY_VAULT: (
        "Key Vault changes and refusals",
        (queries.key_vault_events, queries.key_vault_legacy),
    ),
    COSMOS: ("Cosmos DB data-plane refusals", (queries.cosmos_refusals, queries.cosmos_legacy)),
}


def plan(
    profile: Profile, targets: Targets, since: datetime, until: datetime
) -> dict[str, list[Query]]:
    """The queries per source; scope is the workspace id, else the resource id."""
    ws = profile.workspace_id
    out: dict[str, list[Query]] = {}
    for name, resource_id in ((KEY_VAULT, targets.vault_id), (COSMOS, targets.cosmos_id)):
        if not resource_id:
            continue
        scope = f"workspace {ws}" if ws else f"resource {resource_id}"
        purpose, builders = _PURPOSES[name]
        out[name] = [
            Query("Log Analytics", scope, purpose + suffix, build(resource_id, since, until))
            for build, suffix in zip(builders, ("", " (AzureDiagnostics)"), strict=True)
        ]
    return out


def _rows(
    client: Any, query: Query, since: datetime, until: datetime, answered: list[int]
) -> Iterator[dict[str, Any]]:
    """The query's rows; each HTTP status the service answered is appended to `answered`."""
    from azure.monitor.query import LogsQueryStatus

    kind, _, scope = query.scope.partition(" ")
    run = client.query_workspace if kind == "workspace" else client.query_resource
    result = run(
        scope,
        query.text,
        timespan=(since, until),
        server_timeout=SERVER_TIMEOUT_S,
        raw_response_hook=lambda r: answered.append(r.http_response.status_code),
    )
    tables = result.tables if result.status == LogsQueryStatus.SUCCESS else result.partial_data
    for table in tables or []:
        for row in table.rows:
            yield dict(zip(table.columns, row, strict=False))


def _absent(exc: Any) -> bool:
    """Log Analytics' semantic error for a table (or an AzureDiagnostics column) the workspace
    does not hold: "Failed to resolve table or column expression named 'AZKVAuditLogs'"."""
    if (exc.status_code or 0) != 400 or exc.response is None:
        return False
    try:
        body = exc.response.text()
    except Exception:  # noqa: BLE001 - an unreadable body is not this error
        return False
    return "Failed to resolve" in body and "SemanticError" in body


def legacy_key_vault_row(row: dict[str, Any]) -> dict[str, Any]:
    """An AzureDiagnostics AuditEvent row as the AZKVAuditLogs columns the events are read from."""
    claim = {
        "appid": row.get("identity_claim_appid_g"),
        "oid": row.get("identity_claim_oid_g"),
        "upn": row.get("identity_claim_upn_s"),
    }
    status = row.get("httpStatusCode_d")
    return {
        "TimeGenerated": row.get("TimeGenerated"),
        "OperationName": row.get("OperationName"),
        "HttpStatusCode": int(float(status)) if status not in (None, "") else 0,
        "ResultSignature": row.get("ResultSignature"),
        "ResultDescription": row.get("ResultDescription"),
        "Identity": {"claim": {k: v for k, v in claim.items() if v}},
        "Id": row.get("id_s"),
    }


def legacy_cosmos_row(row: dict[str, Any]) -> dict[str, Any]:
    """An AzureDiagnostics DataPlaneRequests row as the CDBDataPlaneRequests columns."""
    return {
        "TimeGenerated": row.get("TimeGenerated"),
        "OperationName": row.get("OperationName"),
        "StatusCode": row.get("statusCode_s"),
        "AadPrincipalId": row.get("aadPrincipalId_g"),
        "DatabaseName": row.get("databaseName_s"),
        "RequestResourceType": row.get("requestResourceType_s"),
    }


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


def _cosmos_event(row: dict[str, Any], cosmos_id: str, names: Names) -> Event | None:
    when = parse_time(row.get("TimeGenerated"))
    if when is None:
        return None
    oid = str(row.get("AadPrincipalId") or "")
    name = names(oid) if oid else None
    actor = f"{name} (principal {oid})" if name else f"object id {oid}" if oid else "unknown"
    operation = f"{row.get('OperationName')} refused: {row.get('StatusCode')}"
    return Event(
        when,
        COSMOS,
        actor,
        operation,
        cosmos_id,
        FAILURE,
        f"{row.get('RequestResourceType') or ''} {row.get('DatabaseName') or ''}".strip(),
    )


def _name_notes(names: Names, report: SourceReport) -> None:
    """Say why a Cosmos DB caller is shown by its object id."""
    if names.refused:
        report.notes.append(
            f"callers are shown by object id: Microsoft Graph refused their names "
            f"(needs {names.refused})"
        )
    if names.unknown:
        report.notes.append(
            "shown by object id, not a service principal Microsoft Graph knows: "
            + ", ".join(sorted(names.unknown))
        )


def collect(
    profile: Profile,
    credential: TokenCredential,
    targets: Targets,
    since: datetime,
    until: datetime,
    out: dict[str, SourceReport],
    names: Names,
) -> list[Event]:
    planned = plan(profile, targets, since, until)
    for name, found in planned.items():
        out[name].queries = list(found)
    url = endpoint(profile)
    if not url:
        for name in planned:
            out[name].limitation = Limitation(
                "the profile names no Log Analytics endpoint (loganalytics_url)"
            )
        return []
    from azure.monitor.query import LogsQueryClient

    client = LogsQueryClient(
        credential,
        endpoint=url,
        transport=pipeline.transport(profile, "Log Analytics"),
        retry_policy=pipeline.retry_policy(),
    )
    events: list[Event] = []
    for name, found in planned.items():
        for row in _source_rows(client, name, found, since, until, url, out[name]):
            event = (
                _kv_event(row, targets.principal_app_id)
                if name == KEY_VAULT
                else _cosmos_event(row, targets.cosmos_id or "", names)
            )
            if event is not None:
                events.append(event)
    if COSMOS in planned:
        _name_notes(names, out[COSMOS])
    return events


def _refusal(exc: Any) -> Limitation:
    """Log Analytics' answer that is not rows: a refusal, with a right named, only in the
    service's own words (its error code); a bare status is said as what happened."""
    status = exc.status_code or 0
    code = exc.error.code if exc.error else ""
    if not code:
        return Limitation(
            f"Log Analytics answered {status} with no error of its own (a gateway's or proxy's "
            "answer, not the service's)"
        )
    said = "refused" if 400 <= status < 500 and status != 429 else "did not answer"
    return Limitation(
        f"Log Analytics {said} the query ({status} {code})",
        RIGHT if status in (401, 403) else None,
    )


def _source_rows(
    client: Any,
    name: str,
    found: list[Query],
    since: datetime,
    until: datetime,
    url: str,
    report: SourceReport,
) -> list[dict[str, Any]]:
    """One source's rows from its resource-specific table and from AzureDiagnostics; a table the
    workspace does not hold is skipped, neither held is the source's limitation."""
    from azure.core.exceptions import (
        DecodeError,
        HttpResponseError,
        ServiceRequestError,
    )

    rows: list[dict[str, Any]] = []
    held: list[str] = []
    for table, query in zip(TABLES[name], found, strict=True):
        legacy = table.startswith("AzureDiagnostics")
        answered: list[int] = []
        try:
            got = list(_rows(client, query, since, until, answered))
        except (DecodeError, ValueError):  # before HttpResponseError: DecodeError is one
            # azure-monitor-query reads an error's body as JSON and raises on a gateway's or a
            # proxy's page (a JSONDecodeError): not the service's words, so no verdict from it
            last = f" {answered[-1]}" if answered else ""
            report.limitation = Limitation(
                f"Log Analytics answered{last} with a body that is not JSON (empty, or a "
                "gateway's or proxy's page: not the service's own answer)"
            )
            return []
        except HttpResponseError as exc:
            if exc.response is None:  # nothing answered: the credential got no token
                report.limitation = Limitation(
                    f"no token for Log Analytics: {str(exc).splitlines()[0][:200]}"
                )
                return []
            if _absent(exc):
                continue
            report.limitation = _refusal(exc)
            return []
        except ServiceRequestError as exc:
            report.limitation = Limitation(f"cannot reach {url}: {type(exc).__name__}")
            return []
        held.append(table)
        convert = (
            (legacy_key_vault_row if name == KEY_VAULT else legacy_cosmos_row) if legacy else None
        )
        rows += [convert(r) for r in got] if convert else got
    if not held:
        first, second = TABLES[name]
        report.limitation = Limitation(
            f"the workspace holds no {first} table and no {second} records of this resource: "
            "does the resource's diagnostic setting send its logs to this workspace?"
        )
    elif held == [TABLES[name][1]]:
        report.notes.append(f"read from {held[0]}: the diagnostic setting's Azure diagnostics mode")
    return rows
