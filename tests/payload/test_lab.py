"""`diagnose payload check|send` against the lab: real HTTPS, real IMS tokens, the lab's request log."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from diagnose.cli import cli as cli_main
from diagnose.lab import Lab
from diagnose.payload.ledger import default_path
from tests.harness import Cli
from tests.payload.conftest import API_KEY, TOKEN, assert_no_secret, codes, report


def payload_for(lab: Lab, **changes: Any) -> dict[str, Any]:
    payload = {
        "requestId": "from-the-curl",
        "campaignId": lab.env["DIAGNOSE_CAMPAIGN_ID"],
        "recipients": [
            {
                "type": "aep",
                "namespace": "email",
                "userId": "someone@example.com",
                "channelData": {"emailAddress": "someone@example.com"},
                "profile": {"person": {"name": {"firstName": "Ada"}}},
                "context": {"offerCode": "THANKSGIVING"},
            }
        ],
    }
    payload.update(changes)
    return payload


def write_curl(
    path: Path,
    lab: Lab,
    kind: str = "unitary",
    host: str | None = None,
    x_request_id: str = "fixed-x-request-id",
    **changes: Any,
) -> Path:
    """The cURL as the campaign page gives it, filled in with (planted) real-looking secrets."""
    base = host or lab.urls["platform"]
    body = json.dumps(payload_for(lab, **changes))
    path.write_text(
        f"curl -X POST '{base}/ajo/im/executions/{kind}' \\\n"
        f"  -H 'Authorization: Bearer {TOKEN}' \\\n"
        f"  -H 'x-api-key: {API_KEY}' \\\n"
        f"  -H 'x-gw-ims-org-id: {lab.env['DIAGNOSE_IMS_ORG']}' \\\n"
        f"  -H 'x-sandbox-name: {lab.env['DIAGNOSE_SANDBOX']}' \\\n"
        f"  -H 'x-request-id: {x_request_id}' \\\n"
        "  -H 'Content-Type: application/json' \\\n"
        f"  -d '{body}'\n"
    )
    return path


def executions(lab: Lab) -> list[Any]:
    return [r for r in lab.writes() if r.path.startswith("/ajo/im/executions/")]


def no_lab_secret(lab: Lab, *texts: str) -> None:
    assert_no_secret(*texts)
    for text in texts:
        assert lab.env["DIAGNOSE_ADOBE_CLIENT_SECRET"] not in text
        assert lab.env["AZURE_CLIENT_SECRET"] not in text


def test_send_in_healthy_gets_an_execution_id_with_fresh_ids(
    lab_environ: Any, cli: Cli, tmp_path: Path
) -> None:
    lab = lab_environ("healthy")
    curl = write_curl(tmp_path / "c.sh", lab)
    result = cli("payload", "send", str(curl), "--yes", "--output", "json")
    assert result.exit_code == 0, result.output
    doc = report(result)
    execution = doc["execution"]
    assert execution["http_status"] == 202
    assert re.fullmatch(r"UMA-\d{8}", execution["executionId"])
    assert execution["requestId"].startswith("diagnose-")
    assert execution["x-request-id"] != "fixed-x-request-id"  # never the cURL's
    assert execution["response"]["requestId"] == execution["x-request-id"]  # what the lab saw
    assert codes(doc) == []
    assert len(executions(lab)) == 1
    assert executions(lab)[0].status == 202
    ledger = default_path().read_text()
    assert execution["requestId"] in ledger and execution["x-request-id"] in ledger
    assert TOKEN not in ledger and API_KEY not in ledger
    no_lab_secret(lab, result.stdout, result.stderr)

    # the id is remembered: a cURL that reuses it is reported, and nothing is sent by check
    reused = write_curl(tmp_path / "again.sh", lab, requestId=execution["requestId"])
    again = cli("payload", "check", str(reused), "--output", "json")
    assert again.exit_code == 1
    assert codes(report(again)) == ["payload.request-id-reused"]
    same_header = write_curl(tmp_path / "x.sh", lab, x_request_id=execution["x-request-id"])
    assert codes(report(cli("payload", "check", str(same_header), "--output", "json"))) == [
        "payload.request-id-reused"
    ]
    assert len(executions(lab)) == 1


@pytest.mark.parametrize(
    ("scenario", "code", "runbook"),
    [
        ("campaign-outside-window", "campaign.outside-window", {"id": "campaign-dates", "step": 1}),
        ("endpoint-mismatch", "campaign.endpoint-mismatch", {"id": "trigger-endpoint", "step": 1}),
    ],
)
def test_send_stops_before_the_call_when_the_campaign_says_it_would_fail(
    scenario: str,
    code: str,
    runbook: dict[str, Any],
    lab_environ: Any,
    cli: Cli,
    tmp_path: Path,
) -> None:
    lab = lab_environ(scenario)
    curl = write_curl(tmp_path / "c.sh", lab)
    result = cli("payload", "send", str(curl), "--yes", "--output", "json")
    assert result.exit_code == 1, result.output
    doc = report(result)
    assert doc["diagnosis"][0]["code"] == code
    assert doc["diagnosis"][0]["runbook"] == runbook
    assert doc["execution"] is None
    assert executions(lab) == []  # no write: the call could only fail
    no_lab_secret(lab, result.stdout, result.stderr)


def test_send_in_sp_disabled_decodes_the_500_to_cosmosdb_auth_errors(
    lab_environ: Any, cli: Cli, tmp_path: Path
) -> None:
    lab = lab_environ("sp-disabled")
    curl = write_curl(tmp_path / "c.sh", lab)
    result = cli("payload", "send", str(curl), "--yes", "--output", "json")
    assert result.exit_code == 1, result.output
    doc = report(result)
    assert doc["execution"]["http_status"] == 500
    assert doc["diagnosis"][0]["code"] == "campaign.server-error"
    assert doc["diagnosis"][0]["runbook"] == {"id": "cosmosdb-auth-errors", "step": 4}
    assert "diagnose run" in doc["diagnosis"][0]["message"]
    assert len(executions(lab)) == 1
    # the lab's AJO log holds the 403 from Cosmos DB under the request id diagnose sent
    assert doc["execution"]["x-request-id"] in lab.ajo_log()
    text = cli("payload", "send", str(curl), "--yes")
    assert "cosmosdb-auth-errors" in text.stdout and "diagnose run" in text.stdout
    no_lab_secret(lab, result.stdout, text.stdout, text.stderr)


def test_send_in_trigger_timeout_stops_at_its_deadline_and_never_resends(
    lab_environ: Any, cli: Cli, tmp_path: Path
) -> None:
    lab = lab_environ("trigger-timeout")
    curl = write_curl(tmp_path / "c.sh", lab)
    result = cli("payload", "send", str(curl), "--yes", "--deadline", "2")
    assert result.exit_code == 1, result.output
    assert "call.timeout" in result.stdout
    assert "may still deliver" in result.stdout
    assert "did not resend" in result.stdout
    assert "no answer within 2 s" in result.stdout
    assert len(executions(lab)) == 1  # one call, and only one
    sent = re.search(r"requestId (diagnose-[0-9a-f]{32})", result.stdout)
    assert sent and sent.group(1) in default_path().read_text()  # recorded although unanswered


def test_send_json_reports_the_timeout(lab_environ: Any, cli: Cli, tmp_path: Path) -> None:
    lab = lab_environ("trigger-timeout")
    curl = write_curl(tmp_path / "c.sh", lab)
    doc = report(cli("payload", "send", str(curl), "--yes", "--deadline", "1", "--output", "json"))
    assert doc["execution"]["timed_out"] is True
    assert doc["execution"]["http_status"] is None
    assert doc["diagnosis"][0]["runbook"] == {"id": "call-timeout", "step": 1}
    assert len(executions(lab)) == 1


def test_send_needs_consent(lab_environ: Any, cli: Cli, tmp_path: Path) -> None:
    lab = lab_environ("healthy")
    curl = write_curl(tmp_path / "c.sh", lab)
    result = cli("payload", "send", str(curl))  # no --yes, and no terminal to ask on
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert executions(lab) == []


def test_send_refuses_more_recipients_than_the_test_limit(
    lab_environ: Any, cli: Cli, tmp_path: Path
) -> None:
    lab = lab_environ("healthy")
    two = [
        {
            "type": "aep",
            "namespace": "email",
            "userId": f"p{i}@example.com",
            "context": {"offerCode": "THANKSGIVING"},
        }
        for i in range(2)
    ]
    curl = write_curl(tmp_path / "c.sh", lab, recipients=two)
    refused = cli("payload", "send", str(curl), "--yes")
    assert refused.exit_code == 2
    assert "2 recipients, more than the test limit of 1" in refused.stderr
    assert executions(lab) == []
    allowed = cli("payload", "send", str(curl), "--yes", "--max-recipients", "2")
    assert allowed.exit_code == 0, allowed.output
    assert len(executions(lab)) == 1


def test_send_refuses_an_audience_call_unless_allowed(
    lab_environ: Any, cli: Cli, tmp_path: Path
) -> None:
    lab = lab_environ("healthy")
    curl = write_curl(tmp_path / "c.sh", lab, kind="audience", recipients=None)
    result = cli("payload", "send", str(curl), "--yes")
    assert result.exit_code == 2
    assert "--allow-audience" in result.stderr
    assert executions(lab) == []


def test_send_does_not_silently_switch_hosts(lab_environ: Any, cli: Cli, tmp_path: Path) -> None:
    lab = lab_environ("healthy")
    curl = write_curl(tmp_path / "c.sh", lab, host="https://platform-stage.adobe.io")
    refused = cli("payload", "send", str(curl), "--yes")
    assert refused.exit_code == 2
    assert "platform-stage.adobe.io" in refused.stderr and "--profile-host" in refused.stderr
    assert executions(lab) == []
    sent = cli("payload", "send", str(curl), "--yes", "--profile-host", "--output", "json")
    assert sent.exit_code == 0, sent.output
    assert "payload.host-differs" in codes(report(sent))
    assert len(executions(lab)) == 1


def test_check_with_the_profile_compares_the_campaign_and_sends_nothing(
    lab_environ: Any, cli: Cli, tmp_path: Path
) -> None:
    lab = lab_environ("healthy")
    curl = write_curl(
        tmp_path / "c.sh",
        lab,
        recipients=[{"type": "external", "namespace": "email", "userId": "x@example.com"}],
    )
    result = cli("payload", "check", str(curl), "--output", "json")
    assert result.exit_code == 1, result.output
    doc = report(result)
    assert doc["campaign"]["kind"] == "unitary"
    assert doc["campaign"]["status"] == "live"
    missing = {
        f["evidence"]["variable"]
        for f in doc["findings"]
        if f["code"] == "payload.personalization-missing"
    }
    assert missing == {"profile.person.name.firstName", "context.offerCode"}
    assert lab.writes() == []


def test_unknown_campaign_is_a_finding(lab_environ: Any, cli: Cli, tmp_path: Path) -> None:
    lab = lab_environ("healthy")
    curl = write_curl(tmp_path / "c.sh", lab, campaignId="00000000-0000-0000-0000-000000000000")
    result = cli("payload", "check", str(curl), "--output", "json")
    assert result.exit_code == 1
    assert "campaign.not-found" in codes(report(result))


def test_a_refused_tool_credential_is_exit_3_and_nothing_is_sent(
    lab_environ: Any, cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lab = lab_environ("healthy")
    cli.env["DIAGNOSE_ADOBE_CLIENT_SECRET"] = "not-the-secret-0123456789"
    curl = write_curl(tmp_path / "c.sh", lab)
    checked = cli("payload", "check", str(curl), "--output", "json")
    assert checked.exit_code == 3, checked.output
    assert "IMS refused" in report(checked)["limitation"]
    sent = cli("payload", "send", str(curl), "--yes")
    assert sent.exit_code == 3, sent.output
    assert executions(lab) == []
    assert "not-the-secret-0123456789" not in checked.stdout + sent.stdout + sent.stderr


# --- the real command line, with the lab started in process by --lab ---------------------------
def test_cli_with_lab_flag_checks_and_sends(lab: Any, tmp_path: Path, cli: Cli) -> None:
    reference = lab("healthy")  # the lab's ids are the same in every instance of a scenario
    curl = write_curl(tmp_path / "c.sh", reference, host="https://platform.adobe.io")
    checked = cli("payload", "check", str(curl), "--lab", "endpoint-mismatch", "--output", "json")
    assert checked.exit_code == 1, checked.stderr
    assert codes(checked.json()) == ["campaign.endpoint-mismatch"]
    sent = cli("payload", "send", str(curl), "--lab", "healthy", "--yes")
    assert sent.exit_code == 0, sent.stderr
    assert re.search(r"executionId UMA-\d{8}", sent.stdout)
    assert "Traceback" not in sent.stderr
    assert_no_secret(checked.stdout, checked.stderr, sent.stdout, sent.stderr)
    assert reference.writes() == []  # --lab used its own lab, not this one


@pytest.mark.parametrize(
    ("answer", "exit_code", "calls"), [("y\n", 0, 1), ("n\n", 2, 0), ("", 2, 0)]
)
def test_send_asks_a_person_before_the_call(
    answer: str,
    exit_code: int,
    calls: int,
    lab_environ: Any,
    cli: Cli,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import diagnose.cli.payload as payload_cli

    monkeypatch.setattr(payload_cli, "_interactive", lambda: True)
    lab = lab_environ("healthy")
    curl = write_curl(tmp_path / "c.sh", lab)
    # In process (click's runner), the one place: the test makes the CLI believe it has a terminal
    # (`_interactive`) so the prompt reads the scripted answer; a subprocess would need a pty.
    result = CliRunner().invoke(cli_main, ["payload", "send", str(curl)], input=answer)
    assert "Send ONE real unitary execution" in result.stderr
    assert result.exit_code == exit_code, result.output
    assert len(executions(lab)) == calls
    assert_no_secret(result.stdout, result.stderr)


def test_the_payload_command_module_imports_no_http_or_sdk_at_start() -> None:
    """`diagnose payload --help` stays fast: requests, the Azure SDKs and the lab load on use."""
    code = (
        "import sys, diagnose.cli.payload; "
        "heavy = [m for m in sys.modules if m.split('.')[0] in ('requests', 'azure', 'cryptography')"
        " or m.startswith('diagnose.lab') or m.startswith('diagnose.payload')]; "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
