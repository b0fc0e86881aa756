"""Scenarios: named edits of the healthy world (the names are a contract, see docs/design.md).

Each scenario carries its verdict: the cause code `diagnose run --lab NAME` puts
first in its diagnosis (None when nothing is wrong with the setup), the exit
status of that run, and the arguments the run needs to meet the cause. The
tests read these fields; they keep no table of their own.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from diagnose.lab.roles import (
    GRAPH_WRITE,
    KV_CRYPTO_SERVICE_ENCRYPTION_USER,
    KV_CRYPTO_USER,
    KV_READER,
)
from diagnose.lab.world import (
    DAY,
    RoleAssignment,
    World,
    cmk_identity_as_application,
    delete_user_assigned_identity,
    stable_id,
)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    topology: str
    edit: Callable[[World], None]
    root_cause: str | None
    """The first cause of the diagnosis of `diagnose run --lab NAME [run_args]`; None: no cause."""
    exit_status: int
    """The exit status of that run (0 healthy, 1 a cause found, 3 the tool could not decide)."""
    run_args: tuple[str, ...] = ()
    """What the run needs besides `--lab NAME` to reach the cause (the trigger, a deadline)."""
    faults: tuple[str, ...] = ()
    """Fault specs (diagnose/lab/faults.py) the lab applies in this scenario, after any it is given."""


def _nothing(world: World) -> None:
    return None


# -- the identity that reaches the key: what can happen to it depends on its kind (issue 12) ------
# sp-disabled and sp-deleted need a principal that can really be disabled, deleted and restored:
# an application's (the cross-tenant form FederatedClientId=<app id>, world.cmk_identity_as_application).
# A managed identity's principal is its resource's to manage: Graph refuses a PATCH of it, and a
# deleted user-assigned identity is gone for good (uami-deleted).


def _sp_disabled(world: World) -> None:
    cmk_identity_as_application(world).enabled = False


def _sp_deleted(world: World) -> None:
    cmk_identity_as_application(world).deleted_at = time.time() - 2 * 3600


def _uami_deleted(world: World) -> None:
    uai = world.cosmos.user_assigned[0]
    delete_user_assigned_identity(world, uai, at=time.time() - 2 * 3600)


def _kv_role_missing(world: World) -> None:
    world.role_assignments = [
        a
        for a in world.role_assignments
        if not (
            a.principal_id == world.cmk_principal_id and a.role == KV_CRYPTO_SERVICE_ENCRYPTION_USER
        )
    ]


def _kv_role_inherited(world: World) -> None:
    """The CMK identity's key role is assigned at a management group above the subscription."""
    group = "mg-contoso-prod"
    world.management_groups = [group, world.tenant_id]  # the tenant root group's id is the tenant's
    for a in world.role_assignments:
        if a.principal_id == world.cmk_principal_id and a.role == KV_CRYPTO_SERVICE_ENCRYPTION_USER:
            a.scope = f"/providers/Microsoft.Management/managementGroups/{group}"


def _arm_key_read_denied(world: World) -> None:
    """The diagnosing identity holds Reader but no Key Vault data role: ARM's key read is denied."""
    world.role_assignments = [
        a
        for a in world.role_assignments
        if not (a.principal_id == world.diagnoser_id and a.role == KV_CRYPTO_USER)
    ]


def _kv_access_policy_missing(world: World) -> None:
    world.vault.rbac = False
    world.vault.access_policies = [
        p for p in world.vault.access_policies if p.object_id != world.cmk_principal_id
    ]


def _key_disabled(world: World) -> None:
    world.vault.keys[world.key_name].enabled = False


def _key_expired(world: World) -> None:
    world.vault.keys[world.key_name].exp = time.time() - 2 * DAY


def _key_not_found(world: World) -> None:
    key = world.vault.keys[world.key_name]
    key.deleted, key.deleted_at = True, time.time() - 2 * 3600


def _purge_protection_off(world: World) -> None:
    world.vault.purge_protection = False


def _kv_firewall(world: World) -> None:
    world.vault.default_action = "Deny"
    world.vault.bypass = "None"


def _cosmos_identity_undefined(world: World) -> None:
    missing = world.identities[0].id.rsplit("/", 1)[0] + "/id-cosmos-cmk-old"
    world.cosmos.default_identity = f"UserAssignedIdentity={missing}"


def _cosmos_dataplane_role_missing(world: World) -> None:
    world.cosmos.sql_role_assignments = [
        a for a in world.cosmos.sql_role_assignments if a.principal_id != world.caller_id
    ]


