"""The KQL the timeline runs: built once here, run by the sources, printed by `--kql`.

Columns are those Microsoft documents for each table (docs/research/audit-and-inventory-shapes.md
§3, §5, §6): Resource Graph's `resourcechanges`, `AZKVAuditLogs`, `CDBDataPlaneRequests`, and
the legacy `AzureDiagnostics` of a diagnostic setting in "Azure diagnostics" mode. That table's
columns come and go with the records ingested (a `_s`/`_d`/`_g` column exists only once a record
carried it), so its queries name in `where` only columns every record of their category has, and
project nothing: the rows come back with whatever columns the workspace holds.
"""

from __future__ import annotations

from datetime import datetime

from diagnose.timeline.window import iso

# Key Vault operations that change something (the rest are reads and cryptography).
KEY_VAULT_CHANGES = (
    "KeyCreate",
    "KeyUpdate",
    "KeyDelete",
    "KeyRotate",
    "KeyImport",
    "KeyRecover",
    "KeyRestore",
    "KeyPurge",
    "VaultPut",
    "VaultPatch",
    "VaultDelete",
)


def _quote(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _between(column: str, since: datetime, until: datetime) -> str:
    return f"| where {column} between (datetime({iso(since)}) .. datetime({iso(until)}))"


def _any_of(column: str, values: list[str]) -> str:
    return " or ".join(f"{column} =~ {_quote(v)}" for v in values)


def resource_changes(targets: list[str], since: datetime, until: datetime) -> str:
    return "\n".join(
        [
            "resourcechanges",
            "| extend changeTime = todatetime(properties.changeAttributes.timestamp), "
            "targetResourceId = tostring(properties.targetResourceId)",
            _between("changeTime", since, until),
            f"| where {_any_of('targetResourceId', targets)}",
            "| project changeTime, targetResourceId, changeType = tostring(properties.changeType), "
            "changedBy = tostring(properties.changeAttributes.changedBy), "
            "operation = tostring(properties.changeAttributes.operation), changes = properties.changes",
            "| order by changeTime asc",
        ]
    )


def visible_resources(targets: list[str]) -> str:
    return "\n".join(["resources", f"| where {_any_of('id', targets)}", "| project id"])


def _log_query(table: str, resource_id: str, since: datetime, until: datetime, *lines: str) -> str:
    """A Log Analytics query of one resource's records in the window, oldest first, at most 1000."""
    return "\n".join(
        [
            table,
            _between("TimeGenerated", since, until),
            f"| where _ResourceId =~ {_quote(resource_id)}",
            *lines,
            "| order by TimeGenerated asc",
            "| take 1000",
        ]
    )


def _changes_or(status_column: str) -> str:
    """Key Vault's changes, or its refusals (401 is the authentication challenge every client
    meets first: not a failure)."""
    changes = ", ".join(f'"{op}"' for op in KEY_VAULT_CHANGES)
    return (
        f"| where OperationName in ({changes}) "
        f"or ({status_column} >= 400 and {status_column} != 401)"
    )


def key_vault_events(vault_id: str, since: datetime, until: datetime) -> str:
    return _log_query(
        "AZKVAuditLogs",
        vault_id,
        since,
        until,
        _changes_or("HttpStatusCode"),
        "| project TimeGenerated, OperationName, HttpStatusCode, ResultSignature, "
        "ResultDescription, Identity, Id",
    )


def key_vault_legacy(vault_id: str, since: datetime, until: datetime) -> str:
    return _log_query(
        "AzureDiagnostics",
        vault_id,
        since,
        until,
        '| where ResourceProvider == "MICROSOFT.KEYVAULT" and Category == "AuditEvent"',
        _changes_or("httpStatusCode_d"),
    )


def cosmos_refusals(cosmos_id: str, since: datetime, until: datetime) -> str:
    return _log_query(
        "CDBDataPlaneRequests",
        cosmos_id,
        since,
        until,
        "| where StatusCode == 401 or StatusCode == 403",
        "| project TimeGenerated, OperationName, StatusCode, AadPrincipalId, DatabaseName, "
        "RequestResourceType",
    )


def cosmos_legacy(cosmos_id: str, since: datetime, until: datetime) -> str:
    return _log_query(
        "AzureDiagnostics",
        cosmos_id,
        since,
        until,
        '| where ResourceProvider == "MICROSOFT.DOCUMENTDB" and Category == "DataPlaneRequests"',
        '| where statusCode_s == "401" or statusCode_s == "403"',
    )
