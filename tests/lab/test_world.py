"""One world, answers derived from it: healing through the API, audiences, scenario catalogue."""

from __future__ import annotations

import time

import pytest
from azure.cosmos.exceptions import CosmosHttpResponseError

from diagnose.lab import SCENARIOS, Lab, UnknownScenario
from tests.lab.sdk import arm, cosmos_client, credential, execute, get, key_client, send, token

HEALTHY = "Access to the configured customer managed key confirmed."


def _cmk_status(lab, bearer):
    return arm(lab, lab.env["DIAGNOSE_COSMOS_ID"], bearer).json()["properties"][
        "customerManagedKeyStatus"
    ]


def test_re_enabling_the_principal_heals_cosmos_and_ajo_after_the_delay(lab, ca_env):
    lab = ca_env(lab("sp-disabled", propagation_s=1.0))
    cred = credential(lab)
    arm_token = token(cred, "https://management.azure.com")
    graph_token = token(cred, "https://graph.microsoft.com")
    assert _cmk_status(lab, arm_token).endswith("(4000).")
    assert execute(lab).status_code == 500

    resp = send(
        lab,
        "PATCH",
        f"{lab.urls['graph']}/v1.0/servicePrincipals/{lab.world.cmk_principal_id}",
        graph_token,
        json={"accountEnabled": True},
    )
    assert resp.status_code == 204
    # within the propagation delay the account still reads revoked
    assert _cmk_status(lab, arm_token).endswith("(4000).")
    with pytest.raises(CosmosHttpResponseError):
        list(cosmos_client(lab, cred).list_databases())

    deadline = time.time() + 5
    while _cmk_status(lab, arm_token) != HEALTHY:
        assert time.time() < deadline, "the account never healed"
        time.sleep(0.1)
    assert [d["id"] for d in cosmos_client(lab, cred).list_databases()] == ["ajo"]
    assert execute(lab, request_id="req-2").status_code == 202


def test_restoring_a_deleted_principal_heals(lab, ca_env):
    lab = ca_env(lab("sp-deleted"))
    cred = credential(lab)
    graph_token = token(cred, "https://graph.microsoft.com")
    send(
        lab,
        "POST",
        f"{lab.urls['graph']}/v1.0/directory/deletedItems/{lab.world.cmk_principal_id}/restore",
        graph_token,
    ).raise_for_status()
    time.sleep(0.1)
    assert _cmk_status(lab, token(cred, "https://management.azure.com")) == HEALTHY
    assert execute(lab).status_code == 202


def test_disabling_through_graph_breaks_everything(lab, ca_env):
    """An application's principal (sp-disabled's CMK identity; a managed identity's is refused)."""
    lab = ca_env(lab("sp-disabled"))
    cred = credential(lab)
    graph_token = token(cred, "https://graph.microsoft.com")
    url = f"{lab.urls['graph']}/v1.0/servicePrincipals(appId='{lab.env['DIAGNOSE_PRINCIPAL_APP_ID']}')"
    send(lab, "PATCH", url, graph_token, json={"accountEnabled": True}).raise_for_status()
    time.sleep(0.1)
    assert execute(lab).status_code == 202
    send(lab, "PATCH", url, graph_token, json={"accountEnabled": False}).raise_for_status()
    time.sleep(0.1)
    with pytest.raises(CosmosHttpResponseError) as info:
        list(cosmos_client(lab, cred).list_databases())
    assert info.value.sub_status == 4000
    assert execute(lab).status_code == 500


def test_adobe_app_re_enabled_heals_byok(lab):
    lab = lab("adobe-app-disabled")
    graph_token = token(credential(lab), "https://graph.microsoft.com")
    send(
        lab,
        "PATCH",
        f"{lab.urls['graph']}/v1.0/servicePrincipals/{lab.world.cmk_principal_id}",
        graph_token,
        json={"accountEnabled": True},
    ).raise_for_status()
    time.sleep(0.1)
    assert execute(lab).status_code == 202


def test_each_service_has_its_own_address_and_refuses_other_audiences(lab):
    lab = lab()
    hosts = {url.split("://")[1].rsplit(":", 1)[0] for url in lab.urls.values()}
    assert len(hosts) == len(lab.urls) and "127.0.0.1" not in hosts
    cred = credential(lab)
    targets = {
        "graph": f"{lab.urls['graph']}/v1.0/servicePrincipals/{lab.world.diagnoser_id}",
        "arm": f"{lab.urls['arm']}{lab.env['DIAGNOSE_KEYVAULT_ID']}?api-version=2023-07-01",
        "vault": f"{lab.env['DIAGNOSE_KEY_ID']}?api-version=7.6",
    }
    for owner in targets:
        own = token(cred, lab.urls[owner])
        for service, url in targets.items():
            status = get(lab, url, own).status_code
            assert (status == 200) == (service == owner), (owner, service, status)


