"""Issue 12's defects, each pinned against the behaviour its published source describes.

- defect 1 (`cmk-status-uncoded`): a revoked customerManagedKeyStatus without a (NNNN) code.
- defect 3 (`kv-role-inherited`): a role assignment at a management group counts.
- defect 2 (`arm-key-read-denied`): ARM's key read denied with 400 ForbiddenByRbac is a limitation.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from diagnose.checks.cosmos import _status_findings
from diagnose.lab.scenarios import SCENARIO_OBJECTS, UNCODED_REVOKED
from tests.harness import run_cli

LAB_ENV = {"DIAGNOSE_LAB_PROPAGATION_S": "0.05"}


def run_lab(scenario: str) -> tuple[int, dict[str, Any], str]:
    result = run_cli("run", "--lab", scenario, "--output", "json", env=LAB_ENV)
    return result.exit_code, result.json(), result.stderr


def checks_of(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["checks"]}


def test_defect_1_uncoded_revoked_status_is_a_revocation() -> None:
    code, report, stderr = run_lab("cmk-status-uncoded")
    assert code == 1 == SCENARIO_OBJECTS["cmk-status-uncoded"].exit_status, stderr[-800:]
    cmk = checks_of(report)["cosmos.cmk"]
    assert cmk["status"] == "fail"
    assert "confirmed" not in cmk["summary"]
    (f,) = cmk["findings"]
    assert f["code"].startswith("cosmos.revoked") and f["evidence"]["status"] == UNCODED_REVOKED
    assert report["diagnosis"][0]["code"] == "cosmos.revoked"


@pytest.mark.parametrize("status", [None, "", "Something the tool has never seen"])
def test_defect_1_absent_or_unknown_status_is_never_confirmed(status: str | None) -> None:
    (f,) = _status_findings(status, None)
    assert f.code == "cosmos.cmk-status-unknown" and f.severity.value == "warn"
    assert "cannot confirm" in f.message


def test_healthy_status_confirms() -> None:
    assert _status_findings("Access to the configured customer managed key confirmed.", None) == []


def test_defect_3_role_inherited_from_a_management_group_counts() -> None:
    code, report, stderr = run_lab("kv-role-inherited")
    assert code == 0 == SCENARIO_OBJECTS["kv-role-inherited"].exit_status, (stderr[-800:], report)
    roles = checks_of(report)["roles.keyvault"]
    assert roles["status"] == "pass", roles
    scopes = [r["scope"] for r in roles["evidence"]["roles"]]
    assert any("/managementGroups/mg-contoso-prod" in s for s in scopes), scopes
    assert report["diagnosis"] == []


def test_defect_2_arm_key_read_denied_is_the_tools_limitation() -> None:
    code, report, stderr = run_lab("arm-key-read-denied")
    assert code == 3 == SCENARIO_OBJECTS["arm-key-read-denied"].exit_status, (stderr[-800:], report)
    assert report["diagnosis"] == []
    assert not any(c["findings"] for c in report["checks"])
    key = checks_of(report)["keyvault.key"]
    assert key["status"] == "error", key
    assert "ForbiddenByRbac" in key["summary"] and "Internal" not in key["summary"]
    assert "Microsoft.KeyVault/vaults/keys/read" in json.dumps(key)
    assert "Key Vault Reader" in json.dumps(key)  # the right the diagnosing identity lacks


def test_defect_2_checks_listing_names_the_key_vault_read_right() -> None:
    result = run_cli("checks", "--output", "json")
    listed = {c["id"]: c for c in result.json()["checks"]}
    rights = " ".join(listed["keyvault.key"]["permissions"])
    assert "Microsoft.KeyVault/vaults/keys/read" in rights and "Key Vault Reader" in rights
    assert "Reader on the vault" not in rights


def test_an_uncoded_revocation_fails_the_campaign_call_too() -> None:
    """The lab's data plane and AJO read the same derived state: with the uncoded revoked
    status, the trigger gets the documented 500, as Cosmos DB's data plane refuses."""
    result = run_cli(
        "run", "--lab", "cmk-status-uncoded", "--trigger", "--trigger-deadline", "10",
        "--output", "json", env=LAB_ENV,
    )  # fmt: skip
    report = result.json()
    assert result.exit_code == 1, result.stderr
    assert checks_of(report)["campaign.trigger"]["status"] == "fail"
    assert "campaign.server-error" in {d["code"] for d in report["diagnosis"]}
