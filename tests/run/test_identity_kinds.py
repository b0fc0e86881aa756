"""principal.enabled says which kind of identity reaches the key, and a deleted managed identity is
its own cause, recreated, never restored (issue 12, defect 5), through the real CLI against the lab."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from diagnose import catalogue, remediation
from diagnose.lab.roles import KV_CRYPTO_SERVICE_ENCRYPTION_USER, READER
from diagnose.lab.world import (
    COSMOS_FIRST_PARTY_APP_ID,
    RoleAssignment,
    cmk_identity_as_first_party,
    cmk_identity_as_system_assigned,
    remove_system_identity,
)
from tests.harness import run_cli
from tests.lab.sdk import admin_credential, send, token


def _run(env: dict[str, str]) -> tuple[int, dict[str, Any], dict[str, Any]]:
    """(exit status, the report, principal.enabled's result)."""
    result = run_cli("run", "--output", "json", env=env)
    report = result.json("diagnose/report@1")
    (principal,) = [c for c in report["checks"] if c["id"] == "principal.enabled"]
    return result.exit_code, report, principal


@pytest.mark.parametrize(
    ("scenario", "pinned", "kind", "source"),
    [
        ("healthy", True, "user-assigned managed identity", "Graph's servicePrincipalType"),
        ("healthy", False, "user-assigned managed identity", "the account's defaultIdentity"),
        ("sp-disabled", True, "application", "Graph's servicePrincipalType"),
        (
            "sp-disabled",
            False,
            "multi-tenant application (cross-tenant, FederatedClientId)",
            "the account's defaultIdentity",
        ),
    ],
)
def test_the_evidence_names_the_kind_and_where_it_was_read(
    lab, scenario: str, pinned: bool, kind: str, source: str
) -> None:
    instance = lab(scenario)
    env = dict(instance.env)
    if not pinned:
        del env["DIAGNOSE_PRINCIPAL_APP_ID"]  # read from the account's defaultIdentity
    _, _, principal = _run(env)
    evidence = principal["evidence"]
    assert (evidence["identity_kind"], evidence["identity_kind_from"]) == (kind, source)
    if kind == "user-assigned managed identity":
        uai = instance.world.cosmos.user_assigned[0]
        assert evidence["resource_id"].lower() == uai.lower()
        assert evidence["as_default_identity"] == f"UserAssignedIdentity={evidence['resource_id']}"
    if not pinned:
        assert evidence["default_identity"] == instance.world.cosmos.default_identity
        how = "federated client id" if scenario == "sp-disabled" else "user-assigned"
        assert evidence["app_id_from"] == f"the account's default identity ({how})"


def test_a_deleted_user_assigned_identity_is_its_own_cause_at_step_1(lab) -> None:
    instance = lab("uami-deleted")
    exit_code, report, principal = _run(instance.env)
    root = report["diagnosis"][0]
    assert exit_code == 1 and root["code"] == "principal.managed-identity-deleted"
    assert root["runbook"] == {"id": "cosmosdb-auth-errors", "step": 1}
    evidence = principal["evidence"]
    assert (
        evidence["restorable"] is False and evidence["identity_resource"] == "ARM: ResourceNotFound"
    )
    assert evidence["identity_kind"] == "user-assigned managed identity"
    commands = remediation.commands(root["remediation"])
    assert commands and not any("restore" in c or "deletedItems" in c for c in commands)
    assert commands[0].startswith("az identity create --name id-cosmos-cmk ")
    assert commands[-1].endswith(
        f"--default-identity UserAssignedIdentity={evidence['resource_id']}"
    )


def test_a_deleted_identity_not_read_from_arm_is_still_said_to_be_gone(lab) -> None:
    """The reader may lack Reader on the identity: Graph's own words (no principal, nothing in
    deleted items) and the account's default identity still decide; the evidence says what ARM did."""
    instance = lab("uami-deleted")
    _reader_on_the_account_only(instance.world)
    exit_code, report, principal = _run(instance.env)
    assert report["diagnosis"][0]["code"] == "principal.managed-identity-deleted"
    assert principal["evidence"]["identity_resource"].startswith("not read (")


def _reader_on_the_account_only(world: Any) -> None:
    world.role_assignments = [
        a for a in world.role_assignments if a.principal_id != world.diagnoser_id
    ]
    world.role_assignments.append(
        RoleAssignment(
            "00000000-0000-0000-0000-00000000beef", world.cosmos.id, READER, world.diagnoser_id
        )
    )


def _unpinned(env: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in env.items() if k != "DIAGNOSE_PRINCIPAL_APP_ID"}


def test_an_identity_without_a_client_id_in_the_account_is_gone_only_on_arms_word(lab) -> None:
    """The account's record of its identity names no clientId (no ids kept): Graph cannot be
    asked, so ARM's ResourceNotFound alone says the identity is gone, and the message claims
    nothing of Graph."""
    instance = lab("uami-deleted")
    instance.world.deleted_identities.clear()  # the account's record: clientId null
    _, _, principal = _run(_unpinned(instance.env))
    (found,) = principal["findings"]
    assert found["code"] == "principal.managed-identity-deleted"
    assert principal["evidence"]["identity_resource"] == "ARM: ResourceNotFound"
    assert "ARM answers ResourceNotFound" in found["message"]
    assert "service principal" not in found["message"]


def test_an_identity_the_account_holds_without_a_client_id_is_not_undefined(lab) -> None:
    """cosmos.cmk: the account holds the identity its default identity names, though its record
    names no clientId: that is not an identity the account does not hold."""
    instance = lab("uami-deleted")
    instance.world.deleted_identities.clear()
    _, report, _ = _run(_unpinned(instance.env))
    (cmk,) = [c for c in report["checks"] if c["id"] == "cosmos.cmk"]
    assert "cosmos.identity-undefined" not in {f["code"] for f in cmk["findings"]}
    assert report["diagnosis"][0]["code"] == "principal.managed-identity-deleted"


def test_an_identity_without_a_client_id_unread_in_arm_is_undecided(lab) -> None:
    """No clientId to ask Graph with and no ARM answer: nothing is known of the identity (a
    limitation, exit 3), never "deleted" from a fault."""
    instance = lab("uami-deleted")
    instance.world.deleted_identities.clear()
    _reader_on_the_account_only(instance.world)
    exit_code, report, principal = _run(_unpinned(instance.env))
    assert principal["status"] == "error" and not principal["findings"]
    assert exit_code == 3
    assert "principal.managed-identity-deleted" not in {d["code"] for d in report["diagnosis"]}


def test_an_existing_identity_without_a_client_id_is_no_deleted_principal(lab) -> None:
    """The identity exists but the account's record names no clientId: Graph was not asked, so
    nothing is said of its principal."""
    instance = lab("healthy")
    (identity,) = instance.world.identities
    identity.client_id = ""  # the account's record (and ARM's identity) name no client id
    _, report, principal = _run(_unpinned(instance.env))
    assert principal["status"] == "skip"
    assert "principal.deleted" not in {d["code"] for d in report["diagnosis"]}


def test_an_undefined_default_identity_is_not_a_deleted_one(lab) -> None:
    """cosmos-identity-undefined names an identity the account does not hold: that is the account's
    configuration (cosmos.identity-undefined), not a deleted identity, even read from the account."""
    instance = lab("cosmos-identity-undefined")
    env = {k: v for k, v in instance.env.items() if k != "DIAGNOSE_PRINCIPAL_APP_ID"}
    exit_code, report, principal = _run(env)
    assert exit_code == 1 and report["diagnosis"][0]["code"] == "cosmos.identity-undefined"
    assert principal["status"] == "skip"


def test_the_catalogue_recreates_a_managed_identity_and_the_scenarios_say_which_kind() -> None:
    cause = catalogue.default().cause("principal.managed-identity-deleted")
    assert cause.ref.step == 1
    templates = remediation.commands(cause.templates)
    assert [t.split()[1:3] for t in templates] == [
        ["identity", "create"],
        ["cosmosdb", "identity"],
        ["role", "assignment"],
        ["cosmosdb", "update"],
    ]
    listed = run_cli("lab", "scenarios").stdout
    for name in ("sp-disabled", "sp-deleted"):
        (line,) = [line for line in listed.splitlines() if line.split()[:1] == [name]]
        assert "FederatedClientId" in line and "application" in line
    (line,) = [line for line in listed.splitlines() if line.split()[:1] == ["uami-deleted"]]
    assert "user-assigned managed identity" in line and "cannot be restored" in line


# -- FirstPartyIdentity and SystemAssignedIdentity (docs/lab.md "Identity kinds") ---------------


def _as_first_party(instance: Any, pinned: bool) -> tuple[dict[str, str], Any]:
    """The healthy world with Azure Cosmos DB's first-party identity as the default identity,
    granted by an access policy (world.cmk_identity_as_first_party); the profile pins its app id
    or leaves it to the account's defaultIdentity."""
    principal = cmk_identity_as_first_party(instance.world)
    return _profile(instance, principal, pinned), principal


def _as_system_assigned(instance: Any, pinned: bool) -> tuple[dict[str, str], Any]:
    """The healthy world with the account's system-assigned identity as the default identity,
    granted the key by its RBAC role (world.cmk_identity_as_system_assigned)."""
    principal = cmk_identity_as_system_assigned(instance.world)
    return _profile(instance, principal, pinned), principal


def _healthy_as(lab, as_kind: Any, pinned: bool) -> tuple[Any, Any, dict[str, Any]]:
    """(lab, principal, principal.enabled's result) of a healthy run with the CMK identity of
    `as_kind`: exit 0, no diagnosis, and the key's rights, unwrap and CMK status proved."""
    instance = lab("healthy")
    env, principal = as_kind(instance, pinned)
    exit_code, report, checked = _run(env)
    assert exit_code == 0 and report["diagnosis"] == [], report["diagnosis"]
    checks = _checks(report)
    assert {checks[c]["status"] for c in ("roles.keyvault", "keyvault.unwrap", "cosmos.cmk")} == {
        "pass"
    }
    return instance, principal, checked


def _profile(instance: Any, principal: Any, pinned: bool) -> dict[str, str]:
    env = _unpinned(instance.env)
    if pinned:
        env["DIAGNOSE_PRINCIPAL_APP_ID"] = principal.app_id
    return env


def _checks(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "from-default-identity"])
def test_the_first_party_identity_is_found_proved_and_named(lab, pinned: bool) -> None:
    instance, principal, checked = _healthy_as(lab, _as_first_party, pinned)
    evidence = checked["evidence"]
    assert principal.app_id == COSMOS_FIRST_PARTY_APP_ID
    assert (evidence["app_id"], evidence["object_id"]) == (principal.app_id, principal.object_id)
    assert evidence["identity_kind"] == "Azure Cosmos DB's first-party application"
    assert evidence["identity_kind_from"] == (
        "Graph's appId" if pinned else "the account's defaultIdentity"
    )
    assert evidence["as_default_identity"] == "FirstPartyIdentity"
    assert "Azure Cosmos DB's first-party application" in checked["summary"]
    if not pinned:
        assert evidence["app_id_from"] == "the account's default identity (first-party)"
    # the vault grants it by an access policy (how-to-setup-customer-managed-keys)
    assert instance.world.vault.rbac is False


