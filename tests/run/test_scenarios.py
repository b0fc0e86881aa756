"""`diagnose run --lab S --output json`: the right root cause and exit status for every scenario."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from diagnose import catalogue
from diagnose.lab.scenarios import SCENARIO_OBJECTS, Scenario
from tests.harness import CliResult, run_cli

LAB_ENV = {"DIAGNOSE_LAB_PROPAGATION_S": "0.05"}


def run_lab(scenario: str, *extra: str) -> CliResult:
    return run_cli("run", "--lab", scenario, "--output", "json", *extra, env=LAB_ENV)


def run_json(scenario: str, *extra: str) -> tuple[int, dict[str, Any], str]:
    result = run_lab(scenario, *extra)
    return result.exit_code, result.json(), result.stderr


@pytest.fixture(scope="module")
def reports() -> dict[str, tuple[int, dict[str, Any], str]]:
    """Every scenario once, with the arguments it carries, a few at a time (a lab per process)."""
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(
            lambda s: (s.name, run_json(s.name, *s.run_args)), SCENARIO_OBJECTS.values()
        )
        return dict(results)


def test_every_scenario_carries_a_verdict_the_catalogue_knows() -> None:
    for scenario in SCENARIO_OBJECTS.values():
        if scenario.root_cause is None:
            assert scenario.exit_status in (0, 3), scenario.name
        else:  # a failure exits 1; a risk that breaks nothing now (a warning) exits 0
            severity = catalogue.default().cause(scenario.root_cause).severity
            assert scenario.exit_status == (1 if severity == "fail" else 0), scenario.name


@pytest.mark.parametrize("scenario", sorted(SCENARIO_OBJECTS))
def test_root_cause_and_exit_status(scenario: str, reports) -> None:
    """The scenario's own verdict (diagnose/lab/scenarios.py): root cause, its runbook step, exit."""
    expected: Scenario = SCENARIO_OBJECTS[scenario]
    code, report, stderr = reports[scenario]
    assert report["schema"] == "diagnose/report@1"
    assert code == expected.exit_status, (scenario, stderr[-1000:], report["diagnosis"])
    if expected.root_cause is None:
        assert report["diagnosis"] == []
    else:
        root = report["diagnosis"][0]
        assert root["code"] == expected.root_cause, report["diagnosis"]
        ref = catalogue.default().cause(expected.root_cause).ref
        assert (root["runbook"]["id"], root["runbook"]["step"]) == (ref.runbook, ref.step)
        for check in report["checks"]:
            for f in check["findings"]:  # every injected cause has the catalogue's severity
                assert f["severity"] == catalogue.default().cause(f["code"]).severity, f


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
        result = run_cli("run", *args, timeout=60)
        assert result.exit_code == 2, result.stderr
        assert "Traceback" not in result.stderr
