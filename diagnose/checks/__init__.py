"""The checks of `diagnose run`, in the order of the causal chain (contract: ids in docs/design.md)."""

from __future__ import annotations

from dataclasses import replace

from diagnose.checks.base import Check


def all_checks(trigger_deadline_s: float = 60.0) -> list[Check]:
    """Every check, in chain order: principal -> rights -> vault/key -> Cosmos status -> data plane -> trigger."""
    from diagnose.checks.campaign import (
        ADOBE_BYOK,
        CAMPAIGN_ENDPOINT,
        CAMPAIGN_TRIGGER,
        CAMPAIGN_WINDOW,
    )
    from diagnose.checks.cosmos import COSMOS_CMK, COSMOS_DATAPLANE, COSMOS_TOKEN
    from diagnose.checks.keyvault import KEYVAULT_KEY, KEYVAULT_UNWRAP, KEYVAULT_VAULT
    from diagnose.checks.principal import PRINCIPAL_ENABLED
    from diagnose.checks.roles import ROLES_COSMOS, ROLES_KEYVAULT

    chain = [
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
    # The trigger waits for everything above, so that a 500 can be explained by their findings.
    # Its own deadline is the call's, plus room to report: the call must time out first.
    trigger = replace(
        CAMPAIGN_TRIGGER, needs=tuple(c.id for c in chain), deadline_s=trigger_deadline_s + 15.0
    )
    return [*chain, trigger]


def check_ids() -> list[str]:
    return [c.id for c in all_checks()]
