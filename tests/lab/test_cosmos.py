"""Cosmos DB data plane through azure-cosmos: account read, database listing, CMK and RBAC refusals."""

from __future__ import annotations

import json

import pytest
from azure.cosmos.exceptions import CosmosHttpResponseError

from tests.lab.sdk import caller_credential, cosmos_client, credential, get, token


def test_healthy_account_lists_databases(lab, ca_env):
    lab = ca_env(lab())
    client = cosmos_client(lab, credential(lab))
    assert [d["id"] for d in client.list_databases()] == ["ajo"]
    cosmos = [r for r in lab.requests if r.service == "cosmos"]
    assert {r.path for r in cosmos} == {"/", "/dbs"}
    assert all(r.caller_app_id == lab.env["AZURE_CLIENT_ID"] for r in cosmos)


@pytest.mark.parametrize(
    ("scenario", "substatus"),
    [
        ("sp-disabled", 4000),
        ("sp-deleted", 4000),
        ("kv-role-missing", 4002),
        ("kv-access-policy-missing", 4002),
        ("key-disabled", 4002),
        ("key-expired", 4018),
        ("key-not-found", 4003),
        ("kv-firewall", 4002),
        ("cosmos-identity-undefined", 4015),
    ],
)
def test_revoked_account_answers_403_with_the_cmk_substatus(lab, ca_env, scenario, substatus):
    lab = ca_env(lab(scenario))
    with pytest.raises(CosmosHttpResponseError) as info:
        list(cosmos_client(lab, credential(lab)).list_databases())
    assert info.value.status_code == 403
    assert info.value.sub_status == substatus
    assert info.value.response.headers["x-ms-substatus"] == str(substatus)
    # the published body: the one sentence, the reason only in x-ms-substatus
    assert _errors(info.value) == [
        "Request is blocked due to Customer Managed Key not being accessible."
    ]


def _errors(exc: CosmosHttpResponseError) -> object:
    """The `Errors` of Cosmos DB's `{"code", "message": "Message: {...}\\r\\nActivityId: ..."}`."""
    message = json.loads(exc.http_error_message)["message"]
    assert message.startswith("Message: ")
    return json.loads(message.removeprefix("Message: ").split("\r\nActivityId")[0])["Errors"]


def test_uncoded_revocation_answers_the_same_body_with_substatus_0(lab, ca_env):
    lab = ca_env(lab("cmk-status-uncoded"))
    with pytest.raises(CosmosHttpResponseError) as info:
        cosmos_client(lab, credential(lab))
    assert (info.value.status_code, info.value.response.headers["x-ms-substatus"]) == (403, "0")
    assert _errors(info.value) == [
        "Request is blocked due to Customer Managed Key not being accessible."
    ]


def test_account_status_texts_are_the_published_ones() -> None:
    """customerManagedKeyStatus for each derived code: the 2023-09-15 published value, verbatim."""
    from diagnose.lab.derived import revoked_status

    published = {  # Azure/bicep-types-az generated/cosmos-db/microsoft.documentdb/2023-09-15/types.md
        4000: "Access to your account is currently revoked because the Azure Cosmos DB service is unable to obtain the AAD authentication token for the account's default identity; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#azure-active-directory-token-acquisition-error (4000).",
        4002: "Access to your account is currently revoked because the current default identity no longer has permission to the associated Key Vault key; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#default-identity-is-unauthorized-to-access-the-azure-key-vault-key (4002).",
        4003: "Access to your account is currently revoked because the correspondent key is not found on the specified Key Vault; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#azure-key-vault-resource-not-found (4003).",
        4005: "Access to your account is currently revoked because the Azure Cosmos DB service is unable to wrap or unwrap the key; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#internal-unwrapping-procedure-error (4005).",
        4015: "Access to your account is currently revoked because the Azure Cosmos DB account has an undefined default identity; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#invalid-azure-cosmos-db-default-identity (4015).",
        4017: "Access to your account is currently revoked because the correspondent Azure Key Vault was not found; for more details about this error and how to restore access to your account please visit https://learn.microsoft.com/en-us/azure/cosmos-db/cmk-troubleshooting-guide#azure-key-vault-resource-not-found (4017).",
    }
    for code, text in published.items():
        assert revoked_status(code) == text


def test_dataplane_role_missing_hits_the_production_caller_only(lab, ca_env):
    lab = ca_env(lab("cosmos-dataplane-role-missing"))
    assert [d["id"] for d in cosmos_client(lab, credential(lab)).list_databases()] == ["ajo"]
    with pytest.raises(CosmosHttpResponseError) as info:
        list(cosmos_client(lab, caller_credential(lab)).list_databases())
    assert (info.value.status_code, info.value.sub_status) == (403, 5301)
    assert (
        f"principal [{lab.world.caller_id}] does not have required RBAC permissions"
        in info.value.http_error_message
    )


def test_tokens_for_other_services_and_master_keys_are_refused(lab):
    lab = lab()
    url = lab.env["DIAGNOSE_COSMOS_ENDPOINT"]
    vault_token = token(credential(lab), "https://vault.azure.net")
    resp = get(
        lab,
        url,
        headers={
            "authorization": f"type%3Daad%26ver%3D1.0%26sig%3D{vault_token}",
            "x-ms-version": "2020-07-15",
        },
    )
    assert resp.status_code == 401
    assert resp.headers["x-ms-substatus"] == "5008"
    resp = get(
        lab,
        url,
        headers={
            "authorization": "type%3Dmaster%26ver%3D1.0%26sig%3Dabc",
            "x-ms-version": "2020-07-15",
        },
    )
    assert (resp.status_code, resp.headers["x-ms-substatus"]) == (401, "5202")
    assert "Local Authorization is disabled" in resp.json()["message"]
    resp = get(lab, url, headers={"x-ms-version": "2020-07-15"})
    assert resp.status_code == 401


def test_public_cosmos_audience_is_accepted(lab):
    lab = lab()
    public = token(credential(lab), "https://cosmos.azure.com")
    resp = get(
        lab,
        lab.env["DIAGNOSE_COSMOS_ENDPOINT"] + "dbs",
        headers={"authorization": f"type=aad&ver=1.0&sig={public}"},
    )
    assert resp.status_code == 200
    assert resp.json()["Databases"][0]["id"] == "ajo"


def test_cosmos_really_checks_the_certificate(lab, monkeypatch):
    """127.0.0.6 is not a host for which the Cosmos SDK turns verification off."""
    import certifi
    from azure.core.exceptions import ServiceRequestError
    from azure.cosmos import CosmosClient

    lab = lab()
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certifi.where())  # public roots only
    monkeypatch.setenv("AZURE_COSMOS_HEALTH_CHECK_MAX_RETRIES", "0")
    with pytest.raises(ServiceRequestError, match="CERTIFICATE_VERIFY_FAILED"):
        CosmosClient(
            lab.env["DIAGNOSE_COSMOS_ENDPOINT"],
            credential=credential(lab),
            retry_total=0,
            connection_timeout=5,
        )
    assert not [r for r in lab.requests if r.service == "cosmos"]
