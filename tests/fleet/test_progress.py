"""`run --all` on a terminal shows accounts decided of those found, on stderr; never in a pipe."""

from __future__ import annotations

import pexpect

from tests.harness import run_cli, spawn_cli


def test_progress_counts_accounts_on_a_terminal_and_is_erased(lab) -> None:
    running = lab("fleet:12")
    child = spawn_cli("run", "--all", env=running.env, timeout=120)
    child.expect_exact("of 12 accounts decided")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 1
    seen = child.before
    assert "12 of 12 accounts decided (3 with findings, 0 undecided)" in seen
    # the region is erased before the report: the report's first line follows the erase
    # (diagnose/progress.py: back to the region's first column, then erase to the end)
    assert "\x1b[" in seen and "Traceback" not in seen
    assert "\r\x1b[Jdiagnose: 12 Cosmos DB account(s)" in seen


def test_no_progress_in_a_pipe_or_in_json(lab) -> None:
    running = lab("fleet:12")
    result = run_cli("run", "--all", "-o", "json", env=running.env, timeout=120)
    assert result.exit_code == 1
    assert "accounts decided" not in result.stderr + result.stdout
    assert "Resource Graph," not in result.stderr
    result.json("diagnose/fleet@1")
