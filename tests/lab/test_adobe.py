"""Adobe IMS, AJO executions and campaigns, and Experience Platform's BYOK status."""

from __future__ import annotations

import json
import threading

import pytest
import requests

from tests.harness import run_cli
from tests.lab.sdk import adobe_headers, execute, get, ims_token, payload, send


def test_ims_token_and_its_refusals(lab):
    lab = lab()
    env = lab.env
    assert ims_token(lab)
    url = f"{env['DIAGNOSE_IMS_URL']}/ims/token/v3"
    form = {
        "grant_type": "client_credentials",
        "client_id": env["DIAGNOSE_ADOBE_CLIENT_ID"],
        "client_secret": "wrong",
        "scope": env["DIAGNOSE_ADOBE_SCOPES"],
    }
    resp = send(lab, "POST", url, data=form)
    assert (resp.status_code, resp.json()["error"]) == (401, "invalid_client")
    form.update(client_secret=env["DIAGNOSE_ADOBE_CLIENT_SECRET"], scope="openid,not_a_scope")
    resp = send(lab, "POST", url, data=form)
    assert (resp.status_code, resp.json()["error"]) == (400, "invalid_scope")


def test_campaign_definition(lab):
    lab = lab()
    resp = get(
        lab,
        f"{lab.env['DIAGNOSE_PLATFORM_URL']}/journey/campaigns/service/campaigns/{lab.env['DIAGNOSE_CAMPAIGN_ID']}",
        headers=adobe_headers(lab, ims_token(lab)),
    )
    campaign = resp.json()
    assert campaign["status"] == "live"
    assert campaign["schedule"]["startDateEnabled"] is True
    assert (campaign["apiTriggerType"], campaign["highThroughput"]) == ("transactional", False)


def test_healthy_execution_is_202_with_an_execution_id(lab):
    lab = lab()
    resp = execute(lab)
    assert resp.status_code == 202
    assert resp.json()["executionId"].startswith("UMA-")
    (write,) = lab.writes()
    assert (write.service, write.method, write.status) == ("platform", "POST", 202)
    assert write.caller_app_id == lab.env["DIAGNOSE_ADOBE_CLIENT_ID"]


@pytest.mark.parametrize(
    ("scenario", "substatus", "needle"),
    [
        # the Cosmos DB 403 as the data plane answers it: the published sentence, the code aside
        (
            "sp-disabled",
            4000,
            "(x-ms-substatus: 4000): Request is blocked due to Customer Managed Key",
        ),
        ("key-disabled", 4002, "(x-ms-substatus: 4002)"),
        ("cosmos-dataplane-role-missing", 5301, "does not have required RBAC permissions"),
    ],
)
def test_storage_refusal_is_a_500_and_a_log_line(lab, scenario, substatus, needle):
    lab = lab(scenario)
    resp = execute(lab, request_id="req-500")
    assert resp.status_code == 500
    assert resp.json()["type"].endswith("MSG-000500-500")
    (line,) = [json.loads(x) for x in lab.ajo_log().splitlines()]
    assert line["requestId"] == "req-500"
    assert line["cosmos"]["status"] == 403 and line["cosmos"]["substatus"] == substatus
    assert needle in line["message"]
    assert "403" in line["message"] and str(substatus) in line["message"]


def test_invalid_payloads_are_400_msg_errors(lab):
    lab = lab()
    bad = [
        b"not json",
        {"campaignId": lab.env["DIAGNOSE_CAMPAIGN_ID"]},
        payload(lab, recipients=[]),
        payload(lab, recipients=[{"type": "aep", "namespace": "email", "userId": "a"}] * 2),
    ]
    for body in bad:
        headers = adobe_headers(lab, ims_token(lab))
        kwargs = (
            {"data": body, "headers": {**headers, "Content-Type": "application/json"}}
            if isinstance(body, bytes)
            else {"json": body, "headers": headers}
        )
        resp = send(
            lab, "POST", f"{lab.env['DIAGNOSE_PLATFORM_URL']}/ajo/im/executions/unitary", **kwargs
        )
        assert resp.status_code == 400, body
        assert resp.json()["type"] == "https://ns.adobe.com/aep/errors/MSG-000052-400"
        assert resp.json()["status"] == 400


def test_outside_window_and_wrong_endpoint(lab):
    outside = lab("campaign-outside-window")
    resp = execute(outside)
    assert (resp.status_code, resp.json()["title"]) == (400, "Campaign is not active")
    mismatch = lab("endpoint-mismatch")
    assert mismatch.env["DIAGNOSE_EXECUTION_KIND"] == "unitary"
    resp = execute(mismatch)
    assert resp.status_code == 400 and "highthroughput" in resp.json()["detail"]
    assert (
        execute(
            mismatch,
            body=payload(
                mismatch,
                recipients=[{"type": "external", "namespace": "email", "userId": "x@example.com"}],
            ),
            kind="highthroughput",
        ).status_code
        == 202
    )


