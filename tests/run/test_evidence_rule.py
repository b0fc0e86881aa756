"""The evidence rule through the real CLI: what the report and the exit status say when a fault
leaves the check that would prove a deeper cause undecided, and what a credential failure says.

(The fault matrix, tests/run/test_fault_matrix.py, holds every kind against every service; these
pin the wording and the JSON keys a user and a pipeline read.)
"""

from __future__ import annotations

import json
from pathlib import Path

from diagnose.lab import Lab
from tests.harness import run_cli

LAB_ENV = {"DIAGNOSE_LAB_PROPAGATION_S": "0.05"}


def run_lab(world: str, faults: str, *extra: str) -> tuple[int, dict[str, object], str]:
    result = run_cli(
        "run", "--lab", world, "--timeout", "20", "--output", "json", *extra,
        env={**LAB_ENV, "DIAGNOSE_LAB_FAULTS": faults},
    )  # fmt: skip
    return result.exit_code, result.json(), result.stderr


def test_graph_down_in_sp_disabled_shows_the_symptom_and_says_what_could_not_be_checked() -> None:
    code, report, stderr = run_lab("sp-disabled", "graph:503")
    assert code == 3, stderr
    diagnosis = report["diagnosis"]
    assert isinstance(diagnosis, list) and diagnosis
    first = diagnosis[0]
    assert first["code"] == "cosmos.revoked.4000"  # what Cosmos DB says, in its own words
    undecided = first["undecided_before"]
    # every check before it in the chain that Graph left undecided, the principal first
    assert [u["check"] for u in undecided] == ["principal.enabled", "roles.cosmos"]
    assert "Microsoft Graph answered 503 three times" in undecided[0]["reason"]
    assert "not shown to be the root cause: could not check principal.enabled (" in first["message"]
    assert "principal.disabled" not in {d["code"] for d in diagnosis}
    assert "Traceback" not in stderr


def test_the_text_report_says_it_next_to_the_symptom() -> None:
    result = run_cli(
        "run", "--lab", "sp-disabled", "--timeout", "20",
        env={**LAB_ENV, "DIAGNOSE_LAB_FAULTS": "graph:502"},
    )  # fmt: skip
    assert result.exit_code == 3, result
    assert "could not check principal.enabled (Microsoft Graph answered 502" in result.stdout


def disabled_despite(faults: str) -> list[dict[str, object]]:
    """sp-disabled's diagnosis under `faults`, which must still be exit 1 at principal.disabled."""
    code, report, _ = run_lab("sp-disabled", faults)
    assert code == 1
    diagnosis = report["diagnosis"]
    assert isinstance(diagnosis, list)
    assert diagnosis[0]["code"] == "principal.disabled"
    return diagnosis


def test_a_transient_graph_fault_keeps_the_root_cause() -> None:
    diagnosis = disabled_despite("graph:503:2")
    assert not any("undecided_before" in entry for entry in diagnosis)


def test_a_fault_after_the_root_cause_does_not_unsettle_it() -> None:
    diagnosis = disabled_despite("vault:503")
    assert "keyvault.unwrap-failed" not in {d["code"] for d in diagnosis}


def test_no_credential_says_how_to_sign_in_and_keeps_the_sdks_hints(tmp_path: Path) -> None:
    with Lab("healthy", propagation_s=0.05) as lab:
        env = {
            k: v for k, v in lab.env.items() if k not in ("AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET")
        }
        result = run_cli(
            "run", "--only", "principal.enabled", "--output", "json", "--timeout", "20",
            env={**env, "AZURE_TOKEN_CREDENTIALS": "EnvironmentCredential"},
        )  # fmt: skip
    assert result.exit_code == 3, result
    (check,) = [c for c in result.json()["checks"] if c["id"] == "principal.enabled"]
    reason = check["limitation"]["reason"]
    assert "run `az login`, or set AZURE_CLIENT_ID and AZURE_CLIENT_SECRET" in reason
    assert "EnvironmentCredential: EnvironmentCredential authentication unavailable" in reason
    assert "***" not in reason  # prose is not a secret


def test_payload_check_does_not_read_a_gateway_404_as_a_missing_campaign(tmp_path: Path) -> None:
    with Lab("healthy", faults=["platform:gateway-404@campaigns"], propagation_s=0.05) as lab:
        payload = tmp_path / "payload.json"
        payload.write_text(
            json.dumps(
                {
                    "campaignId": lab.env["DIAGNOSE_CAMPAIGN_ID"],
                    "requestId": "r-1",
                    "recipients": [
                        {
                            "type": "aep",
                            "namespace": "email",
                            "userId": "someone@example.com",
                            "channelData": {"emailAddress": "someone@example.com"},
                        }
                    ],
                }
            ),
            encoding="utf-8",
        )
        result = run_cli("payload", "check", str(payload), "--output", "json", env=lab.env)
    assert result.exit_code == 3, result
    document = result.json()
    assert "campaign.not-found" not in json.dumps(document["findings"])
    assert "404 without an error code" in str(document["limitation"])


def test_a_gateway_page_answering_the_trigger_is_no_campaign_finding() -> None:
    """The execution call answered by a proxy's page (no Adobe error code) is the tool's
    limitation, said as it happened, never campaign.server-error or campaign.call-rejected."""
    for fault in ("gateway-404", "html-error"):
        code, report, stderr = run_lab(
            "healthy",
            f"platform:{fault}@/ajo/im/executions",
            "--trigger",
            "--trigger-deadline",
            "5",
        )
        assert code == 3, (fault, stderr)
        trigger = next(c for c in report["checks"] if c["id"] == "campaign.trigger")
        assert trigger["status"] == "error", (fault, trigger)
        assert "without an error code for the execution call" in trigger["summary"], trigger
        assert "diagnose did not resend" in trigger["summary"]
        codes = {d["code"] for d in report["diagnosis"]}
        assert not codes & {"campaign.server-error", "campaign.call-rejected"}, (fault, codes)
        assert "Traceback" not in stderr


def test_the_services_own_500_is_still_the_documented_incident() -> None:
    code, report, _ = run_lab("sp-disabled", "", "--trigger", "--trigger-deadline", "5")
    assert code == 1
    assert "campaign.server-error" in {d["code"] for d in report["diagnosis"]}
