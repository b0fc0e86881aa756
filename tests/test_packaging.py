"""A non-editable install carries the catalogue inside the package."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_ships_the_runbooks_and_an_installed_copy_finds_them(
    tmp_path: Path, wheel: Path
) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    shipped = {Path(n).name for n in names if n.startswith("diagnose/runbooks/")}
    expected = {p.name for p in (ROOT / "runbooks").iterdir() if p.is_file()}
    assert expected <= shipped, expected - shipped

    target = tmp_path / "site"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--no-deps",
            "-q",
            "--target",
            str(target),
            str(wheel),
        ],
        check=True,
        timeout=300,
    )
    probe = (
        "from diagnose import catalogue; d = catalogue.catalogue_dir(); c = catalogue.load(d);"
        "print(d); print(len(c.runbooks), 'cosmosdb-auth-errors' in c.runbooks)"
    )
    env = dict(os.environ, PYTHONPATH=str(target))
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    where, summary = out.stdout.splitlines()
    assert where.startswith(str(target)), where  # the packaged copy, not the source tree
    assert summary.endswith("True")
