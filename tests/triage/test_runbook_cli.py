"""`diagnose runbook list` and `show ID`, text and JSON, through the real CLI."""

from __future__ import annotations

from diagnose.catalogue import load
from tests.harness import run_cli


def test_list_text_and_json_name_every_runbook() -> None:
    catalogue = load()
    text = run_cli("runbook", "list")
    assert text.exit_code == 0
    for runbook_id in catalogue.runbooks:
        assert runbook_id in text.stdout
    doc = run_cli("runbook", "list", "--output", "json").json()
    assert doc["schema"] == "diagnose/catalogue@1"
    assert doc["catalogue"] == catalogue.version
    assert [r["id"] for r in doc["runbooks"]] == list(catalogue.runbooks)
    first = next(r for r in doc["runbooks"] if r["id"] == "cosmosdb-auth-errors")
    assert first["steps"] == 4 and first["causes"] >= 20


def test_show_text_has_steps_checks_fixes_and_causes() -> None:
    result = run_cli("runbook", "show", "cosmosdb-auth-errors")
    assert result.exit_code == 0
    out = result.stdout
    assert "Step 1 — Verify the service principal" in out
    assert "proved by: principal.enabled" in out
    assert "fix `reenable-principal`" in out
    assert "cosmos.revoked.4000 (fail)" in out
    assert out.index("Step 1") < out.index("Step 2") < out.index("Step 4")


def test_show_json_carries_the_machine_part() -> None:
    doc = run_cli("runbook", "show", "call-timeout", "--output", "json").json()
    assert doc["schema"] == "diagnose/runbook@1" and doc["id"] == "call-timeout"
    assert doc["steps"][0]["checks"] == ["campaign.trigger"]
    cause = doc["causes"][0]
    assert cause["code"] == "call.timeout" and cause["signatures"][0]["min_seconds"] == 60


def test_show_unknown_id_exits_2_and_lists_the_known_ones() -> None:
    result = run_cli("runbook", "show", "no-such-runbook")
    assert result.exit_code == 2
    assert "no-such-runbook" in result.stderr and "cosmosdb-auth-errors" in result.stderr
    assert "Traceback" not in result.stderr


def test_start_up_imports_nothing_heavy() -> None:
    """`--help`, `explain --help` and `runbook list` load neither the Azure SDKs nor the prefilter."""
    import subprocess
    import sys

    for args in (["--help"], ["explain", "--help"], ["runbook", "list"]):
        code = (
            "import sys\nfrom diagnose.cli import cli\n"
            f"try:\n    cli.main({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
            "print('HEAVY', [m for m in sys.modules if m.startswith(('azure', 'msal', 'hyperscan', 'requests'))])\n"
        )
        proc = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
        )
        assert "HEAVY []" in proc.stdout, (args, proc.stdout[-300:], proc.stderr[-300:])
