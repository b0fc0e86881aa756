"""Correlation: what matches mean together, beyond each signature alone.

The documented incident is a 500 from the execution API *and* evidence from the
Cosmos DB / key chain (a 403 revoked, a disabled principal, a refused key...) in
the same evidence. A 500 with nothing behind it is not forced into that cause:
it becomes `campaign.server-error-unexplained`, whose runbook says what to
collect next.
"""

from __future__ import annotations

from dataclasses import replace

from diagnose.catalogue import Catalogue
from diagnose.model import Severity
from diagnose.triage.scanner import Match

SERVER_ERROR = "campaign.server-error"
UNEXPLAINED = "campaign.server-error-unexplained"
EXPLAINING_RUNBOOK = "cosmosdb-auth-errors"


def explains_server_error(match: Match, catalogue: Catalogue) -> bool:
    """True when this match is evidence from the chain behind the campaign API's 500."""
    return (
        match.runbook == EXPLAINING_RUNBOOK
        and match.code != SERVER_ERROR
        and catalogue.cause(match.code).severity is Severity.FAIL
    )


def correlate(matches: list[Match], catalogue: Catalogue) -> list[Match]:
    """The matches, with a 500 that nothing explains turned into the unexplained cause."""
    if any(explains_server_error(m, catalogue) for m in matches):
        return matches
    unexplained = catalogue.cause(UNEXPLAINED)
    return [
        replace(m, code=unexplained.code, runbook=unexplained.runbook, step=unexplained.step)
        if m.code == SERVER_ERROR
        else m
        for m in matches
    ]


def rank(code: str, catalogue: Catalogue) -> tuple[int, int, int]:
    """The causal chain: the incident's runbook by step, other runbooks, the 500 last."""
    order = list(catalogue.causes)
    cause = catalogue.cause(code)
    if code in (SERVER_ERROR, UNEXPLAINED):
        return (2, 0, order.index(code))
    group = 0 if cause.runbook == EXPLAINING_RUNBOOK else 1
    return (group, cause.step or 0, order.index(code))
