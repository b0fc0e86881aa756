"""The tables of checks and rights in README.md and docs/design.md are the checks' declarations."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from diagnose import catalogue, docs_tables
from diagnose.checks import all_checks

ROOT = Path(__file__).resolve().parents[1]


def test_the_files_hold_the_generated_tables() -> None:
    assert docs_tables.drifted(ROOT) == [], (
        "README.md or docs/design.md drifted from the checks: "
        "run `python -m diagnose.docs_tables --write`"
    )


def test_the_command_checks_the_repository() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "diagnose.docs_tables"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", [n for names in docs_tables.FILES.values() for n in names])
def test_every_check_is_one_row_in_chain_order(name: str) -> None:
    rows = [line for line in docs_tables.table(name).splitlines()[2:] if line]
    assert [row.split("|")[1].strip() for row in rows] == [f"`{c.id}`" for c in all_checks()]


def test_the_rights_table_names_every_right_a_check_declares() -> None:
    rights = docs_tables.table("design-rights")
    for check in all_checks():
        for permission in check.permissions:
            assert permission in rights


def test_a_check_proving_several_runbooks_lists_each() -> None:
    cells = {c.id: docs_tables.PROVES.cell(c, catalogue.default()) for c in all_checks()}
    assert cells["principal.enabled"] == "cosmosdb-auth-errors 1"
    assert "call-timeout 1" in cells["campaign.trigger"]
    assert "cosmosdb-auth-errors 4" in cells["campaign.trigger"]


def test_a_new_declaration_is_one_more_column() -> None:
    chain = all_checks()
    extra = docs_tables.Column("writes", lambda c, _: "yes" if c.only_with_trigger else "no")
    text = docs_tables.render([docs_tables.ID, extra], chain, catalogue.default())
    assert text.splitlines()[0] == "| check | writes |"
    assert text.splitlines()[-1] == "| `campaign.trigger` | yes |"


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    for rel in docs_tables.FILES:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp_path / rel)
    return tmp_path


def test_a_drift_is_found_and_rewritten(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    design = copy / "docs" / "design.md"
    text = design.read_text(encoding="utf-8")
    design.write_text(text.replace("| `cosmos.token` |", "| `cosmos.tokens` |", 1))
    assert docs_tables.drifted(copy) == ["docs/design.md"]
    assert docs_tables.main(["--root", str(copy)]) == 1
    assert "docs/design.md" in capsys.readouterr().err
    assert docs_tables.main(["--write", "--root", str(copy)]) == 0
    assert design.read_text(encoding="utf-8") == text
    assert docs_tables.main(["--root", str(copy)]) == 0


def test_missing_markers_are_an_error(copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    readme = copy / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8").replace("readme-checks:end", "gone"))
    assert docs_tables.main(["--root", str(copy)]) == 2
    assert "readme-checks" in capsys.readouterr().err
