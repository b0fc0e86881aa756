"""The Azure CLI, registered as a custom cloud against the lab, sees the same world the tool sees.

Runs when `az` is on PATH (or DIAGNOSE_TEST_AZ names the executable); skips otherwise.
The CLI keeps the secret and its tokens in clear under its config folder: a
throwaway AZURE_CONFIG_DIR per test.
"""

from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.lab.azcli import AzureCli, needs_az

pytestmark = [needs_az, pytest.mark.timeout(300)]


@pytest.fixture
def az(lab, tmp_path):
    """Factory: log the CLI in to a lab of that scenario as the diagnosing identity; returns (lab, run)."""

    def start(scenario: str):
        instance = lab(scenario)
        e = instance.env
        cli = AzureCli(instance, tmp_path / "azure").login(
            e["AZURE_CLIENT_ID"], e["AZURE_CLIENT_SECRET"]
        )
        return instance, cli

    return start


def _json(result: subprocess.CompletedProcess):
    return json.loads(result.stdout)


def test_az_sees_the_sp_disabled_world(az):
    lab, run = az("sp-disabled")
    e = lab.env
    sp = _json(run("ad", "sp", "show", "--id", e["DIAGNOSE_PRINCIPAL_APP_ID"], "-o", "json"))
    assert sp["accountEnabled"] is False
    account = _json(run("cosmosdb", "show", "--ids", e["DIAGNOSE_COSMOS_ID"], "-o", "json"))
    assert account["customerManagedKeyStatus"].endswith("(4000).")
    assert account["keyVaultKeyUri"] == e["DIAGNOSE_KEY_ID"]
    roles = _json(
        run("role", "assignment", "list", "--scope", e["DIAGNOSE_KEYVAULT_ID"], "-o", "json")
    )
    assert {r["roleDefinitionName"] for r in roles} == {
        "Key Vault Crypto Service Encryption User",
        "Key Vault Crypto User",
    }
    inherited = _json(
        run(
            "role",
            "assignment",
            "list",
            "--scope",
            e["DIAGNOSE_KEYVAULT_ID"],
            "--include-inherited",
            "-o",
            "json",
        )
    )
    assert "Reader" in {r["roleDefinitionName"] for r in inherited}
    key = _json(run("keyvault", "key", "show", "--id", e["DIAGNOSE_KEY_ID"], "-o", "json"))
    assert key["attributes"]["enabled"] is True
    assert key["key"]["kid"].startswith(e["DIAGNOSE_KEY_ID"] + "/")
    assert e["AZURE_CLIENT_SECRET"] not in "".join(r.path for r in lab.requests)


def test_az_sees_a_missing_role(az):
    lab, run = az("kv-role-missing")
    roles = _json(
        run("role", "assignment", "list", "--scope", lab.env["DIAGNOSE_KEYVAULT_ID"], "-o", "json")
    )
    assert "Key Vault Crypto Service Encryption User" not in {
        r["roleDefinitionName"] for r in roles
    }
    account = _json(run("cosmosdb", "show", "--ids", lab.env["DIAGNOSE_COSMOS_ID"], "-o", "json"))
    assert account["customerManagedKeyStatus"].endswith("(4002).")


def test_az_heals_the_principal(az):
    lab, run = az("sp-disabled")
    e = lab.env
    run(
        "ad", "sp", "update", "--id", e["DIAGNOSE_PRINCIPAL_APP_ID"], "--set", "accountEnabled=true"
    )
    assert [(w.service, w.method, w.status) for w in lab.writes()] == [("graph", "PATCH", 204)]
    time.sleep(0.1)  # the lab's propagation delay in tests
    account = _json(run("cosmosdb", "show", "--ids", e["DIAGNOSE_COSMOS_ID"], "-o", "json"))
    assert (
        account["customerManagedKeyStatus"]
        == "Access to the configured customer managed key confirmed."
    )
