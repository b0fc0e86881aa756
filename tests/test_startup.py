"""Start-up stays fast: `diagnose --help` and `diagnose checks` never import the Azure SDKs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import clean_environ

HEAVY = (
    "azure.identity",
    "azure.cosmos",
    "azure.keyvault",
    "azure.core",
    "msal",
    "duckdb",
    "psycopg",
    "sqlglot",
    "PIL",
)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["--version"],
        ["checks"],
        ["checks", "--output", "json"],
        ["run", "--help"],
        ["lab", "scenarios"],
        ["explain", "--help"],
        ["payload", "--help"],
        ["payload", "check", "--help"],
        ["delays", "--help"],
        ["runbook", "walk", "--help"],
        ["profile", "--help"],
    ],
)
def test_no_heavy_import(args: list[str]) -> None:
    code = (
        "import sys\n"
        "from diagnose.cli import cli\n"
        f"try:\n    cli.main({args!r}, standalone_mode=False)\nexcept SystemExit:\n    pass\n"
        f"heavy = [m for m in sys.modules if m.startswith({HEAVY!r})]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout[-500:]


def test_a_run_with_an_empty_profile_signs_in_to_nothing(tmp_path: Path) -> None:
    """Nothing configured: the run says so (exit 2) without starting the Azure credential chain
    (no token request, so no SDK import either)."""
    code = (
        "import sys\n"
        "from diagnose.cli import cli\n"
        "try:\n    cli.main(['run'], standalone_mode=False)\n"
        "except Exception as exc:\n    print('REFUSED', type(exc).__name__)\n"
        f"heavy = [m for m in sys.modules if m.startswith({HEAVY!r})]\n"
        "print('HEAVY', heavy)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean_environ(),
    )
    assert "REFUSED InputError" in proc.stdout, proc.stdout + proc.stderr
    assert "HEAVY []" in proc.stdout, proc.stdout[-500:]
