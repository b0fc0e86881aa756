"""`diagnose run` in a real pseudo-terminal: colour, NO_COLOR, and Ctrl-C after what finished was printed."""

from __future__ import annotations

import re

import pexpect

from diagnose.checks import check_ids
from tests.harness import spawn_cli
from tests.schemas import validate_document


def spawn(lab_env: dict[str, str], *args: str, no_color: bool = False) -> pexpect.spawn:
    return spawn_cli("run", *args, env=lab_env, no_color=no_color)


def test_colour_on_a_terminal_and_no_color(lab) -> None:
    running = lab("sp-disabled")
    child = spawn(running.env)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    assert "\x1b[31m" in child.before and "Diagnosis, root cause first" in child.before
    child = spawn(running.env, no_color=True)
    child.expect(pexpect.EOF)
    child.close()
    # no colour (SGR) escape; progress still moves the cursor (it is erased, not coloured)
    assert not re.search(r"\x1b\[[0-9;]*m", child.before)
    assert "[✗] principal.enabled" in child.before


def test_ctrl_c_exits_130_after_printing_what_finished(lab) -> None:
    running = lab("trigger-timeout")
    child = spawn(running.env, "--trigger", "--trigger-deadline", "60")
    child.expect_exact("principal.enabled ")  # finished checks are on screen while the call hangs
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Interrupted" in child.before
    assert "Traceback" not in child.before


def test_ctrl_c_with_json_prints_the_partial_report(lab) -> None:
    running = lab("trigger-timeout")
    child = spawn(running.env, "--trigger", "--output", "json", "--out", "/dev/stdout")
    # progress goes to the terminal (stderr) while the call hangs: wait until every other check is done
    child.expect_exact(f"{len(check_ids()) - 1} of {len(check_ids())} checks finished")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    text = child.before
    report = validate_document(text[text.index("{") : text.rindex("}") + 1])
    ids = {c["id"] for c in report["checks"]}
    assert "principal.enabled" in ids and "campaign.trigger" not in ids
