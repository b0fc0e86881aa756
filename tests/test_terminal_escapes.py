"""Control characters and bidirectional overrides from a service or a file never reach the terminal.

A lab world whose service principal's display name carries an OSC title, CSI
sequences, a carriage return, C1 controls and bidi overrides/isolates; an explain
input carrying the same. Text (piped and on a pseudo-terminal, where the tool's own
colours must survive), Markdown and JUnit show them escaped; JSON stays JSON that
decodes to the service's exact value.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pexpect
import pytest

from diagnose.lab import Lab
from tests.harness import run_cli, spawn_cli

HOSTILE = (
    "ajo\x1b]0;pwned\x07-runtime\x1b[2J\x1b[31mred\r\x9b6n\x85"
    "\u202eevil\u202c\u2066iso\u2069\u200f\x7f"
)
FORBIDDEN = ["\x1b", "\x07", "\r", "\x9b", "\x85", "\x7f", "\u202e", "\u202c", "\u2066", "\u2069"]
FORBIDDEN += ["\u200f"]


def assert_clean(text: str, *, allow_colour: bool = False) -> None:
    """No raw control or bidi character; with colour, ESC only as the tool's own SGR sequences."""
    if allow_colour:
        import re

        text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    found = [repr(c) for c in FORBIDDEN if c in text]
    assert not found, f"raw {', '.join(found)} in the output: {text[-1500:]!r}"


@pytest.fixture
def hostile_lab(lab) -> Lab:
    """sp-disabled, its principal renamed: the name is in the finding's message and evidence."""
    running = lab("sp-disabled")
    principal = running.world.principal_by_app(running.env["DIAGNOSE_PRINCIPAL_APP_ID"])
    assert principal is not None
    with running.state.write():
        principal.display_name = HOSTILE
    return running


@pytest.mark.parametrize("output", ["text", "markdown", "junit"])
def test_a_display_name_cannot_drive_the_terminal(hostile_lab: Lab, output: str) -> None:
    result = run_cli("run", "--output", output, env=hostile_lab.env)
    assert result.exit_code == 1, result
    assert "principal.disabled" in result.stdout
    assert_clean(result.stdout)
    assert "pwned" in result.stdout and "\\u001b]0;pwned\\u0007" in result.stdout
    assert "\\u202eevil" in result.stdout
    if output == "junit":
        ET.fromstring(result.stdout)  # well-formed: XML 1.0 forbids the raw C0 controls


def test_json_keeps_the_exact_value_escaped_by_json(hostile_lab: Lab) -> None:
    result = run_cli("run", "--output", "json", env=hostile_lab.env)
    assert result.exit_code == 1, result
    assert_clean(result.stdout)
    names = [
        f["evidence"].get("display_name")
        for c in result.json()["checks"]
        for f in c.get("findings", [])
    ] + [c.get("evidence", {}).get("display_name") for c in result.json()["checks"]]
    assert HOSTILE in names


def test_on_a_terminal_the_tool_keeps_its_colours_and_escapes_the_name(hostile_lab: Lab) -> None:
    child = spawn_cli("run", env=hostile_lab.env)
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    screen = child.before.replace("\r\n", "\n")  # the terminal's own line ends
    # the progress region's own erasing (diagnose/progress.py): to the line's start, up, clear
    screen = re.sub(r"\r(?:\x1b\[\d+A)?\x1b\[J", "", screen)
    assert "\x1b[31m" in screen  # the tool's own colour
    assert_clean(screen, allow_colour=True)
    assert "\\u001b[31mred" in screen  # the name's own CSI is shown, not obeyed


def test_an_explain_input_cannot_drive_the_terminal(tmp_path: Path) -> None:
    log = tmp_path / "evil.log"
    log.write_text(
        f"{HOSTILE} status 403 x-ms-substatus: 4000 Access to your account is currently revoked "
        "because the Azure Cosmos DB service is unable to obtain the AAD authentication token\n",
        encoding="utf-8",
    )
    for output in ("text", "markdown", "json"):
        result = run_cli("explain", str(log), "--output", output)
        assert result.exit_code == 1, result
        assert "cosmos.revoked.4000" in result.stdout
        assert_clean(result.stdout)
        if output == "json":
            json.loads(result.stdout)
