"""The checks of `diagnose run`, in the order of the causal chain (contract: ids in docs/design.md).

`registry()` is every check a run knows: the shipped chain, then the checks other
distributions contribute through the entry-point group `diagnose.checks` (each
entry point names a `Check` or a sequence of them), then the trigger, which runs
after all of them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from diagnose.checks.base import Check
from diagnose.errors import InputError

ENTRY_POINT_GROUP = "diagnose.checks"


def shipped(trigger_deadline_s: float = 60.0) -> list[Check]:
    """The checks shipped with diagnose, in chain order: principal -> rights -> vault/key -> Cosmos status -> data plane -> trigger."""
    chain = _chain()
    return [*chain, _trigger(chain, trigger_deadline_s)]


def _chain() -> list[Check]:
    from diagnose.checks.campaign import ADOBE_BYOK, CAMPAIGN_ENDPOINT, CAMPAIGN_WINDOW
    from diagnose.checks.cosmos import COSMOS_CMK, COSMOS_DATAPLANE, COSMOS_TOKEN
    from diagnose.checks.keyvault import KEYVAULT_KEY, KEYVAULT_UNWRAP, KEYVAULT_VAULT
    from diagnose.checks.principal import PRINCIPAL_ENABLED
    from diagnose.checks.roles import ROLES_COSMOS, ROLES_KEYVAULT

    return [
        PRINCIPAL_ENABLED,
        ROLES_KEYVAULT,
        ROLES_COSMOS,
        KEYVAULT_VAULT,
        KEYVAULT_KEY,
        KEYVAULT_UNWRAP,
        ADOBE_BYOK,
        COSMOS_CMK,
        COSMOS_TOKEN,
        COSMOS_DATAPLANE,
        CAMPAIGN_WINDOW,
        CAMPAIGN_ENDPOINT,
    ]


def _trigger(above: list[Check], trigger_deadline_s: float) -> Check:
    from diagnose.checks.campaign import CAMPAIGN_TRIGGER

    # The trigger runs after everything above, so that a 500 can be explained by their findings.
    # Its own deadline is the call's, plus room to report: the call must time out first.
    return replace(
        CAMPAIGN_TRIGGER, after=tuple(c.id for c in above), deadline_s=trigger_deadline_s + 15.0
    )


def contributed() -> list[Check]:
    """The checks installed distributions contribute through the entry-point group `diagnose.checks`."""
    from importlib.metadata import entry_points

    checks: list[Check] = []
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            loaded = entry.load()
        except Exception as exc:  # noqa: BLE001 - a broken plugin is a configuration problem
            raise InputError(
                f"the check plugin {entry.name} ({entry.value}) cannot be loaded: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        items = [loaded] if isinstance(loaded, Check) else loaded
        if not isinstance(items, Iterable) or not all(isinstance(c, Check) for c in items):
            raise InputError(
                f"the check plugin {entry.name} ({entry.value}) names neither a Check nor a list of them"
            )
        checks.extend(items)
    return checks


def registry(trigger_deadline_s: float = 60.0, extra: Iterable[Check] = ()) -> list[Check]:
    """Every check of a run, in chain order: shipped, contributed, `extra`, and the trigger last.

    Refuses (CheckGraphError) declarations the runner could not honour: a cycle in
    `needs`, a need on an unknown check, a consumed fact no needed check provides.
    """
    from diagnose.runner import validate

    above = [*_chain(), *contributed(), *extra]
    checks = [*above, _trigger(above, trigger_deadline_s)]
    validate(checks)
    return checks


def all_checks(trigger_deadline_s: float = 60.0) -> list[Check]:
    """Every check a run knows (shipped and contributed), in chain order."""
    return registry(trigger_deadline_s)


def check_ids() -> list[str]:
    return [c.id for c in all_checks()]
