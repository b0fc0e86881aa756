"""Shared, memoized reads the checks build on (ARM resources, Graph principals, Adobe config).

These fetch and translate the tool's own access problems into limitations; they
never judge the customer's setup (that is the checks' job). What they return is
well-formed (`diagnose.answers.Fields`); "does not exist" is returned only when the
service said so in its own error code.
"""

from __future__ import annotations

from urllib.parse import quote

from diagnose.answers import Fields
from diagnose.azure.rest import ARM_NOT_FOUND, GRAPH_NOT_FOUND, Reply
from diagnose.checks.base import Context, Skip

API = {
    "vault": "2023-07-01",
    "key": "2023-07-01",
    "cosmos": "2024-11-15",
    "authorization": "2022-04-01",
    "identity": "2023-01-31",
}
READER = "Reader on the resource (or its resource group or subscription)"
GRAPH_READ = "Microsoft Graph Application.Read.All"


def arm_get(ctx: Context, resource_id: str, api: str, what: str, permission: str = READER) -> Reply:
    """GET an ARM resource; 401/403 become limitations, other statuses are the caller's to judge."""
    reply: Reply = ctx.memo(
        f"arm:{resource_id.lower()}",
        lambda: ctx.arm.get(resource_id, params={"api-version": API[api]}),
    )
    if reply.status in (401, 403):
        raise reply.problem(what, permission)
    return reply


def arm_resource(
    ctx: Context, resource_id: str, api: str, what: str, permission: str = READER
) -> Fields | None:
    """An ARM resource, well-formed; None only when ARM said it does not exist (its error code)."""
    return arm_get(ctx, resource_id, api, what, permission).resource(what, ARM_NOT_FOUND)


def arm_list(
    ctx: Context, path: str, params: dict[str, str], what: str, permission: str
) -> list[Fields]:
    """Every item of an ARM listing (pages followed), each a well-formed object."""
    reply: Reply = ctx.memo(
        f"arm:list:{path.lower()}?{sorted(params.items())}",
        lambda: ctx.arm.get_all(path, params=params),
    )
    return reply.fields(what, permission).objects("value")


def vault(ctx: Context) -> Fields:
    vault_id = ctx.require("keyvault_id", "Key Vault resource id")
    found = arm_resource(ctx, vault_id, "vault", "the vault")
    if found is None:
        raise Skip(f"the vault {vault_id} was not found in ARM")
    return found


def key_name(ctx: Context) -> str:
    from diagnose.azure.keyvault import KeyRef

    key_id = ctx.require("key_id", "key URI")
    try:
        return KeyRef.parse(key_id).name
    except ValueError as exc:
        raise Skip(str(exc)) from None


def cosmos_account(ctx: Context) -> Fields:
    cosmos_id = ctx.require("cosmos_id", "Cosmos DB account resource id")
    found = arm_resource(ctx, cosmos_id, "cosmos", "the Cosmos DB account")
    if found is None:
        raise Skip(f"the Cosmos DB account {cosmos_id} was not found in ARM")
    return found


def graph_get(ctx: Context, path: str, what: str, params: dict[str, str] | None = None) -> Reply:
    key = f"graph:{path}?{sorted((params or {}).items())}"
    reply: Reply = ctx.memo(key, lambda: ctx.graph.get(path, params=params))
    if reply.status in (401, 403):
        raise reply.problem(what, GRAPH_READ)
    return reply


SP_FIELDS = "id,appId,displayName,accountEnabled,disabledByMicrosoftStatus,servicePrincipalType,alternativeNames"


def _principal(ctx: Context, path: str, what: str) -> Fields | None:
    reply = graph_get(ctx, path, what, {"$select": SP_FIELDS})
    principal = reply.resource(what, GRAPH_NOT_FOUND, GRAPH_READ)
    if principal is not None:
        principal.text("id")  # a service principal without its id is no answer about one
    return principal


def service_principal(ctx: Context, app_id: str) -> Fields | None:
    """The service principal with this appId, or None when Graph says it does not exist."""
    path = f"/v1.0/servicePrincipals(appId='{quote(app_id, safe='')}')"
    return _principal(ctx, path, f"the service principal of app {app_id}")


def service_principal_by_object_id(ctx: Context, object_id: str) -> Fields | None:
    path = f"/v1.0/servicePrincipals/{quote(object_id, safe='')}"
    return _principal(ctx, path, f"the service principal {object_id}")


def deleted_service_principals(ctx: Context, app_id: str) -> list[Fields]:
    """The deleted service principals with this appId; never "none" on a failed or malformed read
    (that would advise recreating the identity)."""
    what = "the directory's deleted service principals"
    reply = graph_get(
        ctx,
        "/v1.0/directory/deletedItems/microsoft.graph.servicePrincipal",
        what,
        {"$filter": f"appId eq '{app_id}'"},
    )
    return reply.fields(what, GRAPH_READ).objects("value")


def byok_app_registration(ctx: Context) -> Fields:
    registration = ctx.memo("adobe:app-registration", lambda: ctx.adobe.byok_app_registration())
    return Fields(registration, "Experience Platform's BYOK app registration")
