"""roles.keyvault and roles.cosmos: the rights of the identity on the key, and of the production caller on Cosmos DB."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import TypeVar

from diagnose import deadline
from diagnose.answers import Fields
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
T = TypeVar("T")


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


def _definition(ctx: Context, definition_id: str, api: str) -> Fields | None:
    """A role definition; None only when ARM says it no longer exists (an unreadable or malformed
    one is not a missing right: it is the tool's limitation)."""
    return reads.arm_resource(
        ctx, definition_id, api, f"role definition {definition_id.rsplit('/', 1)[-1]}"
    )


def _same_id(a: str | None, b: str | None) -> bool:
    return bool(a and b and a.lower() == b.lower())


def _granted(definition: Fields | None, action: str) -> bool:
    if definition is None:
        return False
    for permission in definition.obj("properties").opt_objects("permissions"):
        if _matches(permission.opt_texts("dataActions"), action) and not _matches(
            permission.opt_texts("notDataActions"), action
        ):
            return True
    return False


def _read_all(ids: list[str], read: Callable[[str], T]) -> dict[str, T]:
    """`read` of every id, at most 8 at a time, each in a daemon thread; the first error is raised.

    Not a ThreadPoolExecutor: its workers are joined when the interpreter exits, so a read
    stuck past the check's deadline would keep the process alive after the report. Each
    thread works under the check's deadline.
    """
    results: dict[str, T] = {}
    errors: list[BaseException] = []
    slots = threading.BoundedSemaphore(8)
    until = deadline.current()

    def one(item: str) -> None:
        with slots, deadline.until(until):
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


@dataclass(frozen=True)
class Assignment:
    """A role assignment as the check needs it (every field checked for its type)."""

    principal_id: str
    principal_type: str | None
    scope: str
    definition_id: str

    @classmethod
    def of(cls, item: Fields) -> Assignment:
        props = item.obj("properties")
        return cls(
            props.text("principalId"),
            props.opt_text("principalType"),
            props.opt_text("scope") or "",
            props.text("roleDefinitionId"),
        )


def _rbac(ctx: Context, object_id: str, vault_id: str, key_scope: str) -> Outcome:
    # Listed at the vault (the key may be gone); assignments inherited from above and those on
    # the key itself both come back, and only those that apply to the key are kept.
    path = f"{vault_id.rstrip('/')}/providers/Microsoft.Authorization/roleAssignments"
    params = {"api-version": reads.API["authorization"], "$filter": f"assignedTo('{object_id}')"}
    listed = reads.arm_list(
        ctx,
        path,
        params,
        "role assignments on the vault",
        "Reader (Microsoft.Authorization/roleAssignments/read) on the vault",
    )
    assignments = [
        a
        for a in map(Assignment.of, listed)
        # assignedTo() also returns what the principal holds through its groups
        if (_same_id(a.principal_id, object_id) or a.principal_type == "Group")
        and _is_within(a.scope, key_scope)
    ]
    definition_ids = sorted({a.definition_id for a in assignments})
    definitions = _read_all(definition_ids, lambda d: _definition(ctx, d, "authorization"))

    def role_name(definition_id: str) -> str:
        found = definitions[definition_id]
        name = found.obj("properties").opt_text("roleName") if found else None
        return name or definition_id.rsplit("/", 1)[-1]

    roles = [{"role": role_name(a.definition_id), "scope": a.scope} for a in assignments]
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


def _access_policies(object_id: str, properties: Fields) -> Outcome:
    policies = [
        p for p in properties.opt_objects("accessPolicies") if p.opt_text("objectId") == object_id
    ]
    granted = {
        perm.lower() for p in policies for perm in p.obj_or_empty("permissions").opt_texts("keys")
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
    properties = reads.vault(ctx).obj("properties")
    if properties.opt_flag("enableRbacAuthorization"):
        vault_id = ctx.require("keyvault_id", "Key Vault resource id")
        key_scope = f"{vault_id.rstrip('/')}/keys/{reads.key_name(ctx)}"
        return _rbac(ctx, object_id, vault_id, key_scope)
    return _access_policies(object_id, properties)


def check_cosmos_roles(ctx: Context) -> Outcome:
    if ctx.profile.topology == "adobe":
        raise Skip("topology adobe: Experience Platform's Cosmos DB accounts are not readable")
    caller = ctx.require("cosmos_caller", "production caller")
    cosmos_id = ctx.require("cosmos_id", "Cosmos DB account resource id")
    principal = reads.service_principal(ctx, caller)
    if principal is None:  # Graph said so (Request_ResourceNotFound)
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
    object_id = principal.text("id")
    listed = reads.arm_list(
        ctx,
        f"{cosmos_id}/sqlRoleAssignments",
        {"api-version": reads.API["cosmos"]},
        "the account's data-plane role assignments",
        "Reader (Microsoft.DocumentDB/databaseAccounts/sqlRoleAssignments/read) on the account",
    )
    mine = [
        props
        for props in (item.obj("properties") for item in listed)
        if _same_id(props.opt_text("principalId"), object_id)
    ]
    roles = []
    sufficient = False
    for assignment in mine:
        definition_id = assignment.text("roleDefinitionId")
        short = definition_id.rsplit("/", 1)[-1]
        if short in COSMOS_BUILT_IN_ROLES:
            roles.append(COSMOS_BUILT_IN_ROLES[short])
            sufficient = True
            continue
        definition = _definition(ctx, definition_id, "cosmos")
        props = definition.obj("properties") if definition else Fields({}, "")
        roles.append(props.opt_text("roleName") or short)
        actions = [a for p in props.opt_objects("permissions") for a in p.opt_texts("dataActions")]
        sufficient = sufficient or _matches(actions, COSMOS_READ_ACTION)
    evidence = {"caller_app_id": caller, "caller_object_id": object_id, "roles": roles}
    if not sufficient:
        return Outcome(
            "the production caller has no data-plane role",
            [
                finding(
                    "cosmos.dataplane-role-missing",
                    f"the production caller {principal.opt_text('displayName') or caller} has no Cosmos DB "
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
