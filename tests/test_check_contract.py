"""The shipped checks keep their own contract: a runnable graph, facts that flow, early reads declared."""

from __future__ import annotations

from diagnose.checks import shipped
from diagnose.checks.keyvault import prewarm_data_plane_key
from diagnose.runner import validate

CHECKS = shipped()


def test_the_shipped_declarations_form_a_runnable_graph() -> None:
    validate(CHECKS)  # no cycle, no unknown need, every consumed fact provided by a needed check


def test_every_provided_fact_is_consumed_and_named_once() -> None:
    provided = [f for c in CHECKS for f in c.provides]
    consumed = {f for c in CHECKS for f in c.consumes}
    assert provided and set(provided) == consumed
    assert len({f.name for f in provided}) == len(provided)


def test_the_trigger_runs_after_everything_without_needing_it() -> None:
    *chain, trigger = CHECKS
    assert trigger.id == "campaign.trigger" and not trigger.needs
    assert trigger.after == tuple(c.id for c in chain)


def test_the_key_read_is_started_early_by_declaration() -> None:
    early = {c.id: c.prewarm for c in CHECKS if c.prewarm}
    assert early == {"keyvault.unwrap": (prewarm_data_plane_key,)}
