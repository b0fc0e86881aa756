"""The lab's record of events: Entra audit events, the Activity Log, resource changes, and the Key
Vault and Cosmos DB log tables of a Log Analytics workspace, in Microsoft's published shapes
(docs/research/audit-and-inventory-shapes.md; docs/lab.md "History").

Each scenario carries its own story (`HISTORY`: who changed what, when, and how the failures
followed), written into the tables when the lab starts; every write the lab receives afterwards
is added by the recorder (diagnose/lab/recorder.py).
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from diagnose.lab.kql import Table
from diagnose.lab.world import World, stable_id

JsonObject = dict[str, Any]

GRAPH_AUDIT_PERMISSION = "AuditLog.Read.All"
WORKSPACE_NAME = "log-ajo"
WORKSPACE_GROUP = "rg-ajo-monitor"  # lab's choice: the workspace lives apart from the CMK chain


@dataclass(frozen=True)
class Actor:
    """Who made a change: a user (`upn` set) or an application / managed identity."""

    object_id: str
    name: str
    upn: str | None = None
    app_id: str | None = None
    ip: str = "203.0.113.24"

    @property
    def caller(self) -> str:
        """The Activity Log's `caller`: the UPN of a user, the object id of an application."""
        return self.upn or self.object_id


ADMIN = Actor(stable_id("user:admin@contoso.com"), "Contoso Admin", upn="admin@contoso.com")


def workspace_id() -> str:
    """The lab workspace's GUID (the "Workspace ID" of its Properties blade)."""
    return stable_id("workspace:" + WORKSPACE_NAME)


def actor_of(world: World, app_id: str | None) -> Actor | None:
    """The lab principal with this app id, as an actor (None when unknown)."""
    principal = world.principal_by_app(app_id, include_deleted=True) if app_id else None
    if principal is None:
        return None
    return Actor(
        principal.object_id, principal.display_name, app_id=principal.app_id, ip="127.0.0.1"
    )


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "Z"


# -- the tables -------------------------------------------------------------------------------------
# AZKVAuditLogs and CDBDataPlaneRequests: the documented columns the lab fills (Azure Monitor's
# table references, docs/research/audit-and-inventory-shapes.md §5, §6).
KV_COLUMNS = {
    "TimeGenerated": "datetime",
    "OperationName": "string",
    "OperationVersion": "string",
    "ResultType": "string",
    "ResultSignature": "string",
    "ResultDescription": "string",
    "HttpStatusCode": "int",
    "CallerIpAddress": "string",
    "Identity": "dynamic",
    "RequestUri": "string",
    "Id": "string",
    "CorrelationId": "string",
    "DurationMs": "int",
    "ClientInfo": "string",
    "IsRbacAuthorized": "bool",
    "IsAddressAuthorized": "bool",
    "KeyProperties": "dynamic",
    "Properties": "dynamic",
    "_ResourceId": "string",
    "TenantId": "string",
    "Type": "string",
}
COSMOS_COLUMNS = {
    "TimeGenerated": "datetime",
    "AccountName": "string",
    "ActivityId": "string",
    "AadPrincipalId": "string",
    "ClientIpAddress": "string",
    "DatabaseName": "string",
    "CollectionName": "string",
    "OperationName": "string",
    "RequestResourceType": "string",
    "StatusCode": "int",
    "DurationMs": "real",
    "RequestCharge": "real",
    "UserAgent": "string",
    "_ResourceId": "string",
    "TenantId": "string",
    "Type": "string",
}
# AzureDiagnostics (the legacy table of a diagnostic setting in "Azure diagnostics" mode): one
# table for every resource, its columns the fixed ones plus each record's properties flattened
# with a type suffix (_s string, _d number, _g GUID). Names as Microsoft documents them: Key Vault's
# AuditEvent (azure-key-vault.md's column table; the identity_claim_oid_g / _upn_s and clientInfo_s
# names from Microsoft's own queries), Cosmos DB's DataPlaneRequests (monitor-logs-basic-queries.md
# and the "Collections with throttles" sample; aadPrincipalId_g from how-to-setup-rbac.md, "Audit
# data requests"): docs/research/audit-and-inventory-shapes.md §5, §6.
AZURE_DIAGNOSTICS = "AzureDiagnostics"
AD_COLUMNS = {
    "TimeGenerated": "datetime",
    "Category": "string",
    "OperationName": "string",
    "OperationVersion": "string",
    "ResultType": "string",
    "ResultSignature": "string",
    "ResultDescription": "string",
    "CallerIPAddress": "string",
    "CorrelationId": "string",
    "DurationMs": "long",
    "Resource": "string",
    "ResourceGroup": "string",
    "ResourceId": "string",
    "ResourceProvider": "string",
    "ResourceType": "string",
    "SubscriptionId": "string",
    "SourceSystem": "string",
    # Key Vault, AuditEvent
    "httpStatusCode_d": "real",
    "id_s": "string",
    "requestUri_s": "string",
    "clientInfo_s": "string",
    "identity_claim_appid_g": "guid",
    "identity_claim_oid_g": "guid",
    "identity_claim_upn_s": "string",
    # Cosmos DB, DataPlaneRequests
    "statusCode_s": "string",
    "activityId_g": "guid",
    "databaseName_s": "string",
    "collectionName_s": "string",
    "requestResourceType_s": "string",
    "clientIpAddress_s": "string",
    "userAgent_s": "string",
    "requestCharge_s": "string",
    "duration_s": "string",
    "aadPrincipalId_g": "guid",
    "_ResourceId": "string",
    "TenantId": "string",
    "Type": "string",
}
RESOURCE_SPECIFIC, LEGACY = "resource-specific", "azure-diagnostics"
NO_SETTING = "none"  # no diagnostic setting sends the vault's or the account's logs: no table


