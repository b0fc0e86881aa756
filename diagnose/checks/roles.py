"""roles.keyvault and roles.cosmos: the rights of the identity on the key, and of the production caller on Cosmos DB."""

from __future__ import annotations

import threading
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

from diagnose.checks import reads
from diagnose.checks.base import Check, Context, Outcome, Skip, finding
from diagnose.checks.principal import PRINCIPAL_OBJECT_ID

KEY_DATA_ACTIONS = (
    "Microsoft.KeyVault/vaults/keys/read",
    "Microsoft.KeyVault/vaults/keys/wrap/action",
    "Microsoft.KeyVault/vaults/keys/unwrap/action",
)
KEY_POLICY_PERMISSIONS = ("get", "wrapkey", "unwrapkey")
COSMOS_BUILT_IN_ROLES = {
    "00000000-0000-0000-0000-000000000001": "Cosmos DB Built-in Data Reader",
    "00000000-0000-0000-0000-000000000002": "Cosmos DB Built-in Data Contributor",
}
COSMOS_READ_ACTION = "Microsoft.DocumentDB/databaseAccounts/readMetadata"


def _matches(patterns: list[str], action: str) -> bool:
    return any(fnmatchcase(action.lower(), p.lower()) for p in patterns)


MANAGEMENT_GROUP_SCOPE = "/providers/microsoft.management/managementgroups/"


def _is_within(scope: str, target: str) -> bool:
    """True when an assignment at `scope` applies to `target` (same scope or an ancestor).

    A management group's scope is no prefix of the resources below it; ARM lists the
    assignments that apply at or above the scope it is asked about
    (https://learn.microsoft.com/rest/api/authorization/role-assignments/list-for-scope,
    api-version 2022-04-01), and a management group is never below a resource, so one that
    ARM returns for the vault sits above it and counts.
    """
    scope, target = scope.rstrip("/").lower(), target.rstrip("/").lower()
    if scope.startswith(MANAGEMENT_GROUP_SCOPE):
        return target.startswith("/subscriptions/")
    return scope in ("", "/") or target == scope or target.startswith(scope + "/")


def _definition(ctx: Context, definition_id: str, api: str) -> dict[str, Any]:
    """A role definition; {} only when it no longer exists (an unreadable one is not a missing right)."""
    reply = reads.arm_get(
        ctx, definition_id, api, f"role definition {definition_id.rsplit('/', 1)[-1]}"
    )
    if reply.status == 404:
        return {}
    if reply.status != 200 or not isinstance(reply.body, dict):
        raise RuntimeError(f"ARM answered {reply.status} reading role definition {definition_id}")
    return reply.body


def _same_id(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.lower() == b.lower())


def _granted(definition: dict[str, Any], action: str) -> bool:
    for permission in (definition.get("properties") or {}).get("permissions") or []:
        if _matches(permission.get("dataActions") or [], action) and not _matches(
            permission.get("notDataActions") or [], action
        ):
            return True
    return False


