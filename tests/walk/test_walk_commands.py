"""`runbook walk` shows the fixes as `diagnose run` prints them: commands filled with the values the
walk read, placeholders only for what it did not read (named, with why), and never a "restore" for a
managed identity (issue 13, "Remediation as commands that run"; issue 12, defect 5)."""

from __future__ import annotations

from pathlib import Path

import pytest

from diagnose import remediation
from diagnose.lab import Lab
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import run_cli
from tests.walk.test_walk import walk


def _run_commands(env: dict[str, str]) -> list[str]:
    """The root cause's commands, as `diagnose run --output json` prints them."""
    result = run_cli("run", "--output", "json", env=env)
    root = result.json("diagnose/report@1")["diagnosis"][0]
    return remediation.commands(root["remediation"])


def _shown_commands(stdout: str) -> list[str]:
    return remediation.commands(line.strip() for line in stdout.splitlines())


@pytest.mark.parametrize(
    "scenario",
    ["sp-disabled", "uami-deleted", "kv-role-missing", "key-disabled", "cosmos-identity-undefined"],
)
def test_the_walk_shows_the_commands_the_run_prints(lab, scenario: str) -> None:
    running = lab(scenario, propagation_s=0)
    expected = _run_commands(running.env)
    assert expected and not any("<" in c for c in expected), expected
    proc, _ = walk(running.env, "--no-input")
    assert proc.exit_code == SCENARIO_OBJECTS[scenario].exit_status, proc.stdout[-2000:]
    shown = _shown_commands(proc.stdout)
    assert [c for c in expected if c not in shown] == [], shown
    assert not any("<" in c for c in shown), shown  # nothing generic: every value was read


def test_a_value_not_read_is_a_placeholder_that_says_why() -> None:
    """Graph refuses every principal read: the identity's defaultIdentity form is not known when
    the walk reaches step 3, and the command says so (named, with the reason), never a guess."""
    faults = ["graph:503@servicePrincipals"]
    with Lab("cosmos-identity-undefined", propagation_s=0, faults=faults) as running:
        proc, _ = walk(running.env, answers="c\nc\nq\n")  # continue past steps 1 and 2
    (command,) = {c for c in _shown_commands(proc.stdout) if "--default-identity" in c}
    assert command.startswith(f"az cosmosdb update --ids {running.env['DIAGNOSE_COSMOS_ID']} ")
    placeholder = command.split("--default-identity ", 1)[1]
    assert placeholder.startswith("<the identity that holds the key rights")
    assert (
        "not read (principal.enabled could not decide: Microsoft Graph answered 503" in placeholder
    )


def test_a_deleted_managed_identity_is_never_offered_a_restore(lab, tmp_path: Path) -> None:
    running = lab("uami-deleted", propagation_s=0)
    proc, data = walk(
        running.env, "--fix", "--yes", "--no-input", "--transcript", str(tmp_path / "w.json")
    )
    assert proc.exit_code == 1, proc.stdout[-2000:]
    assert data["fixes"] == [] and running.writes() == []
    assert "restore" not in " ".join(_shown_commands(proc.stdout))
    assert "A documented fix applies" not in proc.stdout
    (finding,) = data["steps"][0]["checks"][0]["findings"]
    assert finding["code"] == "principal.managed-identity-deleted"
    assert finding["evidence"]["restorable"] is False
    assert finding["evidence"]["identity_kind"] == "user-assigned managed identity"
    assert any(
        c.startswith("az identity create --name id-cosmos-cmk ")
        for c in _shown_commands(proc.stdout)
    )