def _common(row: JsonObject, category: str, provider: str, rtype: str) -> JsonObject:
    """The fixed AzureDiagnostics columns of a resource-specific row."""
    rid = str(row["_ResourceId"])
    parts = rid.split("/")
    return {
        "TimeGenerated": row["TimeGenerated"],
        "Category": category,
        "OperationName": row["OperationName"],
        "Resource": parts[-1].upper(),
        "ResourceGroup": parts[4].upper() if len(parts) > 4 else "",
        "ResourceId": rid.upper(),
        "ResourceProvider": provider,
        "ResourceType": rtype,
        "SubscriptionId": parts[2] if len(parts) > 2 else "",
        "SourceSystem": "Azure",
        "_ResourceId": rid.lower(),
        "TenantId": row["TenantId"],
        "Type": AZURE_DIAGNOSTICS,
    }


def legacy_key_vault(row: JsonObject) -> JsonObject:
    """An AZKVAuditLogs row as Key Vault's AuditEvent lands in AzureDiagnostics."""
    claim = (row.get("Identity") or {}).get("claim") or {}
    out = _common(row, "AuditEvent", "MICROSOFT.KEYVAULT", "VAULTS")
    out |= {
        "OperationVersion": row["OperationVersion"],
        "ResultType": row["ResultType"],
        "ResultSignature": row["ResultSignature"],
        "ResultDescription": row["ResultDescription"],
        "CallerIPAddress": row["CallerIpAddress"],
        "CorrelationId": row["CorrelationId"],
        "DurationMs": row["DurationMs"],
        "httpStatusCode_d": float(row["HttpStatusCode"]),
        "id_s": row["Id"],
        "requestUri_s": row["RequestUri"],
        "clientInfo_s": row["ClientInfo"],
        "identity_claim_oid_g": claim.get("oid"),
    }
    if claim.get("appid"):
        out["identity_claim_appid_g"] = claim["appid"]
    upn = claim.get("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn")
    if upn:
        out["identity_claim_upn_s"] = upn
    return out


def legacy_cosmos(row: JsonObject) -> JsonObject:
    """A CDBDataPlaneRequests row as Cosmos DB's DataPlaneRequests lands in AzureDiagnostics."""
    out = _common(row, "DataPlaneRequests", "MICROSOFT.DOCUMENTDB", "DATABASEACCOUNTS")
    return out | {
        "statusCode_s": str(row["StatusCode"]),
        "activityId_g": row["ActivityId"],
        "databaseName_s": row["DatabaseName"],
        "collectionName_s": row["CollectionName"],
        "requestResourceType_s": row["RequestResourceType"],
        "clientIpAddress_s": row["ClientIpAddress"],
        "userAgent_s": row["UserAgent"],
        "requestCharge_s": f"{row['RequestCharge']:.6f}",
        "duration_s": f"{row['DurationMs'] / 1000:.6f}",
        "aadPrincipalId_g": row["AadPrincipalId"],
    }


_REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized"}
_REASONS |= {403: "Forbidden", 404: "Not Found", 409: "Conflict", 429: "Too Many Requests"}


def reason(status: int) -> str:
    return _REASONS.get(status, "Error" if status >= 400 else "OK")


@dataclass
class History:
    """Every record the lab keeps, behind one lock; times are aware UTC datetimes."""

    world: World
    audits: list[JsonObject] = field(default_factory=list)
    activity: list[JsonObject] = field(default_factory=list)
    changes: list[JsonObject] = field(default_factory=list)
    kv_logs: list[JsonObject] = field(default_factory=list)
    cosmos_logs: list[JsonObject] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)
    # How the vault's and the account's diagnostic settings send their logs to the workspace:
    # resource-specific tables (AZKVAuditLogs, CDBDataPlaneRequests), the legacy AzureDiagnostics,
    # or NO_SETTING (none does).
    mode: str = RESOURCE_SPECIFIC

    @property
    def workspace_id(self) -> str:
        return workspace_id()

    @property
    def workspace_resource_id(self) -> str:
        w = self.world
        return (
            f"/subscriptions/{w.subscription_id}/resourceGroups/{WORKSPACE_GROUP}"
            f"/providers/Microsoft.OperationalInsights/workspaces/{WORKSPACE_NAME}"
        )

    # -- writing ------------------------------------------------------------------------------------
    def audit(
        self,
        when: datetime,
        activity: str,
        actor: Actor,
        target_id: str,
        target_name: str,
        modified: Sequence[tuple[str, str | None, str | None]] = (),
        result: str = "success",
    ) -> None:
        """A Graph directoryAudit (Core Directory, ApplicationManagement) about a service principal."""
        initiated: JsonObject = {"user": None, "app": None}
        if actor.upn:
            initiated["user"] = {
                "id": actor.object_id,
                "displayName": actor.name,
                "userPrincipalName": actor.upn,
                "ipAddress": actor.ip,
            }
        else:
            initiated["app"] = {
                "appId": actor.app_id,
                "displayName": actor.name,
                "servicePrincipalId": actor.object_id,
                "servicePrincipalName": actor.name,
            }
        props = [{"displayName": n, "oldValue": o, "newValue": v} for n, o, v in modified]
        if modified:
            names = ", ".join(n for n, _, _ in modified)
            props.append(
                {
                    "displayName": "Included Updated Properties",
                    "oldValue": None,
                    "newValue": f'"{names}"',
                }
            )
        correlation = str(uuid.uuid4())
        event = {
            "id": f"Directory_{correlation}_{len(self.audits) + 1}",
            "category": "ApplicationManagement",
            "correlationId": correlation,
            "result": result,
            "resultReason": "",
            "activityDisplayName": activity,
            "activityDateTime": iso(when),
            "loggedByService": "Core Directory",
            "operationType": _operation_type(activity),
            "initiatedBy": initiated,
            "targetResources": [
                {
                    "id": target_id,
                    "displayName": target_name,
                    "type": "ServicePrincipal",
                    "userPrincipalName": None,
                    "groupType": None,
                    "modifiedProperties": props,
                }
            ],
            "additionalDetails": [],
        }
        with self.lock:
            self.audits.append(event)

    def operation(
        self,
        when: datetime,
        operation: str,
        resource_id: str,
        actor: Actor,
        status: int = 200,
        duration: timedelta = timedelta(seconds=2),
    ) -> None:
        """An Activity Log Administrative operation: its BeginRequest and EndRequest records."""
        w = self.world
        correlation = str(uuid.uuid4())
        group = _group_of(resource_id)
        provider = operation.split("/", 1)[0]
        rtype = operation.rsplit("/", 1)[0]
        method = "DELETE" if operation.endswith("/delete") else "PUT"
        ok = status < 400
        for event_name, at, state, sub in (
            ("BeginRequest", when, "Started", ""),
            ("EndRequest", when + duration, "Succeeded" if ok else "Failed", reason(status)),
        ):
            event_id = str(uuid.uuid4())
            record: JsonObject = {
                "authorization": {"action": operation, "scope": resource_id},
                "caller": actor.caller,
                "claims": {
                    "aud": "https://management.core.windows.net/",
                    "iss": f"https://sts.windows.net/{w.tenant_id}/",
                    "http://schemas.microsoft.com/identity/claims/objectidentifier": actor.object_id,
                    **({"appid": actor.app_id} if actor.app_id else {}),
                    **({"name": actor.upn} if actor.upn else {}),
                },
                "correlationId": correlation,
                "description": "",
                "eventDataId": event_id,
                "eventName": {"value": event_name, "localizedValue": event_name},
                "category": {"value": "Administrative", "localizedValue": "Administrative"},
                "httpRequest": {
                    "clientRequestId": str(uuid.uuid4()),
                    "clientIpAddress": actor.ip,
                    "method": method,
                },
                "id": f"{resource_id}/events/{event_id}/ticks/{int(at.timestamp() * 10**7)}",
                "level": "Informational" if ok else "Error",
                "resourceGroupName": group,
                "resourceProviderName": {"value": provider, "localizedValue": provider},
                "resourceId": resource_id,
                "resourceType": {"value": rtype, "localizedValue": rtype},
                "operationId": correlation,
                "operationName": {"value": operation, "localizedValue": operation},
                "properties": {"statusCode": reason(status) if event_name == "EndRequest" else ""},
                "status": {"value": state, "localizedValue": state},
                "subStatus": {"value": sub, "localizedValue": sub},
                "eventTimestamp": iso(at),
                "submissionTimestamp": iso(at + timedelta(seconds=12)),
                "subscriptionId": w.subscription_id,
                "tenantId": w.tenant_id,
            }
            with self.lock:
                self.activity.append(record)

    def change(
        self,
        when: datetime,
        target_id: str,
        target_type: str,
        change_type: str,
        actor: Actor,
        operation: str,
        changes: dict[str, tuple[Any, Any]] | None = None,
        client: str = "Azure Portal",
    ) -> None:
        """A Resource Graph `resourcechanges` row (properties as get-resource-changes.md shows them)."""
        w = self.world
        change_id = f"{int(when.timestamp() * 1000)}_{uuid.uuid4()}"
        props: JsonObject = {
            "targetResourceId": target_id,
            "targetResourceType": target_type.lower(),
            "changeType": change_type,
            "changeAttributes": {
                "previousResourceSnapshotId": uuid.uuid4().hex,
                "newResourceSnapshotId": uuid.uuid4().hex,
                "correlationId": str(uuid.uuid4()),
                "changedByType": "User" if actor.upn else "AppId",
                "changesCount": len(changes or {}) if change_type == "Update" else 0,
                "clientType": client,
                "changedBy": actor.upn or actor.app_id or actor.object_id,
                "operation": operation.lower(),
                "timestamp": when.astimezone(UTC).isoformat(timespec="milliseconds"),
            },
        }
        if change_type == "Update":
            props["changes"] = {
                path: {"newValue": _text(new), "previousValue": _text(old)}
                for path, (old, new) in (changes or {}).items()
            }
        row = {
            "id": f"{target_id}/providers/Microsoft.Resources/changes/{change_id}",
            "name": change_id,
            "type": "microsoft.resources/changes",
            "tenantId": w.tenant_id,
            "kind": "",
            "location": "",
            "resourceGroup": _group_of(target_id).lower(),
            "subscriptionId": w.subscription_id,
            "managedBy": "",
            "sku": None,
            "plan": None,
            "properties": props,
            "tags": None,
            "identity": None,
            "zones": None,
            "extendedLocation": None,
        }
        with self.lock:
            self.changes.append(row)

    def key_vault_log(
        self,
        when: datetime,
        operation: str,
        status: int,
        actor: Actor,
        object_uri: str,
        description: str = "",
        *,
        rbac: bool | None = None,
        address: bool | None = True,
        client: str = "",
    ) -> None:
        """An AZKVAuditLogs row (Key Vault's AuditEvent, resource-specific table)."""
        w = self.world
        claim: JsonObject = {
            "http://schemas.microsoft.com/identity/claims/objectidentifier": actor.object_id,
            "oid": actor.object_id,
        }
        if actor.app_id:
            claim["appid"] = actor.app_id
        if actor.upn:
            claim["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn"] = actor.upn
        row = {
            "TimeGenerated": when,
            "OperationName": operation,
            "OperationVersion": "7.5",
            "ResultType": "Success" if status < 400 else reason(status),
            "ResultSignature": reason(status),
            "ResultDescription": description,
            "HttpStatusCode": status,
            "CallerIpAddress": actor.ip,
            "Identity": {"claim": claim},
            "RequestUri": object_uri + "?api-version=7.5",
            "Id": object_uri,
            "CorrelationId": str(uuid.uuid4()),
            "DurationMs": 14,
            "ClientInfo": client,
            "IsRbacAuthorized": rbac,
            "IsAddressAuthorized": address,
            "KeyProperties": None,
            "Properties": None,
            "_ResourceId": w.vault.id.upper(),
            "TenantId": self.workspace_id,
            "Type": "AZKVAuditLogs",
        }
        with self.lock:
            self.kv_logs.append(row)

    def cosmos_log(
        self,
        when: datetime,
        operation: str,
        status: int,
        principal_id: str,
        resource_type: str = "Document",
        database: str = "",
    ) -> None:
        """A CDBDataPlaneRequests row (only the columns Microsoft documents; no sub-status)."""
        w = self.world
        row = {
            "TimeGenerated": when,
            "AccountName": w.cosmos.name.upper(),
            "ActivityId": str(uuid.uuid4()),
            "AadPrincipalId": principal_id,
            "ClientIpAddress": "10.1.4.7",
            "DatabaseName": database,
            "CollectionName": "",
            "OperationName": operation,
            "RequestResourceType": resource_type,
            "StatusCode": status,
            "DurationMs": 3.2,
            "RequestCharge": 0.0 if status >= 400 else 2.8,
            "UserAgent": "",
            "_ResourceId": w.cosmos.id.upper(),
            "TenantId": self.workspace_id,
            "Type": "CDBDataPlaneRequests",
        }
        with self.lock:
            self.cosmos_logs.append(row)

    # -- reading ------------------------------------------------------------------------------------
    def log_tables(self) -> dict[str, Table]:
        """The workspace's tables: those of its diagnostic settings' mode only (a workspace no
        setting sends resource-specific logs to has no such table, and a query naming it fails)."""
        with self.lock:
            if self.mode == NO_SETTING:
                return {}
            if self.mode == LEGACY:
                rows = [legacy_key_vault(r) for r in self.kv_logs]
                rows += [legacy_cosmos(r) for r in self.cosmos_logs]
                return {AZURE_DIAGNOSTICS: Table(AD_COLUMNS, rows)}
            return {
                "AZKVAuditLogs": Table(KV_COLUMNS, list(self.kv_logs)),
                "CDBDataPlaneRequests": Table(COSMOS_COLUMNS, list(self.cosmos_logs)),
            }