def test_the_first_party_identity_without_its_access_policy_is_the_step_2_cause(lab) -> None:
    """Deleting the access policy granted to the Azure Cosmos DB principal revokes the account
    (how-to-setup-customer-managed-keys, "How do I revoke an encryption key?"); the guide files it
    under the default identity being unauthorized (4002): step 2, add the policy again."""
    instance = lab("healthy")
    env, principal = _as_first_party(instance, pinned=False)
    vault = instance.world.vault
    vault.access_policies = [p for p in vault.access_policies if p.object_id != principal.object_id]
    exit_code, report, checked = _run(env)
    root = report["diagnosis"][0]
    assert exit_code == 1 and root["code"] == "keyvault.access-policy-missing", report["diagnosis"]
    assert root["runbook"] == {"id": "cosmosdb-auth-errors", "step": 2}
    assert checked["status"] == "pass"  # the principal itself is there and enabled
    assert checked["evidence"]["identity_kind"] == "Azure Cosmos DB's first-party application"
    (command,) = [c for c in remediation.commands(root["remediation"]) if "set-policy" in c]
    assert f"--object-id {principal.object_id}" in command
    assert "cosmos.revoked.4002" in {d["code"] for d in report["diagnosis"]}
    assert not {"principal.deleted", "principal.disabled"} & {
        d["code"] for d in report["diagnosis"]
    }


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "from-default-identity"])
def test_the_system_assigned_identity_is_found_proved_and_named(lab, pinned: bool) -> None:
    instance, principal, checked = _healthy_as(lab, _as_system_assigned, pinned)
    evidence = checked["evidence"]
    account = instance.world.cosmos
    assert evidence["object_id"] == principal.object_id == account.system_principal_id
    assert evidence["display_name"] == account.name and evidence["type"] == "ManagedIdentity"
    assert evidence["identity_kind"] == "system-assigned managed identity"
    assert evidence["identity_kind_from"] == (
        "Graph's servicePrincipalType" if pinned else "the account's defaultIdentity"
    )
    assert evidence["resource_id"].lower() == account.id.lower()  # Graph's alternativeNames
    assert evidence["as_default_identity"] == "SystemAssignedIdentity"
    assert "system-assigned managed identity" in checked["summary"]
    if not pinned:
        assert evidence["app_id_from"] == "the account's default identity (system-assigned)"


