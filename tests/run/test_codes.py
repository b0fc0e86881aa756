"""Every cause code a check can raise lives in the catalogue, with a step."""

from __future__ import annotations

import re
from pathlib import Path

from diagnose import catalogue
from diagnose.checks import all_checks

CHECKS_DIR = Path(__file__).resolve().parents[2] / "diagnose" / "checks"


def raised_codes() -> set[str]:
    codes: set[str] = set()
    for path in CHECKS_DIR.glob("*.py"):
        text = path.read_text()
        codes |= set(re.findall(r'finding\(\s*"([a-z0-9.-]+)"', text))
        codes |= set(re.findall(r'return "([a-z]+\.[a-z0-9.-]+)", f?"', text))
    return codes


def test_every_code_a_check_raises_is_in_the_catalogue() -> None:
    cat = catalogue.default()
    codes = (
        raised_codes()
        | {"campaign.call-rejected"}
        | {f"cosmos.revoked.{n}" for n in range(4000, 4018)}
    )
    assert len(codes) > 25
    missing = sorted(c for c in codes if c not in cat.causes)
    assert not missing, f"cause codes raised by checks but missing from runbooks/: {missing}"
    for code in codes:
        assert cat.causes[code].step is not None, code


def test_cosmos_codes_map_to_the_documented_steps() -> None:
    cat = catalogue.default()
    for n in range(4000, 4018):
        step = cat.causes[f"cosmos.revoked.{n}"].step
        expected = 1 if n in (4000, 4001) else 2 if n in (4002, 4005) else 3
        assert step == expected, (n, step)


def test_every_check_proves_a_step_and_every_step_names_known_checks() -> None:
    cat = catalogue.default()
    ids = {c.id for c in all_checks()}
    named = {cid for rb in cat.runbooks.values() for s in rb.steps for cid in s.checks}
    assert ids <= named, ids - named
    assert named <= ids, named - ids
