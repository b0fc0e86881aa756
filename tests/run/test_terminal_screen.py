"""`diagnose run` on an 80×24 pseudo-terminal, read as a person reads it: the last screen.

The output (stdout and stderr, progress included) is fed to a terminal emulator (pyte)
of the same size, which applies the soft wrap, the cursor moves and the erasing of the
progress region; what is on the emulated screen when the process has ended is what the
engineer sees. It must hold the root cause and the command of its fix, and never "No
issues found" while something was not tested.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pexpect
import pyte
import pytest

from diagnose import catalogue
from diagnose.lab.scenarios import SCENARIO_OBJECTS
from tests.harness import run_cli, spawn_cli

ROWS, COLUMNS = 24, 80
LAB_ENV = {"DIAGNOSE_LAB_PROPAGATION_S": "0.05"}


@dataclass
class Screen:
    exit_status: int
    raw: str  # everything the process wrote to the terminal
    lines: list[str]  # the last screen, as the emulator shows it

    @property
    def text(self) -> str:
        """The last screen with its soft-wrapped rows joined again (a wrapped line is one line)."""
        return "".join(
            line.ljust(COLUMNS) if len(line) == COLUMNS else line + "\n" for line in self.lines
        )

    def joined(self) -> str:
        return re.sub(r"\s+", " ", self.text)


def last_screen(*args: str, env: dict[str, str] | None = None) -> Screen:
    child = spawn_cli(
        *args, env={**LAB_ENV, **(env or {})}, dimensions=(ROWS, COLUMNS), timeout=120
    )
    screen = pyte.Screen(COLUMNS, ROWS)
    stream = pyte.Stream(screen)
    raw: list[str] = []
    while True:
        try:
            chunk = child.read_nonblocking(65536, timeout=120)
        except pexpect.EOF:
            break
        raw.append(chunk)
        stream.feed(chunk)
    child.close()
    lines = [line.rstrip() for line in screen.display]
    return Screen(child.exitstatus, "".join(raw), lines)


def fix_command(code: str) -> str | None:
    """The first command of the cause's remediation up to its first placeholder (what the run
    fills in), as the catalogue writes it; None when the remediation has no az command."""
    lines = catalogue.default().cause(code).remediation
    command = next((line for line in lines if line.startswith("az ")), None)
    return command.split("<", 1)[0] if command else None


CASES = {
    "sp-disabled": (),
    "kv-firewall": (),
    "kv-role-missing": (),
    "trigger-timeout": ("--trigger", "--trigger-deadline", "3"),
}


@pytest.mark.parametrize("scenario", sorted(CASES))
def test_the_last_screen_holds_the_root_cause_and_its_fix(scenario: str) -> None:
    expected = SCENARIO_OBJECTS[scenario]
    assert expected.root_cause is not None
    screen = last_screen("run", "--lab", scenario, *CASES[scenario], env={"NO_COLOR": "1"})
    assert screen.exit_status == expected.exit_status, screen.raw[-3000:]
    shown = screen.joined()
    title = catalogue.default().cause(expected.root_cause).title
    assert f"Root cause: {title} [{expected.root_cause}]" in shown, screen.text
    command = fix_command(expected.root_cause)
    if command is not None:
        # the command on its own line (soft-wrapped by the terminal, never by the tool)
        assert command in shown, screen.text
    assert "Fix first (runbook " in shown, screen.text
    assert "No issues found" not in screen.raw
    assert "Traceback" not in screen.raw
    if "--trigger" not in CASES[scenario]:
        assert "Not tested: campaign.trigger (add --trigger" in shown, screen.text


@pytest.mark.parametrize("scenario", ["kv-role-missing", "uami-deleted"])
def test_the_fix_first_is_the_commands_the_report_gives_whole(scenario: str) -> None:
    """A remediation whose first line introduces its commands ("…:") shows those commands, filled
    with the run's values, on the last screen: the one fix to do first is something to paste."""
    report = run_cli("run", "--lab", scenario, "--output", "json", env=LAB_ENV).json()
    remediation = report["diagnosis"][0]["remediation"]
    assert remediation[0].endswith(":"), remediation[0]
    commands = []
    for line in remediation[1:]:
        if not line.startswith("az "):
            break
        commands.append(line)
    assert commands, remediation
    shown = last_screen("run", "--lab", scenario, env={"NO_COLOR": "1"}).joined()
    assert "Fix first (runbook " in shown
    for command in commands:
        assert command in shown, (command, shown)


def test_without_trigger_the_campaign_call_is_named_as_not_tested() -> None:
    """trigger-timeout without --trigger: the setup is healthy, but the call was not made."""
    screen = last_screen("run", "--lab", "trigger-timeout", env={"NO_COLOR": "1"})
    assert screen.exit_status == 0, screen.raw[-2000:]
    shown = screen.joined()
    assert "Not tested: campaign.trigger (add --trigger: one real execution call)" in shown
    assert "No issue found in what was tested" in shown
    assert "No issues found" not in screen.raw


def test_the_tools_credential_is_said_once_with_its_runbook() -> None:
    screen = last_screen("run", "--lab", "diagnoser-secret-expired", env={"NO_COLOR": "1"})
    assert screen.exit_status == 3
    report = screen.raw[screen.raw.rindex("diagnose: checking profile") :]  # after the progress
    assert report.count("AADSTS7000222 (its client secret has expired") == 1, report
    assert "set AZURE_CLIENT_SECRET" in report  # the fix is named with the reason
    assert "Runbook entra-credentials, step 1" in report
    assert "Could not decide:" in screen.joined()
    assert "not your setup" not in report


def test_a_risk_that_breaks_nothing_is_a_warning_not_a_root_cause() -> None:
    screen = last_screen("run", "--lab", "purge-protection-off", env={"NO_COLOR": "1"})
    assert screen.exit_status == 0, screen.raw[-2000:]
    shown = screen.joined()
    assert "Warning (nothing is broken by it now): Purge protection is off" in shown
    assert "Root cause:" not in shown
    assert "1 warning found (exit 0)" in shown


def test_unwrap_passing_says_whose_identity_ran_it() -> None:
    screen = last_screen("run", "--lab", "kv-role-missing", env={"NO_COLOR": "1"})
    assert re.search(
        r"\[✓\] keyvault\.unwrap .*as the diagnosing identity, not Cosmos DB's", screen.raw
    ), screen.raw[-4000:]
    # the check says it, in its evidence, for every report: not a renderer's table of check ids
    proc = run_cli("run", "--lab", "kv-role-missing", "--output", "json")
    unwrap = next(c for c in json.loads(proc.stdout)["checks"] if c["id"] == "keyvault.unwrap")
    assert unwrap["status"] == "pass" and "diagnosing identity" in unwrap["evidence"]["ran_as"]


def test_progress_shows_the_campaign_call_against_its_deadline_then_is_erased() -> None:
    screen = last_screen(
        "run",
        "--lab",
        "trigger-timeout",
        "--trigger",
        "--trigger-deadline",
        "3",
        env={"NO_COLOR": "1"},
    )
    assert "of its 3 s deadline" in screen.raw  # drawn while the call waited
    assert "checks finished" in screen.raw
    assert "checks finished" not in screen.text  # erased before the report


def test_progress_never_reaches_a_pipe(cli) -> None:
    result = cli(
        "run", "--lab", "trigger-timeout", "--trigger", "--trigger-deadline", "3", env=LAB_ENV
    )
    assert "checks finished" not in result.output and "\x1b[" not in result.output
    assert result.stderr == "", result.stderr
