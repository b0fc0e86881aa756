"""principal.enabled says which kind of identity reaches the key, and a deleted managed identity is
its own cause, recreated, never restored (issue 12, defect 5), through the real CLI against the lab."""

from __future__ import annotations

from typing import Any

import pytest

from diagnose import catalogue, remediation
from diagnose.lab.roles import READER
from diagnose.lab.world import RoleAssignment
from tests.harness import run_cli


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