def test_gateway_errors(lab):
    lab = lab()
    url = f"{lab.env['DIAGNOSE_PLATFORM_URL']}/ajo/im/executions/unitary"
    bearer = ims_token(lab)
    headers = adobe_headers(lab, bearer)
    cases = [
        ({k: v for k, v in headers.items() if k != "Authorization"}, 401, "403010"),
        ({**headers, "Authorization": "Bearer garbage"}, 401, "401013"),
        ({k: v for k, v in headers.items() if k != "x-api-key"}, 403, "403000"),
        ({**headers, "x-api-key": "someone-else"}, 403, "403003"),
        ({k: v for k, v in headers.items() if k != "x-gw-ims-org-id"}, 400, "400003"),
    ]
    for h, status, code in cases:
        resp = send(lab, "POST", url, json=payload(lab), headers=h)
        assert (resp.status_code, resp.json()["error_code"]) == (status, code)
    assert lab.writes()  # each attempt is recorded as a write attempt
    assert lab.ajo_log() == ""


@pytest.mark.timeout(30)
def test_trigger_timeout_passes_the_callers_deadline_and_is_recorded_once(lab):
    lab = lab("trigger-timeout")
    with pytest.raises(requests.exceptions.Timeout):
        execute(lab, timeout=1.0)
    executions = [r for r in lab.requests if r.path == "/ajo/im/executions/unitary"]
    assert len(executions) == 1
    assert executions[0].status is None  # never answered


@pytest.mark.timeout(30)
def test_stop_is_prompt_with_a_slow_answer_in_flight(lab):
    instance = lab("trigger-timeout")
    outcome: list[object] = []

    def call() -> None:
        try:
            outcome.append(execute(instance, timeout=60).status_code)
        except requests.RequestException as exc:
            outcome.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    while not any(r.path.endswith("/unitary") for r in instance.requests):
        thread.join(0.02)
    instance.stop()  # the test's timeout fails it if this waits for the 90 s answer
    thread.join(10)
    assert not thread.is_alive()
    assert isinstance(outcome[0], requests.RequestException)


def test_byok_status_and_app_registration(lab):
    healthy = lab("adobe-healthy")
    assert (
        "DIAGNOSE_PRINCIPAL_APP_ID" not in healthy.env
        and healthy.env["DIAGNOSE_TOPOLOGY"] == "adobe"
    )
    base = healthy.env["DIAGNOSE_PLATFORM_URL"] + "/data/infrastructure/manager"
    headers = {
        **adobe_headers(healthy, ims_token(healthy), sandbox=False),
        "x-api-key": "acp_provisioning",
    }
    app = get(healthy, f"{base}/byok/app-registration", headers=headers).json()
    assert app["name"].endswith("aepcmkmultitenantapp")
    config = get(
        healthy,
        f"{base}/customer/config/{healthy.env['DIAGNOSE_BYOK_CONFIG']}?configType=BYOK_CONFIG",
        headers=headers,
    ).json()
    assert config["status"] == "COMPLETED"
    assert config["configData"]["keyVaultKeyIdentifier"].startswith(
        healthy.env["DIAGNOSE_KEY_ID"] + "/"
    )
    assert execute(healthy).status_code == 202

    broken = lab("adobe-app-disabled")
    headers = {
        **adobe_headers(broken, ims_token(broken), sandbox=False),
        "x-api-key": "acp_provisioning",
    }
    base = broken.env["DIAGNOSE_PLATFORM_URL"] + "/data/infrastructure/manager"
    config = get(
        broken,
        f"{base}/customer/config/{broken.env['DIAGNOSE_BYOK_CONFIG']}?configType=BYOK_CONFIG",
        headers=headers,
    ).json()
    assert config["status"] == "FAILED"
    app_id = get(broken, f"{base}/byok/app-registration", headers=headers).json()["applicationId"]
    assert broken.world.principal_by_app(app_id).enabled is False
    assert execute(broken).status_code == 500
    assert '"substatus": 4000' in broken.ajo_log()


@pytest.mark.parametrize(
    ("scenario", "code"),
    [
        ("sp-disabled", "cosmos.revoked.4000"),
        ("kv-role-missing", "cosmos.revoked.4002"),
        ("cosmos-dataplane-role-missing", "cosmos.dataplane-role-missing"),
    ],
)
def test_ajo_log_is_what_diagnose_explain_reads(lab, tmp_path, scenario, code):
    lab = lab(scenario)
    assert execute(lab).status_code == 500
    log = tmp_path / "ajo.log"
    log.write_text(lab.ajo_log())
    result = run_cli("explain", str(log), "--output", "json", timeout=60)
    assert result.exit_code == 1, result.stderr
    report = result.json()
    assert report["diagnosis"][0]["code"] == code


def test_audience_campaign_runs_on_the_audience_endpoint(lab):
    lab = lab()
    lab.world.campaign.api_trigger_type = "marketing"  # a test may edit the world directly
    body = {"campaignId": lab.env["DIAGNOSE_CAMPAIGN_ID"], "audience": {"id": "aud-1"}}
    accepted = execute(lab, body=body, kind="audience")
    assert accepted.status_code == 202
    status = get(
        lab,
        f"{lab.urls['platform']}/ajo/im/executions/audience/{accepted.json()['executionId']}",
        headers=adobe_headers(lab, ims_token(lab)),
    ).json()
    assert status["status"] == "Succeeded"
    assert execute(lab).status_code == 400  # not on /unitary


def test_audience_status_is_404_for_an_execution_the_lab_never_accepted(lab):
    lab = lab()
    response = get(
        lab,
        f"{lab.urls['platform']}/ajo/im/executions/audience/UMA-00000000",
        headers=adobe_headers(lab, ims_token(lab)),
    )
    assert response.status_code == 404
    assert response.json()["status"] == 404
