"""Shared, memoized reads the checks build on (ARM resources, Graph principals, Adobe config).

These fetch and translate the tool's own access problems into limitations; they
never judge the customer's setup (that is the checks' job).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from diagnose.azure.rest import Reply
from diagnose.checks.base import Context, Skip
from diagnose.errors import CredentialRefused, NotPermitted

API = {
    "vault": "2023-07-01",
    "key": "2023-07-01",
    "cosmos": "2024-11-15",
    "authorization": "2022-04-01",
    "identity": "2023-01-31",
}
READER = "Reader on the resource (or its resource group or subscription)"
GRAPH_READ = "Microsoft Graph Application.Read.All"


def refused(service: str, what: str, reply: Reply, permission: str) -> Exception:
    detail = reply.error_code or f"HTTP {reply.status}"
    if reply.status == 401:
        return CredentialRefused(
            f"{service} did not accept the tool's token to read {what} ({detail})"
        )
    return NotPermitted(
        f"{service} refused to let the diagnosing identity read {what} ({detail})", permission
    )


def arm_get(ctx: Context, resource_id: str, api: str, what: str, permission: str = READER) -> Reply:
    """GET an ARM resource; 401/403 become limitations, other statuses are the caller's to judge."""
    reply: Reply = ctx.memo(
        f"arm:{resource_id.lower()}",
        lambda: ctx.arm.get(resource_id, params={"api-version": API[api]}),
    )
    if reply.status in (401, 403):
        raise refused("Azure Resource Manager", what, reply, permission)
    return reply


def vault(ctx: Context) -> dict[str, Any]:
    vault_id = ctx.require("keyvault_id", "Key Vault resource id")
    reply = arm_get(ctx, vault_id, "vault", "the vault")
    if reply.status == 404:
        raise Skip(f"the vault {vault_id} was not found in ARM ({reply.error_code})")
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise RuntimeError(f"ARM answered {reply.status} for the vault")
    return reply.body


def key_name(ctx: Context) -> str:
    from diagnose.azure.keyvault import KeyRef

    key_id = ctx.require("key_id", "key URI")
    try:
        return KeyRef.parse(key_id).name
    except ValueError as exc:
        raise Skip(str(exc)) from None


def cosmos_account(ctx: Context) -> dict[str, Any]:
    cosmos_id = ctx.require("cosmos_id", "Cosmos DB account resource id")
    reply = arm_get(ctx, cosmos_id, "cosmos", "the Cosmos DB account")
    if reply.status == 404:
        raise Skip(f"the Cosmos DB account {cosmos_id} was not found in ARM ({reply.error_code})")
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise RuntimeError(f"ARM answered {reply.status} for the Cosmos DB account")
    return reply.body


def graph_get(ctx: Context, path: str, what: str, params: dict[str, str] | None = None) -> Reply:
    key = f"graph:{path}?{sorted((params or {}).items())}"
    reply: Reply = ctx.memo(key, lambda: ctx.graph.get(path, params=params))
    if reply.status in (401, 403):
        raise refused("Microsoft Graph", what, reply, GRAPH_READ)
    return reply


SP_FIELDS = "id,appId,displayName,accountEnabled,disabledByMicrosoftStatus,servicePrincipalType"


def _principal(ctx: Context, path: str, what: str) -> dict[str, Any] | None:
    reply = graph_get(ctx, path, what, {"$select": SP_FIELDS})
    if reply.status == 404:
        return None
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise RuntimeError(f"Microsoft Graph answered {reply.status} for {what}")
    return reply.body


def service_principal(ctx: Context, app_id: str) -> dict[str, Any] | None:
    """The service principal with this appId, or None when Graph says it does not exist."""
    path = f"/v1.0/servicePrincipals(appId='{quote(app_id, safe='')}')"
    return _principal(ctx, path, f"the service principal of app {app_id}")


def service_principal_by_object_id(ctx: Context, object_id: str) -> dict[str, Any] | None:
    path = f"/v1.0/servicePrincipals/{quote(object_id, safe='')}"
    return _principal(ctx, path, f"the service principal {object_id}")


def deleted_service_principals(ctx: Context, app_id: str) -> list[dict[str, Any]]:
    reply = graph_get(
        ctx,
        "/v1.0/directory/deletedItems/microsoft.graph.servicePrincipal",
        "the directory's deleted service principals",
        {"$filter": f"appId eq '{app_id}'"},
    )
    if reply.status != 200 or not isinstance(reply.body, dict):
        # Never "not in deleted items" on a failed read: that would advise recreating the identity.
        raise RuntimeError(
            f"Microsoft Graph answered {reply.status} listing deleted service principals"
        )
    return list(reply.body.get("value") or [])


def byok_app_registration(ctx: Context) -> dict[str, Any]:
    return ctx.memo("adobe:app-registration", lambda: ctx.adobe.byok_app_registration())
