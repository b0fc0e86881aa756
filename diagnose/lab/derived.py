"""What follows from the world: rights on the vault and key, the Cosmos CMK code, BYOK status.

Nothing here is stored; docs/lab.md "Derived state" is the specification.
"""

from __future__ import annotations

import fnmatch
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass

from diagnose.lab.roles import COSMOS_ROLE_DEFINITIONS
from diagnose.lab.world import COSMOS_FIRST_PARTY_APP_ID, Key, RoleAssignment, World

HEALTHY_STATUS = "Access to the configured customer managed key confirmed."
_GUIDE = "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide"
# customerManagedKeyStatus: the reasons and guide anchors of the values published for api-version
# 2023-09-15 (Azure/bicep-types-az generated/cosmos-db/microsoft.documentdb/2023-09-15/types.md,
# docs/research/published-behaviour.md section 1), verbatim. 4018 has no published text: its
# reason and anchor (the guide's heading "Azure key Disabled or expired") are *lab's choice*.
_REVOKED = {
    4000: (
        "the Azure Cosmos DB service is unable to obtain the AAD authentication token for the account's default identity",
        "#azure-active-directory-token-acquisition-error",
    ),
    4002: (
        "the current default identity no longer has permission to the associated Key Vault key",
        "#default-identity-is-unauthorized-to-access-the-azure-key-vault-key",
    ),
    4003: (
        "the correspondent key is not found on the specified Key Vault",
        "#azure-key-vault-resource-not-found",
    ),
    4005: (
        "the Azure Cosmos DB service is unable to wrap or unwrap the key",
        "#internal-unwrapping-procedure-error",
    ),
    4015: (
        "the Azure Cosmos DB account has an undefined default identity",
        "#invalid-azure-cosmos-db-default-identity",
    ),
    4017: (
        "the correspondent Azure Key Vault was not found",
        "#azure-key-vault-resource-not-found",
    ),
    4018: (
        "the Azure Key Vault key is disabled or expired",
        "#azure-key-disabled-or-expired",
    ),
}
# Key Vault key operations -> RBAC data action and access-policy permission.
KEY_OPERATIONS = {
    "get": ("Microsoft.KeyVault/vaults/keys/read", "get"),
    "wrapKey": ("Microsoft.KeyVault/vaults/keys/wrap/action", "wrapKey"),
    "unwrapKey": ("Microsoft.KeyVault/vaults/keys/unwrap/action", "unwrapKey"),
    "update": ("Microsoft.KeyVault/vaults/keys/update/action", "update"),
    "recover": ("Microsoft.KeyVault/vaults/keys/recover/action", "recover"),
}


def revoked_status(code: int) -> str:
    """The account's `customerManagedKeyStatus` text for a CMK code, in the published form."""
    reason, anchor = _REVOKED[code]
    return (
        f"Access to your account is currently revoked because {reason}; for more details about "
        f"this error and how to restore access to your account please visit {_GUIDE}{anchor} ({code})."
    )


def cmk_status(code: int | None) -> str:
    return HEALTHY_STATUS if code is None else revoked_status(code)


def _matches(pattern: str, action: str) -> bool:
    return fnmatch.fnmatchcase(action.lower(), pattern.lower())


def covers(patterns: list[str], excluded: list[str], action: str) -> bool:
    """Whether a role's (data) actions allow `action`, wildcards and exclusions included."""
    return any(_matches(p, action) for p in patterns) and not any(
        _matches(p, action) for p in excluded
    )


MANAGEMENT_GROUP_SCOPE = "/providers/microsoft.management/managementgroups/"


def in_scope(scope: str, resource: str, management_groups: Iterable[str] = ()) -> bool:
    """Whether an assignment at `scope` applies to `resource` (same scope or below it).

    A management group's scope does not prefix its subscriptions' ids: `management_groups`
    names the groups above the subscription, whose assignments apply to everything in it
    (https://learn.microsoft.com/azure/role-based-access-control/scope-overview).
    """
    scope, resource = scope.rstrip("/").lower(), resource.rstrip("/").lower()
    if scope.startswith(MANAGEMENT_GROUP_SCOPE) and resource.startswith("/subscriptions/"):
        return scope[len(MANAGEMENT_GROUP_SCOPE) :] in {g.lower() for g in management_groups}
    return scope in ("", "/") or resource == scope or resource.startswith(scope + "/")


def assignments_for(world: World, object_id: str, resource: str) -> list[RoleAssignment]:
    """Role assignments of a principal that apply at `resource` (inherited ones included)."""
    return [
        a
        for a in world.role_assignments
        if a.principal_id == object_id and in_scope(a.scope, resource, world.management_groups)
    ]


def rbac_allows(world: World, object_id: str, resource: str, action: str, data: bool) -> bool:
    """Azure RBAC: does any role assignment of the principal at or above `resource` allow `action`."""
    for a in assignments_for(world, object_id, resource):
        d = world.role_definitions.get(a.role)
        if d is None:
            continue
        if data and covers(d.data_actions, d.not_data_actions, action):
            return True
        if not data and covers(d.actions, d.not_actions, action):
            return True
    return False


def key_allows(world: World, object_id: str, operation: str, key_name: str | None = None) -> bool:
    """May the principal run a key operation on a key (default: the CMK), by the vault's model."""
    action, permission = KEY_OPERATIONS[operation]
    vault = world.vault
    if vault.rbac:
        scope = f"{vault.id}/keys/{key_name or world.key_name}"
        return rbac_allows(world, object_id, scope, action, data=True)
    return any(
        p.object_id == object_id and permission.lower() in (k.lower() for k in p.keys)
        for p in vault.access_policies
    )


