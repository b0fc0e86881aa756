"""The profile's payload file (a pasted cURL or a JSON payload) in campaign.endpoint and the trigger."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.harness import run_cli


def run(env: dict[str, str], *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli("run", "--output", "json", *args, env=env)
    return result.exit_code, result.json()


def curl(
    tmp_path: Path, lab_env: dict[str, str], kind: str, recipients: list[dict[str, Any]]
) -> Path:
    body = {
        "requestId": "r-1",
        "campaignId": lab_env["DIAGNOSE_CAMPAIGN_ID"],
        "recipients": recipients,
    }
    text = (
        f"curl -X POST '{lab_env['DIAGNOSE_PLATFORM_URL']}/ajo/im/executions/{kind}' \\\n"
        "  -H 'Authorization: Bearer $TOKEN' -H 'x-api-key: $API_KEY' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{json.dumps(body)}'\n"
    )
    path = tmp_path / "request.sh"
    path.write_text(text)
    return path


def person(user: str, kind: str = "aep") -> dict[str, Any]:
    return {
        "type": kind,
        "namespace": "email",
        "userId": user,
        "channelData": {"emailAddress": user},
        "context": {"offerCode": "THANKS"},
        "profile": {"person": {"name": {"firstName": "Ada"}}},
    }


def test_payload_rules_in_campaign_endpoint(lab, tmp_path: Path) -> None:
    running = lab("healthy")
    env = {k: v for k, v in running.env.items() if k != "DIAGNOSE_EXECUTION_KIND"}
    env["DIAGNOSE_PAYLOAD"] = str(
        curl(tmp_path, env, "unitary", [person("a@example.com"), person("a@example.com")])
    )
    code, report = run(env, "--only", "campaign.endpoint")
    (check,) = report["checks"]
    assert check["status"] == "fail"
    assert [f["code"] for f in check["findings"]] == ["payload.recipients-duplicate"]
    assert code == 1


def test_kind_from_the_pasted_curl_against_a_high_throughput_campaign(lab, tmp_path: Path) -> None:
    running = lab("endpoint-mismatch")  # the campaign is high-throughput
    env = {k: v for k, v in running.env.items() if k != "DIAGNOSE_EXECUTION_KIND"}
    env["DIAGNOSE_PAYLOAD"] = str(curl(tmp_path, env, "unitary", [person("a@example.com")]))
    code, report = run(env, "--only", "campaign.endpoint")
    codes = {f["code"] for f in report["checks"][0]["findings"]}
    assert "campaign.endpoint-mismatch" in codes and code == 1


def test_the_trigger_sends_the_configured_payload_with_a_fresh_request_id(
    lab, tmp_path: Path
) -> None:
    running = lab("healthy")
    env = dict(
        running.env,
        DIAGNOSE_PAYLOAD=str(curl(tmp_path, running.env, "unitary", [person("b@example.com")])),
    )
    code, report = run(env, "--trigger", "--only", "campaign.trigger")
    trigger = next(c for c in report["checks"] if c["id"] == "campaign.trigger")
    assert trigger["status"] == "pass" and trigger["evidence"]["requestId"].startswith("diagnose-")
    assert trigger["evidence"]["requestId"] != "r-1"
    assert len(running.writes()) == 1
    assert code == 0
