"""Ctrl-C in a real pseudo-terminal: exit 130, no traceback, what was finished printed.

Each command is interrupted in the middle of real work: a run and a walk against a
slow lab, a test call the lab never answers, explain reading a large file. A second
Ctrl-C ends the process at once, whatever the first one is still unwinding.
(DuckDB and PostgreSQL queries: tests/delays/test_ctrl_c.py.)
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import pexpect

from tests.harness import clean_environ, spawn_cli
from tests.payload.test_lab import executions, write_curl
from tests.schemas import validate_document

CMK_NODE = (
    '{{"code":"Forbidden","message":"Request is blocked due to Customer Managed Key '
    'not being accessible. (4000)","node":"{node}"}} substatus 4000\n'
)


def ended(child: pexpect.spawn, within_s: float = 20) -> str:
    """Wait for the process to end; everything it printed."""
    child.expect(pexpect.EOF, timeout=within_s)
    child.close()
    return str(child.before)


def assert_interrupted(child: pexpect.spawn, text: str) -> None:
    assert child.exitstatus == 130, text[-2000:]
    assert "Traceback" not in text, text[-3000:]


def test_run_against_a_slow_lab_prints_what_finished(lab) -> None:
    slow = lab("sp-disabled", latency_ms=1500)
    child = spawn_cli("run", env=slow.env, no_color=True)
    child.expect_exact("[✗] principal.enabled")  # one check finished; the others are waiting
    child.sendintr()
    text = ended(child)
    assert_interrupted(child, text)
    assert "Diagnosis, root cause first" in text and "principal.disabled" in text
    assert "Interrupted" in text


def test_run_json_partial_report_is_valid(lab) -> None:
    slow = lab("healthy", latency_ms=1500)
    child = spawn_cli("run", "--output", "json", "--out", "/dev/stdout", env=slow.env)
    child.expect_exact("principal.enabled ")  # progress on the terminal
    child.sendintr()
    text = ended(child)
    assert_interrupted(child, text)
    report = validate_document(text[text.index("{") : text.rindex("}") + 1])
    assert "principal.enabled" in {c["id"] for c in report["checks"]}


def _letters(n: int) -> str:
    """A word of letters no id, number or anchor holds, different for each n."""
    word = ""
    while True:
        n, r = divmod(n, 20)
        word += "ghiklmnopqrstuvwxyz_"[r]
        if n == 0:
            return word


def test_explain_stops_reading_and_prints_what_it_found(tmp_path: Path) -> None:
    """An incident log (every line a hit; read in parts on a machine with two cores) whose
    lines share no verdict: many seconds of reading, stopped midway."""
    big = tmp_path / "big.log"
    total = 0
    with big.open("w") as fh:
        while fh.tell() < 60 << 20:  # above parts.PART_MIN: read in parts where it can
            fh.write("".join(CMK_NODE.format(node=_letters(total + k)) for k in range(10_000)))
            total += 10_000
    child = spawn_cli("explain", str(big), env={}, no_color=True)
    child.expect_exact("reading", timeout=60)  # the progress line: it is reading
    time.sleep(0.5)
    child.sendintr()
    text = ended(child)
    assert_interrupted(child, text)
    assert "cosmos.revoked.4000" in text  # the matches read before Ctrl-C are reported
    assert "covers what was read before Ctrl-C" in text
    seen = re.search(r"seen ([0-9]+) times", text)
    assert seen and 0 < int(seen.group(1)) < total, text[-2000:]


def test_payload_send_during_the_call(lab, tmp_path: Path) -> None:
    hanging = lab("trigger-timeout")
    curl = write_curl(tmp_path / "c.sh", hanging)
    child = spawn_cli(
        "payload", "send", str(curl), "--yes", "--deadline", "60", env=hanging.env, no_color=True
    )
    child.expect_exact("calling /ajo/im/executions/unitary")
    time.sleep(0.5)  # the POST is on its way
    child.sendintr()
    text = ended(child)
    assert_interrupted(child, text)
    assert "Interrupted" in text
    assert len(executions(hanging)) <= 1  # never a resend


def test_walk_during_a_check(lab, tmp_path: Path) -> None:
    slow = lab("kv-role-missing", latency_ms=1500)
    out = tmp_path / "walk.json"
    child = spawn_cli(
        "runbook",
        "walk",
        "cosmosdb-auth-errors",
        "--transcript",
        str(out),
        env=slow.env,
        no_color=True,
        dimensions=(50, 160),
    )
    child.expect("Step 1")
    time.sleep(1.0)  # the step's checks are waiting on the lab
    child.sendintr()
    text = ended(child)
    assert_interrupted(child, text)
    data = validate_document(out.read_text())
    assert data["final"] == "stopped" and "interrupted (Ctrl-C)" in data["notes"]


def test_a_second_ctrl_c_exits_at_once(lab) -> None:
    """Two Ctrl-C in a row during a slow run: 130 at once, no traceback."""
    slow = lab("healthy", latency_ms=3000)
    child = spawn_cli("run", env=slow.env, no_color=True)
    child.expect_exact("principal.enabled")
    child.sendintr()
    child.sendintr()
    text = ended(child, within_s=10)
    assert_interrupted(child, text)


def test_the_second_ctrl_c_does_not_wait_for_the_first_to_unwind() -> None:
    """A command still busy after the first Ctrl-C (here: one that ignores it) ends on the second."""
    script = (
        "from diagnose import interrupts\n"
        "import time\n"
        "interrupts.install()\n"
        "print('ready', flush=True)\n"
        "try:\n"
        "    time.sleep(60)\n"
        "except KeyboardInterrupt:\n"
        "    print('first', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = pexpect.spawn(
        sys.executable, ["-c", script], env=clean_environ(), encoding="utf-8", timeout=30
    )
    child.expect_exact("ready")
    child.sendintr()
    child.expect_exact("first")
    started = time.monotonic()
    child.sendintr()
    text = ended(child, within_s=10)
    assert time.monotonic() - started < 5
    assert child.exitstatus == 130 and "Traceback" not in text