def test_adobe_and_azure_tokens_do_not_cross(lab):
    lab = lab()
    from tests.lab.sdk import adobe_headers, ims_token, payload

    azure = token(credential(lab), "https://management.azure.com")
    headers = {**adobe_headers(lab, azure)}
    resp = send(
        lab,
        "POST",
        f"{lab.urls['platform']}/ajo/im/executions/unitary",
        json=payload(lab),
        headers=headers,
    )
    assert (resp.status_code, resp.json()["error_code"]) == (401, "401013")
    adobe = ims_token(lab)
    resp = arm(lab, lab.env["DIAGNOSE_KEYVAULT_ID"], adobe)
    assert (resp.status_code, resp.json()["error"]["code"]) == (401, "InvalidAuthenticationToken")


def test_a_stopped_lab_starts_again(lab):
    instance = lab()
    instance.stop()
    instance.start()
    assert (
        get(instance, f"{instance.urls['arm']}/metadata/endpoints?api-version=1").status_code == 200
    )


def test_certificate_checking_is_real(lab):
    import requests

    lab = lab()
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"{lab.urls['arm']}/metadata/endpoints", timeout=5)  # public roots only
    assert get(lab, f"{lab.urls['arm']}/metadata/endpoints?api-version=1").status_code == 200


def test_scenarios_catalogue():
    assert {
        "healthy",
        "sp-disabled",
        "sp-deleted",
        "kv-role-missing",
        "kv-access-policy-missing",
        "key-disabled",
        "key-expired",
        "key-not-found",
        "purge-protection-off",
        "kv-firewall",
        "cosmos-identity-undefined",
        "cosmos-dataplane-role-missing",
        "campaign-outside-window",
        "endpoint-mismatch",
        "trigger-timeout",
        "adobe-app-disabled",
        "diagnoser-secret-expired",
        "adobe-healthy",
    } <= set(SCENARIOS)
    assert all(desc and "\n" not in desc for desc in SCENARIOS.values())
    with pytest.raises(UnknownScenario):
        Lab("no-such-scenario")


@pytest.mark.parametrize(
    "scenario",
    [
        "purge-protection-off",
        "campaign-outside-window",
        "endpoint-mismatch",
        "healthy",
        "adobe-healthy",
    ],
)
def test_scenarios_that_leave_the_account_healthy(lab, scenario):
    lab = lab(scenario)
    cred = credential(lab)
    if lab.env["DIAGNOSE_TOPOLOGY"] == "own":
        assert _cmk_status(lab, token(cred, "https://management.azure.com")) == HEALTHY


def test_request_log_holds_no_secret_or_token(lab):
    lab = lab()
    cred = credential(lab)
    bearer = token(cred, "https://management.azure.com")
    arm(lab, lab.env["DIAGNOSE_KEYVAULT_ID"], bearer, params={"sig": "shh"})
    execute(lab)
    dump = repr(lab.requests) + lab.ajo_log()
    for secret in (
        lab.env["AZURE_CLIENT_SECRET"],
        lab.env["DIAGNOSE_ADOBE_CLIENT_SECRET"],
        bearer,
        "shh",
    ):
        assert secret not in dump


def test_the_ipv6_layout_one_port_per_service(lab, ca_env):
    """Where 127.0.0.x is absent (macOS) the lab serves on ::1; the SDKs and audiences still work."""
    from diagnose.lab import Lab

    instance = Lab("sp-disabled", propagation_s=0.05, loopback="ipv6").start()
    try:
        ca_env(instance)
        assert all(url.startswith("https://[::1]:") for url in instance.urls.values())
        cred = credential(instance)
        assert key_client(instance, cred).get_key("cmk").name == "cmk"
        with pytest.raises(CosmosHttpResponseError) as info:
            cosmos_client(instance, cred)  # scope https://::1/.default, as Cosmos sends it
        assert info.value.sub_status == 4000
        arm_token = token(cred, instance.urls["arm"])
        assert (
            get(instance, f"{instance.urls['graph']}/v1.0/servicePrincipals", arm_token).status_code
            == 401
        )
    finally:
        instance.stop()
