"""The lab's own AJO system log, fed to the real `diagnose explain`: the incident in sp-disabled, nothing when healthy."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from diagnose import profile as profiles
from diagnose.adobe.client import AdobeClient
from tests.harness import run_cli


def trigger_once(lab) -> int:  # noqa: ANN001 - the conftest's Lab
    """One real execution call against the lab's AJO; its HTTP status."""
    profile = profiles.load(dict(lab.env), cwd=Path("/nonexistent"))
    payload = {
        "requestId": str(uuid.uuid4()),
        "campaignId": profile.campaign_id,
        "recipients": [{"type": "aep", "namespace": "email", "userId": "someone@example.com"}],
    }
    outcome = AdobeClient(profile).execute(profile.execution_kind or "unitary", payload, 10.0)
    assert outcome.status is not None, "the lab did not answer the execution call"
    return outcome.status


def explain(log: Path) -> tuple[int, dict]:
    result = run_cli("explain", "--output", "json", str(log), timeout=60)
    assert "Traceback" not in result.stderr
    return result.exit_code, result.json()


@pytest.mark.parametrize(
    "scenario, http_status, exit_status, runbooks",
    [
        ("sp-disabled", 500, 1, {"cosmosdb-auth-errors"}),
        ("healthy", 202, 0, set()),
    ],
)
def test_the_labs_ajo_log_explained(
    lab, tmp_path: Path, scenario: str, http_status: int, exit_status: int, runbooks: set[str]
) -> None:
    running = lab(scenario)
    assert trigger_once(running) == http_status
    log = tmp_path / "ajo-system.log"
    log.write_text(running.ajo_log(), encoding="utf-8")
    assert log.stat().st_size > 0, "the lab wrote nothing to its AJO log"
    status, doc = explain(log)
    assert status == exit_status
    assert {d["runbook"]["id"] for d in doc["diagnosis"]} == runbooks
    if scenario == "sp-disabled":
        codes = [d["code"] for d in doc["diagnosis"]]
        assert codes[0] == "cosmos.revoked.4000"  # the 403 behind the 500, root cause first
        assert "campaign.server-error" in codes  # the 500 is explained, not left unexplained
        assert "campaign.server-error-unexplained" not in codes