def _system_fix_commands(root: dict[str, Any]) -> list[str]:
    commands = remediation.commands(root["remediation"])
    assert commands and not any("restore" in c or "deletedItems" in c for c in commands), commands
    assert not any(c.startswith("az identity create") for c in commands), commands
    return commands


@pytest.mark.parametrize("pinned", [True, False], ids=["pinned", "from-default-identity"])
def test_a_removed_system_assigned_identity_is_a_step_1_cause_never_restored(
    lab, pinned: bool
) -> None:
    """The account's identity drops SystemAssigned while SystemAssignedIdentity stays its default
    identity: its principal is gone for good, so the fix enables the identity again (a new
    principal), grants it the key and sets it as the default identity again."""
    instance = lab("healthy")
    env, principal = _as_system_assigned(instance, pinned)
    remove_system_identity(instance.world)
    exit_code, report, checked = _run(env)
    root = report["diagnosis"][0]
    assert exit_code == 1 and root["code"] == "principal.system-identity-removed"
    assert root["runbook"] == {"id": "cosmosdb-auth-errors", "step": 1}
    assert "principal.deleted" not in {d["code"] for d in report["diagnosis"]}
    evidence = checked["evidence"]
    assert evidence["identity_kind"] == "system-assigned managed identity"
    assert evidence["restorable"] is False
    assert evidence["system_identity"] == "ARM: the account's identity.type is UserAssigned"
    commands = _system_fix_commands(root)
    account = instance.world.cosmos.id
    assert commands[0] == f"az cosmosdb identity assign --ids {account}"
    assert (
        "az role assignment create --assignee-object-id $(az cosmosdb identity show"
        in (commands[1])
    )
    assert commands[1].endswith(f"--scope {instance.world.vault.id}")
    assert commands[-1] == (
        f"az cosmosdb update --ids {account} --default-identity SystemAssignedIdentity"
    )
    assert principal.object_id not in " ".join(commands)  # the old principal is no use


