"""The run finds what the profile leaves out, and works with each credential kind."""

from __future__ import annotations

import json
from typing import Any

from tests.harness import run_cli


def run(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("run", "--output", "json", *args, env=env)
    return result.exit_code, result.json()


def test_principal_found_through_the_accounts_default_identity(lab) -> None:
    running = lab("sp-disabled")
    env = {k: v for k, v in running.env.items() if k != "DIAGNOSE_PRINCIPAL_APP_ID"}
    code, report = run(env, "--only", "principal.enabled")
    (check,) = report["checks"]
    # sp-disabled's identity is a multi-tenant application (FederatedClientId), issue 12 defect 5
    assert (
        check["evidence"]["app_id_from"] == "the account's default identity (federated client id)"
    )
    assert check["findings"][0]["code"] == "principal.disabled"
    assert code == 1


def test_adobe_topology_takes_the_app_from_the_app_registration(lab) -> None:
    running = lab("adobe-app-disabled")
    assert "DIAGNOSE_PRINCIPAL_APP_ID" not in running.env
    code, report = run(running.env, "--only", "principal.enabled")
    (check,) = report["checks"]
    assert check["evidence"]["app_id_from"] == "Experience Platform's BYOK app registration"
    assert check["findings"][0]["code"] == "principal.disabled"


def test_certificate_credential(lab) -> None:
    running = lab("healthy")
    env = {k: v for k, v in running.env.items() if k != "AZURE_CLIENT_SECRET"}
    env["AZURE_CLIENT_CERTIFICATE_PATH"] = str(running.client_certificate_path)
    code, report = run(env, "--only", "principal.enabled,keyvault.unwrap")
    statuses = {c["id"]: c["status"] for c in report["checks"]}
    assert statuses == {
        "principal.enabled": "pass",
        "keyvault.key": "pass",
        "keyvault.unwrap": "pass",
    }
    assert code == 0


def test_wrong_secret_is_the_tools_problem(lab) -> None:
    running = lab("healthy")
    env = dict(running.env, AZURE_CLIENT_SECRET="not-the-secret-at-all")
    code, report = run(env, "--only", "principal.enabled")
    (check,) = report["checks"]
    assert check["status"] == "error" and "AADSTS7000215" in check["summary"]
    assert code == 3
    assert "not-the-secret-at-all" not in json.dumps(report)


def test_missing_rights_of_the_diagnosing_identity_are_named_not_blamed(lab) -> None:
    running = lab("healthy")
    world = running.world
    diagnoser = world.diagnoser_id
    # the tool's own rights go: its Cosmos data-plane role and its ARM roles
    world.cosmos.sql_role_assignments = [
        a for a in world.cosmos.sql_role_assignments if a.principal_id != diagnoser
    ]
    world.role_assignments = [a for a in world.role_assignments if a.principal_id != diagnoser]
    code, report = run(running.env, "--only", "keyvault.vault,cosmos.dataplane")
    checks = {c["id"]: c for c in report["checks"]}
    assert checks["keyvault.vault"]["status"] == "error"
    assert "Reader" in checks["keyvault.vault"]["limitation"]["permission"]
    assert checks["cosmos.dataplane"]["status"] == "error"
    assert "Data Reader" in checks["cosmos.dataplane"]["limitation"]["permission"]
    assert not any(c["findings"] for c in report["checks"])
    assert report["diagnosis"] == []
    assert code == 3


def test_the_azure_credential_chain_works_with_a_tenant_set(lab, monkeypatch) -> None:
    """No explicit service principal for diagnose: DefaultAzureCredential (its environment
    credential here, as `az login` or a managed identity elsewhere) with the profile's tenant."""
    from diagnose import profile as profiles
    from diagnose.azure import credential

    running = lab("healthy")
    for name, value in running.env.items():
        monkeypatch.setenv(name, value)
    prof = profiles.load(dict(running.env))
    prof.credentials.clear()  # as when nothing but the chain is configured
    chain = credential.build(prof)
    assert type(chain).__name__ == "DefaultAzureCredential"
    token = chain.get_token(f"{prof.cloud.arm_url}/.default")
    assert token.token and token.expires_on > 0


def test_disabled_by_microsoft_reads_its_status_not_its_presence(lab) -> None:
    running = lab("healthy")
    principal = running.world.principals[running.world.cmk_principal_id]
    principal.disabled_by_microsoft = "NotDisabled"  # what Graph returns for a normal principal
    code, report = run(running.env, "--only", "principal.enabled")
    assert (report["checks"][0]["status"], code) == ("pass", 0), report["checks"]
    principal.disabled_by_microsoft = "DisabledDueToViolationOfServicesAgreement"
    code, report = run(running.env, "--only", "principal.enabled")
    codes = [f["code"] for f in report["checks"][0]["findings"]]
    assert (codes, code) == (["principal.disabled-by-microsoft"], 1), report["checks"]