def _campaign_outside_window(world: World) -> None:
    now = time.time()
    world.campaign.start = now - 30 * DAY
    world.campaign.end = now - DAY


def _endpoint_mismatch(world: World) -> None:
    world.campaign.high_throughput = True  # the profile still posts to /unitary


def _trigger_timeout(world: World) -> None:
    from diagnose.lab.services.platform import TRIGGER_HOLD_S

    world.trigger_hold_s = TRIGGER_HOLD_S


def _diagnoser_secret_expired(world: World) -> None:
    for secret in world.diagnoser.secrets:
        secret.expires = time.time() - DAY


def _diagnoser_read_only(world: World) -> None:
    """The diagnosing identity holds read rights only: Reader, Key Vault Reader (keys/read, no
    unwrap), Cosmos DB Data Reader, Graph Application.Read.All; the setup itself is healthy."""
    diagnoser = world.diagnoser
    for a in world.role_assignments:
        if a.principal_id == diagnoser.object_id and a.role == KV_CRYPTO_USER:
            world.role_assignments.remove(a)
            world.role_assignments.append(
                RoleAssignment(
                    stable_id("ra:diagnoser-keyvault-reader"), a.scope, KV_READER, a.principal_id
                )
            )
            break
    for p in world.vault.access_policies:
        if p.object_id == diagnoser.object_id:
            p.keys = ["get", "list"]
    diagnoser.app_roles = [r for r in diagnoser.app_roles if r != GRAPH_WRITE]


# How long ARM and Graph throttle in `throttled`: each 429's Retry-After is the time left, as ARM's
# (https://learn.microsoft.com/azure/azure-resource-manager/management/request-limits-and-throttling)
THROTTLE_S = 4

UNCODED_REVOKED = (
    "Access to your account is currently revoked; for more details about this error and how to "
    "restore access to your account please visit "
    "https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide"
)  # the 2023-09-15 published value without a code (docs/research/published-behaviour.md, 1)


def _cmk_status_uncoded(world: World) -> None:
    world.cosmos.status_text = UNCODED_REVOKED


def _adobe_app_disabled(world: World) -> None:
    world.principals[world.cmk_principal_id].enabled = False