def _operation_type(activity: str) -> str:
    first = activity.split(" ", 1)[0]
    return {"Add": "Add", "Remove": "Delete", "Hard": "Delete", "Restore": "Update"}.get(
        first, "Update"
    )


def _text(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _group_of(resource_id: str) -> str:
    """The resource group a resource id names, as it spells it ("" when it names none)."""
    parts = resource_id.split("/")
    return parts[4] if len(parts) > 4 and parts[3].lower() == "resourcegroups" else ""


# -- each scenario's own story ------------------------------------------------------------------------
@dataclass(frozen=True)
class Story:
    """What happened in a scenario: one change by an administrator, and how the failures followed.

    `change` names the change (see `_CHANGES`); `minutes_ago` is when; `refusal` is Key Vault's
    answer to the CMK identity's unwrap after it (None: Cosmos DB cannot even reach Key Vault,
    as with a disabled principal, whose token Entra ID refuses); `fails` says whether the account
    is refused at all (a benign change breaks nothing).
    """

    change: str
    minutes_ago: float
    refusal: tuple[int, str] | None = None
    fails: bool = True


_FORBIDDEN_RBAC = (
    403,
    "Caller is not authorized to perform action on resource. If role assignments, deny "
    "assignments or role definitions were changed recently, please observe propagation time.",
)
HISTORY: dict[str, Story] = {
    "healthy": Story("vault-tag", 5 * 24 * 60, fails=False),
    "sp-disabled": Story("sp-disable", 47),
    "sp-deleted": Story("sp-remove", 120),
    "kv-role-missing": Story("role-delete", 52, _FORBIDDEN_RBAC),
    "kv-access-policy-missing": Story(
        "policy-remove",
        55,
        (
            403,
            "The user, group or application does not have keys unwrapKey permission on key vault.",
        ),
    ),
    "key-disabled": Story(
        "key-disable", 38, (403, "Operation unwrapKey is not allowed on a disabled key.")
    ),
    "key-not-found": Story(
        "key-delete", 64, (404, "A key with (name/id) cmk was not found in this key vault.")
    ),
    "kv-firewall": Story(
        "vault-firewall",
        41,
        (403, "Client address is not authorized and caller is not a trusted service."),
    ),
    "cosmos-identity-undefined": Story("cosmos-identity", 33),
}

UNWRAP_EVERY = timedelta(minutes=30)  # Cosmos DB's unwraps of its key while healthy (lab's choice)
FAILING_EVERY = timedelta(minutes=5)  # its retries once refused
FIRST_FAILURE_AFTER = timedelta(minutes=18)  # the account notices the change (lab's choice)
CALLER_EVERY = timedelta(minutes=3)  # the production caller's requests, 403 once revoked
SEED_DAYS = 3  # how far back the seeded key-unwrap history reaches


def seed(history: History, scenario: str, now: datetime) -> None:
    """Write the scenario's story into the tables: healthy traffic, the change, the failures."""
    world = history.world
    story = HISTORY.get(scenario)
    cmk = world.principals.get(world.cmk_principal_id)
    changed = now - timedelta(minutes=story.minutes_ago) if story else None
    if story:
        _CHANGES[story.change](history, changed or now)
    if cmk is None or world.topology != "own":
        return
    cosmos_actor = Actor(cmk.object_id, cmk.display_name, app_id=cmk.app_id, ip="10.0.0.4")
    broken = changed if story and story.fails else None
    key_uri = world.vault.key_uri(world.key_name, world.vault.keys[world.key_name].version)
    at = now - timedelta(days=SEED_DAYS)
    while at < (broken or now):
        history.key_vault_log(
            at, "KeyUnwrap", 200, cosmos_actor, key_uri, rbac=True, client="CosmosDB"
        )
        at += UNWRAP_EVERY
    if broken is None or story is None:
        return
    first = broken + FIRST_FAILURE_AFTER
    at = first
    while story.refusal and at < now:
        status, text = story.refusal
        rbac = "not authorized to perform" not in text
        address = "Client address" not in text
        history.key_vault_log(
            at,
            "KeyUnwrap",
            status,
            cosmos_actor,
            key_uri,
            text,
            rbac=rbac,
            address=address,
            client="CosmosDB",
        )
        at += FAILING_EVERY
    at = first + timedelta(seconds=12)
    while at < now:
        history.cosmos_log(at, "Query", 403, world.caller_id, database="ajo")
        at += CALLER_EVERY


def _sp_disable(h: History, when: datetime) -> None:
    p = h.world.principals[h.world.cmk_principal_id]
    h.audit(
        when,
        "Update service principal",
        ADMIN,
        p.object_id,
        p.display_name,
        [("AccountEnabled", "[true]", "[false]")],
    )


def _sp_remove(h: History, when: datetime) -> None:
    p = h.world.principals[h.world.cmk_principal_id]
    if p.deleted_at:
        when = datetime.fromtimestamp(p.deleted_at, UTC)
    h.audit(when, "Remove service principal", ADMIN, p.object_id, p.display_name)


def _role_delete(h: History, when: datetime) -> None:
    w = h.world
    rid = f"{w.vault.id}/providers/Microsoft.Authorization/roleAssignments/{stable_id('ra:cmk-encryption-user')}"
    h.operation(when, "Microsoft.Authorization/roleAssignments/delete", rid, ADMIN)


def _policy_remove(h: History, when: datetime) -> None:
    w = h.world
    h.operation(
        when,
        "Microsoft.KeyVault/vaults/accessPolicies/write",
        w.vault.id + "/accessPolicies/remove",
        ADMIN,
    )
    h.change(
        when,
        w.vault.id,
        "Microsoft.KeyVault/vaults",
        "Update",
        ADMIN,
        "Microsoft.KeyVault/vaults/accessPolicies/write",
        {f"properties.accessPolicies[{w.cmk_principal_id}]": ("get, wrapKey, unwrapKey", None)},
    )


def _key_ids(w: World) -> tuple[str, str]:
    return f"{w.vault.id}/keys/{w.key_name}", w.vault.key_uri(
        w.key_name, w.vault.keys[w.key_name].version
    )


def _key_disable(h: History, when: datetime) -> None:
    arm_id, uri = _key_ids(h.world)
    h.key_vault_log(when, "KeyUpdate", 200, ADMIN, uri, rbac=True, client="Azure Portal")
    h.change(
        when,
        arm_id,
        "Microsoft.KeyVault/vaults/keys",
        "Update",
        ADMIN,
        "Microsoft.KeyVault/vaults/keys/update/action",
        {"properties.attributes.enabled": (True, False)},
    )


def _key_delete(h: History, when: datetime) -> None:
    arm_id, uri = _key_ids(h.world)
    h.key_vault_log(
        when, "KeyDelete", 200, ADMIN, uri.rsplit("/", 1)[0], rbac=True, client="Azure Portal"
    )
    h.change(
        when,
        arm_id,
        "Microsoft.KeyVault/vaults/keys",
        "Delete",
        ADMIN,
        "Microsoft.KeyVault/vaults/keys/delete",
    )


def _vault_write(h: History, when: datetime, changes: dict[str, tuple[Any, Any]]) -> None:
    """An administrator's `vaults/write`: its Activity Log operation and its resource change."""
    w = h.world
    h.operation(when, "Microsoft.KeyVault/vaults/write", w.vault.id, ADMIN)
    h.change(
        when,
        w.vault.id,
        "Microsoft.KeyVault/vaults",
        "Update",
        ADMIN,
        "Microsoft.KeyVault/vaults/write",
        changes,
    )


def _vault_firewall(h: History, when: datetime) -> None:
    _vault_write(
        h,
        when,
        {
            "properties.networkAcls.defaultAction": ("Allow", "Deny"),
            "properties.networkAcls.bypass": ("AzureServices", "None"),
        },
    )


def _vault_tag(h: History, when: datetime) -> None:
    _vault_write(h, when, {"tags.owner": (None, "platform-team")})


def _cosmos_identity(h: History, when: datetime) -> None:
    w = h.world
    h.operation(when, "Microsoft.DocumentDB/databaseAccounts/write", w.cosmos.id, ADMIN)
    new = w.cosmos.default_identity
    old = "UserAssignedIdentity=" + (w.identities[0].id if w.identities else "")
    h.change(
        when,
        w.cosmos.id,
        "Microsoft.DocumentDB/databaseAccounts",
        "Update",
        ADMIN,
        "Microsoft.DocumentDB/databaseAccounts/write",
        {"properties.defaultIdentity": (old, new)},
    )


_CHANGES = {
    "sp-disable": _sp_disable,
    "sp-remove": _sp_remove,
    "role-delete": _role_delete,
    "policy-remove": _policy_remove,
    "key-disable": _key_disable,
    "key-delete": _key_delete,
    "vault-firewall": _vault_firewall,
    "vault-tag": _vault_tag,
    "cosmos-identity": _cosmos_identity,
}


def start(world: World, scenario: str, now: datetime | None = None) -> History:
    """The history of a lab just started: the scenario's story, and the diagnosing identity's
    right to read the audit log (the lab grants it, as an engineer would for this tool)."""
    diagnoser = world.diagnoser
    if GRAPH_AUDIT_PERMISSION not in diagnoser.app_roles:
        diagnoser.app_roles.append(GRAPH_AUDIT_PERMISSION)
    history = History(world)
    seed(history, scenario, now or datetime.now(UTC))
    return history
