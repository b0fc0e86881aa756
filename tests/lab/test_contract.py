"""The lab's contract with the rest of diagnose (docs/lab.md): env names, writes, healing paths."""

from __future__ import annotations

import time

from diagnose.lab.roles import CONTRIBUTOR
from diagnose.lab.world import RoleAssignment
from tests.lab.sdk import arm, credential, execute, get, send, token

COMMON = {
    "DIAGNOSE_CLOUD",
    "AZURE_AUTHORITY_HOST",
    "DIAGNOSE_ARM_URL",
    "DIAGNOSE_GRAPH_URL",
    "DIAGNOSE_CA_BUNDLE",
    "REQUESTS_CA_BUNDLE",
    "AZURE_TENANT_ID",
    "DIAGNOSE_SUBSCRIPTION_ID",
    "DIAGNOSE_TOPOLOGY",
    "DIAGNOSE_KEYVAULT_ID",
    "DIAGNOSE_KEYVAULT_URL",
    "DIAGNOSE_KEY_ID",
    "DIAGNOSE_IMS_URL",
    "DIAGNOSE_PLATFORM_URL",
    "DIAGNOSE_WORKSPACE_ID",
    "DIAGNOSE_LOGANALYTICS_URL",
    "DIAGNOSE_IMS_ORG",
    "DIAGNOSE_SANDBOX",
    "DIAGNOSE_CAMPAIGN_ID",
    "DIAGNOSE_EXECUTION_KIND",
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "DIAGNOSE_ADOBE_CLIENT_ID",
    "DIAGNOSE_ADOBE_CLIENT_SECRET",
    "DIAGNOSE_ADOBE_SCOPES",
}
OWN_ONLY = {
    "DIAGNOSE_PRINCIPAL_APP_ID",
    "DIAGNOSE_COSMOS_ID",
    "DIAGNOSE_COSMOS_ENDPOINT",
    "DIAGNOSE_COSMOS_CALLER_APP_ID",
}


def test_env_names_by_topology(lab):
    assert set(lab().env) == COMMON | OWN_ONLY
    assert set(lab("adobe-healthy").env) == COMMON | {"DIAGNOSE_BYOK_CONFIG"}


def test_env_and_profile_files_are_written_atomically_and_completely(lab, tmp_path):
    import tomllib

    lab = lab()
    lab.write_env(tmp_path / "lab.env")
    lab.write_profile(tmp_path / "diagnose.toml")
    lines = (tmp_path / "lab.env").read_text().splitlines()
    assert lines == [f"export {k}='{v}'" for k, v in lab.env.items()]
    profile = tomllib.loads((tmp_path / "diagnose.toml").read_text())["profile"]["default"]
    assert (
        profile["keyvault_id"] == lab.env["DIAGNOSE_KEYVAULT_ID"] and profile["cloud"] == "custom"
    )
    assert not {p.name for p in tmp_path.iterdir()} - {
        "lab.env",
        "diagnose.toml",
    }  # no temp file left


def test_role_definition_by_id_in_every_form(lab):
    lab = lab()
    bearer = token(credential(lab), "https://management.azure.com")
    guid = "e147488a-f6f5-4113-8e2d-b22465e65bf6"
    for scope in (
        "",
        f"/subscriptions/{lab.env['DIAGNOSE_SUBSCRIPTION_ID']}",
        lab.env["DIAGNOSE_KEYVAULT_ID"],
    ):
        resp = arm(
            lab,
            f"{scope}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
            bearer,
            "2022-04-01",
        )
        assert resp.status_code == 200, scope
        assert resp.json()["properties"]["roleName"] == "Key Vault Crypto Service Encryption User"
    missing = arm(
        lab,
        "/providers/Microsoft.Authorization/roleDefinitions/00000000-0000-0000-0000-00000000beef",
        bearer,
        "2022-04-01",
    )
    assert (missing.status_code, missing.json()["error"]["code"]) == (
        404,
        "RoleDefinitionDoesNotExist",
    )