def _read_all(ids: list[str], read: Callable[[str], dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """`read` of every id, at most 8 at a time, each in a daemon thread; the first error is raised.

    Not a ThreadPoolExecutor: its workers are joined when the interpreter exits, so a read
    stuck past the check's deadline would keep the process alive after the report.
    """
    results: dict[str, dict[str, Any]] = {}
    errors: list[BaseException] = []
    slots = threading.BoundedSemaphore(8)

    def one(item: str) -> None:
        with slots:
            try:
                results[item] = read(item)
            except BaseException as exc:  # noqa: BLE001 - raised again in the check's thread
                errors.append(exc)

    threads = [threading.Thread(target=one, args=(i,), name=f"read:{i}", daemon=True) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def _rbac(ctx: Context, object_id: str, vault_id: str, key_scope: str) -> Outcome:
    # Listed at the vault (the key may be gone); assignments inherited from above and those on
    # the key itself both come back, and only those that apply to the key are kept.
    path = f"{vault_id.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments"
    params = {"api-version": reads.API["authorization"], "$filter": f"assignedTo('{object_id}')"}
    reply = ctx.memo(
        f"arm:assignments:{path}:{object_id}", lambda: ctx.arm.get_all(path, params=params)
    )
    if reply.status in (401, 403):
        raise reads.refused(
            "Azure Resource Manager",
            "role assignments on the vault",
            reply,
            "Reader (Microsoft.Authorization/roleAssignments/read) on the vault",
        )
    if reply.status != 200:
        raise RuntimeError(f"ARM answered {reply.status} listing role assignments")
    assignments = [
        a
        for a in (reply.body or {}).get("value", [])
        # assignedTo() also returns what the principal holds through its groups
        if (
            _same_id((a.get("properties") or {}).get("principalId"), object_id)
            or (a.get("properties") or {}).get("principalType") == "Group"
        )
        and _is_within((a.get("properties") or {}).get("scope", ""), key_scope)
    ]
    definition_ids = sorted({a["properties"]["roleDefinitionId"] for a in assignments})
    definitions = _read_all(definition_ids, lambda d: _definition(ctx, d, "authorization"))
    roles = [
        {
            "role": (definitions[a["properties"]["roleDefinitionId"]].get("properties") or {}).get(
                "roleName"
            )
            or a["properties"]["roleDefinitionId"].rsplit("/", 1)[-1],
            "scope": a["properties"].get("scope"),
        }
        for a in assignments
    ]
    missing = [
        action
        for action in KEY_DATA_ACTIONS
        if not any(_granted(definitions[d], action) for d in definition_ids)
    ]
    evidence = {
        "permission_model": "Azure RBAC",
        "object_id": object_id,
        "roles": roles,
        "missing": missing,
    }
    if missing:
        return Outcome(
            "no role grants get/wrap/unwrap on the key",
            [
                finding(
                    "keyvault.role-missing",
                    f"the principal {object_id} holds {len(roles)} role(s) on the key or above, none granting "
                    f"{', '.join(m.rsplit('/', 2)[-2] + '/' + m.rsplit('/', 1)[-1] for m in missing)}",
                    **evidence,
                )
            ],
            evidence,
        )
    names = ", ".join(sorted({r["role"] for r in roles}))
    return Outcome(f"RBAC grants get/wrap/unwrap ({names})", [], evidence)


def _access_policies(ctx: Context, object_id: str, properties: dict[str, Any]) -> Outcome:
    policies = [p for p in properties.get("accessPolicies") or [] if p.get("objectId") == object_id]
    granted = {
        perm.lower() for p in policies for perm in ((p.get("permissions") or {}).get("keys") or [])
    }
    missing = [] if "all" in granted else [p for p in KEY_POLICY_PERMISSIONS if p not in granted]
    evidence = {
        "permission_model": "access policies",
        "object_id": object_id,
        "key_permissions": sorted(granted),
        "missing": missing,
    }
    if missing:
        what = (
            "no access policy" if not policies else f"an access policy without {', '.join(missing)}"
        )
        return Outcome(
            "the access policies do not grant get/wrapKey/unwrapKey",
            [
                finding(
                    "keyvault.access-policy-missing",
                    f"the principal {object_id} has {what} on the vault",
                    **evidence,
                )
            ],
            evidence,
        )
    return Outcome("an access policy grants get/wrapKey/unwrapKey", [], evidence)


def check_keyvault_roles(ctx: Context) -> Outcome:
    object_id = ctx.fact(
        PRINCIPAL_OBJECT_ID, "the principal's object id is not known (see principal.enabled)"
    )
    vault = reads.vault(ctx)
    properties = vault.get("properties") or {}
    if properties.get("enableRbacAuthorization"):
        vault_id = ctx.require("keyvault_id", "Key Vault resource id")
        key_scope = f"{vault_id.rstrip('/')}/keys/{reads.key_name(ctx)}"
        return _rbac(ctx, object_id, vault_id, key_scope)
    return _access_policies(ctx, object_id, properties)


def check_cosmos_roles(ctx: Context) -> Outcome:
    if ctx.profile.topology == "adobe":
        raise Skip("topology adobe: Experience Platform's Cosmos DB accounts are not readable")
    caller = ctx.require("cosmos_caller", "production caller")
    cosmos_id = ctx.require("cosmos_id", "Cosmos DB account resource id")
    principal = reads.service_principal(ctx, caller)
    if principal is None:
        return Outcome(
            "the production caller does not exist",
            [
                finding(
                    "cosmos.dataplane-role-missing",
                    f"no service principal has the caller's app id {caller}",
                    app_id=caller,
                )
            ],
        )
    object_id = principal.get("id")
    path = f"{cosmos_id}/sqlRoleAssignments"
    reply = ctx.memo(
        f"arm:{path.lower()}",
        lambda: ctx.arm.get_all(path, params={"api-version": reads.API["cosmos"]}),
    )
    if reply.status in (401, 403):
        raise reads.refused(
            "Azure Resource Manager",
            "the account's data-plane role assignments",
            reply,
            "Reader (Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read) on the account",
        )
    if reply.status != 200:
        raise RuntimeError(f"ARM answered {reply.status} listing sqlRoleAssignments")
    mine = [
        a
        for a in (reply.body or {}).get("value", [])
        if _same_id((a.get("properties") or {}).get("principalId"), object_id)
    ]
    roles = []
    sufficient = False
    for assignment in mine:
        definition_id = assignment["properties"].get("roleDefinitionId", "")
        short = definition_id.rsplit("/", 1)[-1]
        if short in COSMOS_BUILT_IN_ROLES:
            roles.append(COSMOS_BUILT_IN_ROLES[short])
            sufficient = True
            continue
        props = _definition(ctx, definition_id, "cosmos").get("properties") or {}
        roles.append(props.get("roleName") or short)
        actions = [a for p in props.get("permissions") or [] for a in p.get("dataActions") or []]
        sufficient = sufficient or _matches(actions, COSMOS_READ_ACTION)
    evidence = {"caller_app_id": caller, "caller_object_id": object_id, "roles": roles}
    if not sufficient:
        return Outcome(
            "the production caller has no data-plane role",
            [
                finding(
                    "cosmos.dataplane-role-missing",
                    f"the production caller {principal.get('displayName') or caller} has no Cosmos DB "
                    "data-plane role on the account: its reads are refused with 403/5301",
                    **evidence,
                )
            ],
            evidence,
        )
    return Outcome(f"the production caller holds {', '.join(roles)}", [], evidence)


ROLES_KEYVAULT = Check(
    id="roles.keyvault",
    title="The identity may get, wrap and unwrap with the key",
    run=check_keyvault_roles,
    causes=("keyvault.role-missing", "keyvault.access-policy-missing"),
    needs=("principal.enabled",),
    consumes=(PRINCIPAL_OBJECT_ID,),
    permissions=("Reader on the vault (role assignments and role definitions)",),
)
ROLES_COSMOS = Check(
    id="roles.cosmos",
    title="The production caller has a Cosmos DB data-plane role",
    run=check_cosmos_roles,
    causes=("cosmos.dataplane-role-missing",),
    permissions=("Reader on the Cosmos DB account", "Microsoft Graph Application.Read.All"),
    topologies=("own",),
)