def test_a_system_assigned_identity_whose_principal_is_gone_is_the_same_cause(lab) -> None:
    """The account still names its system-assigned principal, which Graph does not have
    (Request_ResourceNotFound) and never keeps in deleted items: the same step-1 cause."""
    instance = lab("healthy")
    env, principal = _as_system_assigned(instance, pinned=False)
    principal.deleted_at = time.time() - 3600
    exit_code, report, checked = _run(env)
    assert exit_code == 1 and report["diagnosis"][0]["code"] == "principal.system-identity-removed"
    evidence = checked["evidence"]
    assert evidence["principal_object_id"] == principal.object_id
    assert evidence["system_identity"].startswith("Graph: Request_ResourceNotFound")
    _system_fix_commands(report["diagnosis"][0])


def test_the_printed_fix_heals_a_removed_system_assigned_identity(lab) -> None:
    """The fix's three writes, sent as the admin identity the way the Azure CLI sends them (the
    account's identity PATCH, the role assignment for the new principal, the default identity),
    make the run healthy again: the new principal is not the removed one."""
    instance = lab("healthy", propagation_s=0)
    env, old = _as_system_assigned(instance, pinned=False)
    remove_system_identity(instance.world)
    assert _run(env)[0] == 1
    world = instance.world
    bearer = token(admin_credential(instance), instance.urls["arm"])
    cosmos = f"{instance.urls['arm']}{world.cosmos.id}?api-version=2024-11-15"
    identity = {"type": "SystemAssigned,UserAssigned", "userAssignedIdentities": {}}
    identity["userAssignedIdentities"] = {i: {} for i in world.cosmos.user_assigned}
    patched = send(instance, "PATCH", cosmos, bearer, json={"identity": identity})
    assert patched.status_code == 200, patched.text  # accepted while revoked (troubleshoot-cmk)
    new = patched.json()["identity"]["principalId"]
    assert new and new != old.object_id
    role = (
        f"{world.subscription_scope}/providers/Microsoft.Authorization/roleDefinitions/"
        f"{KV_CRYPTO_SERVICE_ENCRYPTION_USER}"
    )
    granted = send(
        instance,
        "PUT",
        f"{instance.urls['arm']}{world.vault.id}/providers/Microsoft.Authorization/roleAssignments/"
        f"{uuid.uuid4()}?api-version=2022-04-01",
        bearer,
        json={"properties": {"roleDefinitionId": role, "principalId": new}},
    )
    assert granted.status_code == 201, granted.text
    body = {"properties": {"defaultIdentity": "SystemAssignedIdentity"}}
    assert send(instance, "PATCH", cosmos, bearer, json=body).status_code == 200
    exit_code, report, checked = _run(env)
    assert exit_code == 0 and report["diagnosis"] == [], report["diagnosis"]
    assert checked["evidence"]["object_id"] == new


def test_a_delegated_system_assigned_identity_is_never_judged_by_the_accounts_own_identity(
    lab,
) -> None:
    """DelegatedSystemAssignedIdentity is another resource's identity: the account's own
    identity.type says nothing of it, so no principal.system-identity-removed is claimed (the
    check says it cannot tell which principal reaches the key)."""
    instance = lab("healthy")
    instance.world.cosmos.default_identity = "DelegatedSystemAssignedIdentity"
    _, report, principal = _run(_unpinned(instance.env))
    assert principal["status"] == "skip", principal
    assert not principal["findings"]
    assert "principal.system-identity-removed" not in {d["code"] for d in report["diagnosis"]}
