"""`diagnose run --lab S --output json`: the right root cause and exit status for every scenario."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from diagnose.lab import SCENARIOS

# scenario -> (exit status, (runbook, step) of the root cause or None, extra arguments)
EXPECTED: dict[str, tuple[int, tuple[str, int] | None, tuple[str, ...]]] = {
    "healthy": (0, None, ()),
    "adobe-healthy": (0, None, ()),
    "sp-disabled": (1, ("cosmosdb-auth-errors", 1), ()),
    "sp-deleted": (1, ("cosmosdb-auth-errors", 1), ()),
    "kv-role-missing": (1, ("cosmosdb-auth-errors", 2), ()),
    "kv-access-policy-missing": (1, ("cosmosdb-auth-errors", 2), ()),
    "cosmos-dataplane-role-missing": (1, ("cosmosdb-auth-errors", 2), ()),
    "key-disabled": (1, ("cosmosdb-auth-errors", 3), ()),
    "key-expired": (1, ("cosmosdb-auth-errors", 3), ()),
    "key-not-found": (1, ("cosmosdb-auth-errors", 3), ()),
    "purge-protection-off": (1, ("cosmosdb-auth-errors", 3), ()),
    "kv-firewall": (1, ("cosmosdb-auth-errors", 3), ()),
    "cosmos-identity-undefined": (1, ("cosmosdb-auth-errors", 3), ()),
    "adobe-app-disabled": (1, ("cosmosdb-auth-errors", 1), ()),
    "campaign-outside-window": (1, ("campaign-dates", 1), ()),
    "endpoint-mismatch": (1, ("trigger-endpoint", 1), ()),
    "trigger-timeout": (1, ("call-timeout", 1), ("--trigger", "--trigger-deadline", "5")),
    "diagnoser-secret-expired": (3, None, ()),
}


def run_json(scenario: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DIAGNOSE_", "AZURE_"))}
    env["DIAGNOSE_LAB_PROPAGATION_S"] = "0.05"
    proc = subprocess.run(
        [sys.executable, "-m", "diagnose", "run", "--lab", scenario, "--output", "json", *extra],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        pytest.fail(
            f"{scenario}: stdout is not JSON: {proc.stdout[:500]!r} stderr: {proc.stderr[-2000:]}"
        )
    return proc.returncode, report, proc.stderr


@pytest.fixture(scope="module")
def reports() -> dict[str, tuple[int, dict[str, Any], str]]:
    """Every scenario once, a few at a time (each starts its own lab in its own process)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(lambda s: (s, run_json(s, *EXPECTED[s][2])), EXPECTED)
        return dict(results)


def test_every_lab_scenario_is_covered() -> None:
    assert set(SCENARIOS) == set(EXPECTED)


@pytest.mark.parametrize("scenario", sorted(EXPECTED))
def test_root_cause_and_exit_status(scenario: str, reports) -> None:
    code, report, stderr = reports[scenario]
    expected_exit, expected_root, _ = EXPECTED[scenario]
    assert report["schema"] == "diagnose/report@1"
    assert code == expected_exit, (scenario, stderr[-1000:], report["diagnosis"])
    if expected_root is None:
        assert report["diagnosis"] == []
    else:
        root = report["diagnosis"][0]["runbook"]
        assert (root["id"], root["step"]) == expected_root, report["diagnosis"]
        for check in report["checks"]:
            for f in check["findings"]:
                assert f["severity"] == "fail", f  # every injected cause is a fail


def test_healthy_worlds_pass_or_skip_every_check(reports) -> None:
    for scenario in ("healthy", "adobe-healthy"):
        statuses = {c["id"]: c["status"] for c in reports[scenario][1]["checks"]}
        assert set(statuses.values()) <= {"pass", "skip"}, (scenario, statuses)
        assert len(statuses) == 13
    own = {c["id"]: c["status"] for c in reports["healthy"][1]["checks"]}
    adobe = {c["id"]: c["status"] for c in reports["adobe-healthy"][1]["checks"]}
    assert own["cosmos.dataplane"] == "pass" and own["adobe.byok"] == "skip"
    assert adobe["adobe.byok"] == "pass" and adobe["cosmos.dataplane"] == "skip"


def test_disabled_principal_comes_before_the_revoked_status_it_causes(reports) -> None:
    codes = [e["code"] for e in reports["sp-disabled"][1]["diagnosis"]]
    assert codes[:2] == ["principal.disabled", "cosmos.revoked.4000"]
    checks = {c["id"]: c for c in reports["sp-disabled"][1]["checks"]}
    assert checks["roles.keyvault"]["status"] == "pass"  # runs for a disabled principal
    assert checks["cosmos.dataplane"]["findings"][0]["code"] == "cosmos.revoked.4000"


def test_deleted_principal_says_it_can_be_restored(reports) -> None:
    checks = {c["id"]: c for c in reports["sp-deleted"][1]["checks"]}
    (f,) = checks["principal.enabled"]["findings"]
    assert f["code"] == "principal.deleted" and f["evidence"]["restorable"] is True
    assert "restored" in f["message"]
    assert checks["roles.keyvault"]["status"] == "skip"
    assert "object id" in checks["roles.keyvault"]["summary"]


def test_own_credential_refused_is_exit_3_and_blames_nothing(reports) -> None:
    code, report, _ = reports["diagnoser-secret-expired"]
    errors = [c for c in report["checks"] if c["status"] == "error"]
    assert errors and all("AADSTS7000222" in c["summary"] for c in errors)
    assert all("the tool's own Azure credential" in c["summary"] for c in errors)
    assert not any(c["findings"] for c in report["checks"])


def test_trigger_in_sp_disabled_explains_the_500() -> None:
    code, report, _ = run_json("sp-disabled", "--trigger")
    assert code == 1
    trigger = next(c for c in report["checks"] if c["id"] == "campaign.trigger")
    (f,) = trigger["findings"]
    assert f["code"] == "campaign.server-error" and f["evidence"]["http_status"] == 500
    assert "cosmos.revoked.4000" in f["evidence"]["caused_by"]
    assert f["evidence"]["caused_by"][0] == "principal.disabled"
    assert "the Cosmos DB account behind it is revoked (cosmos.revoked.4000)" in f["message"]
    assert "root cause: principal.disabled" in f["message"]
    assert [e["code"] for e in report["diagnosis"]][-1] == "campaign.server-error"


def test_unknown_scenario_and_bad_ids_exit_2() -> None:
    for args in (["--lab", "no-such-thing"], ["--lab", "healthy", "--only", "no.such.check"]):
        proc = subprocess.run(
            [sys.executable, "-m", "diagnose", "run", *args],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr
