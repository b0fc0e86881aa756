"""A diagnosing identity with read rights only: the run decides everything else and says what it
did not prove (the unwrap round trip), naming the right that proves, in every output.

Lab scenario `diagnoser-read-only`: Reader, Key Vault Reader (keys/read, no unwrapKey), Cosmos DB
Data Reader, Graph Application.Read.All; the setup itself is healthy.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from diagnose.checks.keyvault import KEYVAULT_UNWRAP
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import CliResult, run_cli

SCENARIO = "diagnoser-read-only"
LAB_ENV = {"DIAGNOSE_LAB_PROPAGATION_S": "0.05"}
NEEDS = list(KEYVAULT_UNWRAP.prove_permissions)


def _run(*args: str) -> CliResult:
    return run_cli("run", "--lab", SCENARIO, *args, env=LAB_ENV)


@pytest.fixture(scope="module")
def report() -> tuple[int, dict[str, Any]]:
    result = _run("--output", "json")
    return result.exit_code, result.json("diagnose/report@1")


def test_everything_else_is_decided_and_nothing_is_blamed(report):
    code, document = report
    assert code == 3 == SCENARIO_OBJECTS[SCENARIO].exit_status
    statuses = {c["id"]: c["status"] for c in document["checks"]}
    assert statuses.pop("keyvault.unwrap") == "error"
    assert set(statuses.values()) <= {"pass", "skip"}, statuses
    assert statuses["keyvault.key"] == "pass" and statuses["cosmos.dataplane"] == "pass"
    assert document["diagnosis"] == []
    assert not any(c["findings"] for c in document["checks"])


def test_json_names_the_proof_not_made_and_the_right_it_needs(report):
    _, document = report
    (entry,) = document["not_proven"]
    assert entry["check"] == "keyvault.unwrap" and entry["needs"] == NEEDS
    assert "ForbiddenByRbac" in entry["reason"]
    unwrap = next(c for c in document["checks"] if c["id"] == "keyvault.unwrap")
    assert unwrap["limitation"]["permission"]  # the right Key Vault refused, as the check saw it


def test_text_closing_block_says_not_proven_with_the_right_never_no_issues():
    result = _run()
    assert result.exit_code == 3, result
    lines = result.stdout.rstrip("\n").split("\n")
    closing = lines[lines.index("─" * 40) :]
    assert f"Not proven: keyvault.unwrap (needs {NEEDS[0]})" in closing
    assert (
        closing[-1] == "No issue found in what was decided; not proven: keyvault.unwrap (exit 3)."
    )
    assert "No issues found" not in result.stdout
    assert "[?] keyvault.unwrap    not proven (below)" in result.stdout
    assert "Could not decide" not in result.stdout  # a proof not made is not a reach problem


def test_markdown_and_junit_say_it_too():
    markdown = _run("--output", "markdown")
    assert markdown.exit_code == 3, markdown
    assert "### Not proven" in markdown.stdout
    assert f"- Not proven: `keyvault.unwrap` (needs {NEEDS[0]})" in markdown.stdout
    junit = _run("--output", "junit")
    case = ET.fromstring(junit.stdout).find("testcase[@name='keyvault.unwrap']")
    assert case is not None
    error = case.find("error")
    assert error is not None and error.get("type") == "not-proven"
    assert error.get("message") == f"not proven: keyvault.unwrap (needs {NEEDS[0]})"


def test_a_broken_setup_is_still_found_and_nothing_after_the_proof_is_held_undecided(lab):
    """The CMK identity disabled as well: the root cause, and the revoked status it causes (a
    check after keyvault.unwrap in the chain) is a cause established, not a symptom held back."""
    running = lab(SCENARIO, propagation_s=0.05)
    world = running.world
    world.principals[world.cmk_principal_id].enabled = False
    result = run_cli("run", "--output", "json", env=running.env)
    assert result.exit_code == 1, result
    document = result.json("diagnose/report@1")
    codes = [e["code"] for e in document["diagnosis"]]
    assert codes[:2] == ["principal.disabled", "cosmos.revoked.4000"], codes
    assert not any(e.get("undecided_before") for e in document["diagnosis"])
    assert [n["check"] for n in document["not_proven"]] == ["keyvault.unwrap"]


def test_the_last_80x24_screen_says_what_was_not_proven() -> None:
    from tests.run.test_terminal_screen import last_screen

    screen = last_screen("run", "--lab", SCENARIO, env={"NO_COLOR": "1"})
    assert screen.exit_status == 3, screen.raw[-2000:]
    shown = screen.joined()
    assert f"Not proven: keyvault.unwrap (needs {NEEDS[0]})" in shown, screen.text
    assert "not proven: keyvault.unwrap (exit 3)." in shown, screen.text
    assert "Not tested: campaign.trigger" in shown
    assert "No issues found" not in screen.raw


def test_on_an_access_policy_vault_too(lab):
    """The vault in access-policy mode: the diagnosing identity's policy is get/list (no unwrapKey)."""
    running = lab(SCENARIO, propagation_s=0.05)
    running.world.vault.rbac = False
    result = run_cli("run", "--output", "json", env=running.env)
    assert result.exit_code == 3, result
    document = result.json("diagnose/report@1")
    assert [n["check"] for n in document["not_proven"]] == ["keyvault.unwrap"]
    assert document["diagnosis"] == []
    statuses = {c["id"]: c["status"] for c in document["checks"] if c["id"] != "keyvault.unwrap"}
    assert set(statuses.values()) <= {"pass", "skip"}, statuses
