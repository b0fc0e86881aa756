"""The walkthrough as a person sees it: a real pseudo-terminal, prompts, colour, Ctrl-C."""

from __future__ import annotations

from pathlib import Path

import pexpect

from tests.harness import spawn_cli
from tests.schemas import validate_document


def spawn(lab_env: dict[str, str], *args: str, no_color: bool = False) -> pexpect.spawn:
    return spawn_cli(
        "runbook",
        "walk",
        "cosmosdb-auth-errors",
        *args,
        env=lab_env,
        no_color=no_color,
        dimensions=(50, 160),
    )


def test_prompts_colour_and_ctrl_c_leave_a_transcript(lab, tmp_path: Path) -> None:
    running = lab("sp-disabled")
    out = tmp_path / "walk.json"
    child = spawn(running.env, "--fix", "--wait", "30", "--transcript", str(out))
    child.expect("Apply 'reenable-principal'")
    assert "\x1b[" in child.before  # colour on a terminal
    assert "\\u001b" not in child.before  # a colour, not escaped twice into text (check lines)
    child.sendline("y")
    child.expect("Applied")
    child.expect(r"Send ONE real test call")
    child.sendintr()  # Ctrl-C at the prompt
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    data = validate_document(out.read_text())
    assert data["final"] == "stopped" and "interrupted (Ctrl-C)" in data["notes"]
    assert data["fixes"][0]["applied"] is True
    assert data["retest"] is None
    assert [w.method for w in running.writes()] == ["PATCH"]  # the test call was never sent


def test_no_color_is_respected_and_quit_stops(lab, tmp_path: Path) -> None:
    running = lab("kv-role-missing")
    out = tmp_path / "walk.md"
    child = spawn(running.env, "--transcript", str(out), no_color=True)
    child.expect("This step fails")
    assert "\x1b[" not in child.before
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "keyvault.role-missing" in out.read_text()