_ALL = [
    Scenario(
        "healthy",
        "Everything works: the key is reachable, Cosmos DB is healthy, the campaign triggers.",
        "own",
        _nothing,
        root_cause=None,
        exit_status=0,
    ),
    Scenario(
        "sp-disabled",
        "Cosmos DB's default identity is a multi-tenant application (FederatedClientId=<app id>) "
        "whose service principal is disabled: revoked (4000), AJO answers 500.",
        "own",
        _sp_disabled,
        root_cause="principal.disabled",
        exit_status=1,
    ),
    Scenario(
        "sp-deleted",
        "Cosmos DB's default identity is a multi-tenant application (FederatedClientId=<app id>) "
        "whose service principal was deleted (restorable from deleted items): revoked (4000).",
        "own",
        _sp_deleted,
        root_cause="principal.deleted",
        exit_status=1,
    ),
    Scenario(
        "uami-deleted",
        "Cosmos DB's default identity names a user-assigned managed identity that was deleted "
        "(it cannot be restored: recreate, grant, set as default identity): revoked (4000).",
        "own",
        _uami_deleted,
        root_cause="principal.managed-identity-deleted",
        exit_status=1,
    ),
    Scenario(
        "kv-role-missing",
        "The CMK identity lost its Key Vault Crypto Service Encryption User role: revoked (4002).",
        "own",
        _kv_role_missing,
        root_cause="keyvault.role-missing",
        exit_status=1,
    ),
    Scenario(
        "kv-role-inherited",
        "The CMK identity's Key Vault role is assigned at a management group above the subscription: healthy.",
        "own",
        _kv_role_inherited,
        root_cause=None,
        exit_status=0,
    ),
    Scenario(
        "arm-key-read-denied",
        "The diagnosing identity has Reader but no Key Vault data role: ARM answers the key read 400 ForbiddenByRbac.",
        "own",
        _arm_key_read_denied,
        root_cause=None,
        exit_status=3,
    ),
    Scenario(
        "kv-access-policy-missing",
        "Vault in access-policy mode with no policy for the CMK identity: revoked (4002).",
        "own",
        _kv_access_policy_missing,
        root_cause="keyvault.access-policy-missing",
        exit_status=1,
    ),
    Scenario(
        "key-disabled",
        "The customer-managed key is disabled: revoked (4002).",
        "own",
        _key_disabled,
        root_cause="key.disabled",
        exit_status=1,
    ),
    Scenario(
        "key-expired",
        "The customer-managed key's expiry date has passed: unwrap still works, wrap is refused; revoked (4018).",
        "own",
        _key_expired,
        root_cause="key.expired",
        exit_status=1,
    ),
    Scenario(
        "key-not-found",
        "The customer-managed key was deleted from the vault: revoked (4003).",
        "own",
        _key_not_found,
        root_cause="key.not-found",
        exit_status=1,
    ),
    Scenario(
        "purge-protection-off",
        "The vault has no purge protection (a CMK requirement); the account still works.",
        "own",
        _purge_protection_off,
        root_cause="keyvault.purge-protection-off",
        exit_status=0,  # a warning (the catalogue's severity): 1 with --fail-on warn
    ),
    Scenario(
        "kv-firewall",
        "The vault's firewall denies public access without letting trusted services through: revoked (4002).",
        "own",
        _kv_firewall,
        root_cause="keyvault.firewall-blocks-trusted-services",
        exit_status=1,
    ),
    Scenario(
        "cosmos-identity-undefined",
        "The account's defaultIdentity names an identity the account does not have: revoked (4015).",
        "own",
        _cosmos_identity_undefined,
        root_cause="cosmos.identity-undefined",
        exit_status=1,
    ),
    Scenario(
        "cmk-status-uncoded",
        "customerManagedKeyStatus is the published revoked text without a (NNNN) code; the data plane refuses with 403.",
        "own",
        _cmk_status_uncoded,
        root_cause="cosmos.revoked",
        exit_status=1,
    ),
    Scenario(
        "cosmos-dataplane-role-missing",
        "The production caller lost its Cosmos DB data-plane role: 403/5301 in AJO's log, AJO answers 500.",
        "own",
        _cosmos_dataplane_role_missing,
        root_cause="cosmos.dataplane-role-missing",
        exit_status=1,
    ),
    Scenario(
        "campaign-outside-window",
        "The campaign's end date has passed: executions are refused.",
        "own",
        _campaign_outside_window,
        root_cause="campaign.outside-window",
        exit_status=1,
    ),
    Scenario(
        "endpoint-mismatch",
        "The campaign is high-throughput but the configured endpoint is the standard (unitary) one.",
        "own",
        _endpoint_mismatch,
        root_cause="campaign.endpoint-mismatch",
        exit_status=1,
    ),
    Scenario(
        "trigger-timeout",
        "The execution call answers only after 90 s: the caller's deadline passes first.",
        "own",
        _trigger_timeout,
        root_cause="call.timeout",
        exit_status=1,
        run_args=("--trigger", "--trigger-deadline", "5"),
    ),
    Scenario(
        "diagnoser-secret-expired",
        "The diagnosing identity's client secret has expired (AADSTS7000222); the setup itself is healthy.",
        "own",
        _diagnoser_secret_expired,
        root_cause=None,
        exit_status=3,
    ),
    # -- throttling (issue 12): through the fault layer --------------------------------------------
    Scenario(
        "throttled",
        f"ARM and Graph answer 429 with Retry-After for their first {THROTTLE_S} seconds; the setup is healthy.",
        "own",
        _nothing,
        root_cause=None,
        exit_status=0,  # the tool waits out Retry-After (it fits every check's deadline), then decides
        faults=(f"arm:429:{THROTTLE_S}s", f"graph:429:{THROTTLE_S}s"),
    ),
    Scenario(
        "diagnoser-read-only",
        "The diagnosing identity has read rights only (Key Vault Reader, no unwrapKey): the unwrap round trip is not proven; the setup is healthy.",
        "own",
        _diagnoser_read_only,
        root_cause=None,
        exit_status=3,
    ),
    Scenario(
        "adobe-healthy",
        "Topology adobe: Experience Platform's CMK app reaches the key, BYOK status COMPLETED.",
        "adobe",
        _nothing,
        root_cause=None,
        exit_status=0,
    ),
    Scenario(
        "adobe-app-disabled",
        "Topology adobe: Adobe's CMK application is disabled in the tenant: BYOK FAILED, AJO answers 500.",
        "adobe",
        _adobe_app_disabled,
        root_cause="principal.disabled",
        exit_status=1,
    ),
]

from diagnose.lab import fleet  # noqa: E402 - the fleet worlds (run --all, issue 16) register here

_ALL.append(Scenario(fleet.NAME, fleet.DESCRIPTION, "own", _nothing, None, 0))
SCENARIO_OBJECTS: dict[str, Scenario] = {s.name: s for s in _ALL}
SCENARIOS: dict[str, str] = {s.name: s.description for s in _ALL}
