"""Every cause code a check declares lives in the catalogue, with a step; checks and steps name each other."""

from __future__ import annotations

import pytest

from diagnose import catalogue
from diagnose.checks import shipped
from diagnose.checks.base import Check

CHECKS = shipped()


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: c.id)
def test_every_cause_a_check_declares_is_in_the_catalogue_with_a_step(check: Check) -> None:
    cat = catalogue.default()
    missing = [code for code in check.causes if code not in cat.causes]
    assert not missing, f"{check.id} declares causes missing from runbooks/: {missing}"
    for code in check.causes:
        cause = cat.causes[code]
        assert cause.step is not None, code
        assert cat.runbook(cause.runbook).step(cause.step) is not None, code
        assert cause.remediation, f"{code} says nothing about what to do"


def test_the_chain_declares_the_causes_it_is_known_for() -> None:
    declared = {code for c in CHECKS for code in c.causes}
    assert len(declared) > 45
    assert {f"cosmos.revoked.{n}" for n in range(4000, 4018)} | {"cosmos.revoked.other"} <= declared
    assert {
        "principal.disabled",
        "key.expired",
        "campaign.server-error",
        "call.timeout",
    } <= declared


def test_cosmos_codes_map_to_the_documented_steps() -> None:
    cat = catalogue.default()
    for n in range(4000, 4018):
        step = cat.causes[f"cosmos.revoked.{n}"].step
        expected = 1 if n in (4000, 4001) else 2 if n in (4002, 4005) else 3
        assert step == expected, (n, step)


def test_every_check_proves_a_step_and_every_step_names_known_checks() -> None:
    cat = catalogue.default()
    ids = {c.id for c in CHECKS}
    named = {cid for rb in cat.runbooks.values() for s in rb.steps for cid in s.checks}
    assert ids <= named, ids - named
    assert named <= ids, named - ids
