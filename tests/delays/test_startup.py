"""Start-up stays fast: `diagnose --help` (and loading the delays command) imports no heavy library."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("duckdb", "psycopg", "sqlglot", "PIL")


def _modules_after(code: str) -> set[str]:
    probe = f"import sys\n{code}\nimport json; print(json.dumps(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    return set(json.loads(out.stdout.strip().splitlines()[-1]))


def test_help_imports_no_heavy_library():
    mods = _modules_after(
        "from diagnose.cli import cli\n"
        "try:\n    cli.main(['--help'], standalone_mode=False)\nexcept SystemExit:\n    pass"
    )
    assert not {m.split(".")[0] for m in mods} & set(HEAVY)


def test_delays_help_imports_no_heavy_library():
    mods = _modules_after(
        "from diagnose.cli import cli\n"
        "try:\n    cli.main(['delays', '--help'], standalone_mode=False)\nexcept SystemExit:\n    pass"
    )
    assert "diagnose.cli.delays" in mods
    assert not {m.split(".")[0] for m in mods} & set(HEAVY)