def firewall_allows(world: World, trusted_service: bool, client_ip: str | None = None) -> bool:
    """Key Vault's network rules: public, a listed IP, or a trusted Microsoft service let through."""
    vault = world.vault
    if vault.default_action.lower() != "deny":
        return True
    if trusted_service and "azureservices" in vault.bypass.lower():
        return True
    return client_ip is not None and client_ip in vault.ip_rules


def key_time_valid(key: Key, now: float) -> bool:
    """Inside the key's nbf/exp window (Key Vault's key attributes)."""
    return (key.nbf is None or key.nbf <= now) and (key.exp is None or key.exp > now)


def default_identity_principal(world: World) -> tuple[bool, str | None]:
    """(valid, object id) of the principal behind the account's default identity.

    The object id is None when the identity is valid but its principal no longer exists.
    """
    account = world.cosmos
    value = (account.default_identity or "").strip()
    if value == "FirstPartyIdentity":
        # Azure Cosmos DB's own application's principal in the tenant (docs/lab.md "Identity kinds")
        p = world.principal_by_app(COSMOS_FIRST_PARTY_APP_ID)
        return True, p.object_id if p else None
    if value == "SystemAssignedIdentity":
        if not account.system_principal_id:
            return False, None
        p = world.principal(account.system_principal_id)
        return True, p.object_id if p and not p.deleted else None
    if value.startswith("UserAssignedIdentity="):
        rest = value.split("=", 1)[1]
        resource_id, _, federated = rest.partition("&FederatedClientId=")
        if resource_id.lower() not in (i.lower() for i in account.user_assigned):
            return False, None
        if federated:
            p = world.principal_by_app(federated)
            return True, p.object_id if p else None
        ident = world.identity(resource_id)
        if ident is None:
            return True, None
        p = world.principal(ident.principal_id)
        return True, p.object_id if p and not p.deleted else None
    return False, None


def cmk_code(world: World, now: float | None = None) -> int | None:
    """The Cosmos DB account's CMK sub-status (None = healthy), in docs/lab.md's order."""
    now = time.time() if now is None else now
    valid, object_id = default_identity_principal(world)
    if not valid:
        return 4015
    principal = world.principal(object_id) if object_id else None
    if principal is None or principal.deleted or not principal.enabled:
        return 4000
    if principal.disabled_by_microsoft:
        return 4000
    if world.vault.deleted:
        return 4017
    if not firewall_allows(world, trusted_service=True):
        return 4002
    if not all(
        key_allows(world, principal.object_id, op) for op in ("get", "wrapKey", "unwrapKey")
    ):
        return 4002
    key = world.key
    if key is None:
        return 4003
    if not key.enabled:
        # the SDK's comment on 4002: "the KeyVault doesn't grant permission to the AAD, or the key
        # is disabled"; 4018 (KeyDisabledOrExpired) is published too: which one a disabled key
        # gets is *lab's choice*
        return 4002
    if not key_time_valid(key, now):
        # 4018 KeyDisabledOrExpired (StatusCodes.cs, msdata/direct); the guide's section
        # "Azure key Disabled or expired". A not-yet-valid key the same way (*lab's choice*).
        return 4018
    if not {"wrapKey", "unwrapKey"} <= set(key.ops):
        return 4005  # KeyVaultWrapUnwrapFailure (*lab's choice* for a key without those operations)
    return None


def cosmos_data_actions(world: World, object_id: str) -> list[str]:
    """The Cosmos DB data-plane actions a principal holds on the account."""
    actions: list[str] = []
    for a in world.cosmos.sql_role_assignments:
        if a.principal_id == object_id and a.role in COSMOS_ROLE_DEFINITIONS:
            actions.extend(COSMOS_ROLE_DEFINITIONS[a.role][1])
    return actions


def byok_status(code: int | None) -> str:
    return "COMPLETED" if code is None else "FAILED"


@dataclass(frozen=True)
class Observed:
    """What the downstream services (Cosmos DB, AJO, BYOK) currently see of the world."""

    cmk_code: int | None
    cosmos_roles: dict[str, tuple[str, ...]]  # object id -> data actions
    # A scenario's revoked status text without a (NNNN) code (cmk-status-uncoded): the data
    # plane refuses without a sub-status (lab's choice, docs/lab.md).
    revoked_without_code: bool = False

    @property
    def byok_status(self) -> str:
        return byok_status(self.cmk_code)


def observe(world: World, now: float | None = None) -> Observed:
    roles = {
        a.principal_id: tuple(cosmos_data_actions(world, a.principal_id))
        for a in world.cosmos.sql_role_assignments
    }
    text = world.cosmos.status_text
    if text is None:
        return Observed(cmk_code=cmk_code(world, now), cosmos_roles=roles)
    # a status text set by a scenario or a test: its (NNNN) code is the data plane's sub-status
    coded = _STATUS_CODE.search(text)
    return Observed(
        cmk_code=int(coded.group(1)) if coded else None,
        cosmos_roles=roles,
        revoked_without_code=coded is None and "revoked" in text.lower(),
    )


_STATUS_CODE = re.compile(r"\((\d{4})\)\.?\s*$")