def test_enabling_the_key_through_key_vault_heals(lab):
    lab = lab("key-disabled")
    cred = credential(lab)
    vault_token = token(cred, "https://vault.azure.net")
    url = f"{lab.env['DIAGNOSE_KEY_ID']}/{lab.world.key.version}?api-version=7.6"
    resp = send(lab, "PATCH", url, vault_token, json={"attributes": {"enabled": True}})
    assert resp.status_code == 200 and resp.json()["attributes"]["enabled"] is True
    assert [(w.service, w.method) for w in lab.writes()] == [("vault", "PATCH")]
    time.sleep(0.1)
    status = arm(
        lab, lab.env["DIAGNOSE_COSMOS_ID"], token(cred, "https://management.azure.com")
    ).json()["properties"]["customerManagedKeyStatus"]
    assert status == "Access to the configured customer managed key confirmed."
    assert execute(lab).status_code == 202


def test_revoked_account_refuses_updates_but_a_default_identity_refresh(lab):
    lab = lab("cosmos-identity-undefined")
    bearer = token(credential(lab), "https://management.azure.com")
    url = f"{lab.urls['arm']}{lab.env['DIAGNOSE_COSMOS_ID']}?api-version=2024-11-15"
    resp = send(lab, "PATCH", url, bearer, json={"properties": {"disableLocalAuth": False}})
    # the diagnosing identity is only a Reader: ARM refuses before the account does
    assert (resp.status_code, resp.json()["error"]["code"]) == (403, "AuthorizationFailed")
    contributor = RoleAssignment(
        "0b6e3f0e-0000-4000-8000-00000000c05d",
        lab.env["DIAGNOSE_COSMOS_ID"],
        CONTRIBUTOR,
        lab.world.diagnoser_id,
    )
    lab.world.role_assignments.append(contributor)  # a test may edit the world directly
    resp = send(lab, "PATCH", url, bearer, json={"properties": {"disableLocalAuth": False}})
    assert resp.status_code == 400
    assert (
        resp.json()["error"]["message"]
        == "No Update is allowed on Database Account with Customer Managed Key in Revoked Status"
    )
    identity = lab.world.identities[0].id
    resp = send(
        lab,
        "PATCH",
        url,
        bearer,
        json={"properties": {"defaultIdentity": f"UserAssignedIdentity={identity}"}},
    )
    assert resp.status_code == 200
    time.sleep(0.1)
    assert (
        arm(lab, lab.env["DIAGNOSE_COSMOS_ID"], bearer)
        .json()["properties"]["customerManagedKeyStatus"]
        .startswith("Access to the configured")
    )


def test_platform_health_needs_only_key_and_org(lab):
    lab = lab()
    resp = get(
        lab,
        f"{lab.urls['platform']}/ajo/im/health",
        headers={
            "x-api-key": lab.env["DIAGNOSE_ADOBE_CLIENT_ID"],
            "x-gw-ims-org-id": lab.env["DIAGNOSE_IMS_ORG"],
        },
    )
    assert resp.json() == {"status": "UP"}


def test_disabled_by_microsoft_counts_as_disabled(lab):
    lab = lab()
    lab.world.principals[
        lab.world.cmk_principal_id
    ].disabled_by_microsoft = "DisabledDueToViolationOfServicesAgreement"
    cred = credential(lab)
    graph = get(
        lab,
        f"{lab.urls['graph']}/v1.0/servicePrincipals/{lab.world.cmk_principal_id}",
        token(cred, "https://graph.microsoft.com"),
    ).json()
    assert (graph["accountEnabled"], graph["disabledByMicrosoftStatus"]) == (
        True,
        "DisabledDueToViolationOfServicesAgreement",
    )
    status = arm(
        lab, lab.env["DIAGNOSE_COSMOS_ID"], token(cred, "https://management.azure.com")
    ).json()["properties"]["customerManagedKeyStatus"]
    assert status.endswith("(4000).")


def test_concurrent_requests_are_all_answered(lab):
    from concurrent.futures import ThreadPoolExecutor

    lab = lab()
    bearer = token(credential(lab), "https://management.azure.com")
    paths = [
        lab.env["DIAGNOSE_KEYVAULT_ID"],
        lab.env["DIAGNOSE_COSMOS_ID"],
        lab.env["DIAGNOSE_KEYVAULT_ID"] + "/keys/cmk",
    ] * 20
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda p: arm(lab, p, bearer).status_code, paths))
    assert statuses == [200] * len(paths)
    assert len([r for r in lab.requests if r.service == "arm"]) == len(paths)
