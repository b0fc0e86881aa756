"""Turn findings into the diagnosis: one entry per cause, root cause first.

Both `diagnose run` (findings from checks) and `diagnose explain` (findings from
the scanner) end here. The order follows the causal chain, which the caller
expresses as a rank per source (for run: the position of the check in the chain).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from diagnose.catalogue import Catalogue
from diagnose.model import DiagnosisEntry, Finding, Severity, Undecided


def build(
    findings: Iterable[tuple[str, Finding]],
    catalogue: Catalogue,
    rank: Callable[[str], int],
    min_severity: Severity = Severity.WARN,
) -> list[DiagnosisEntry]:
    """`findings` are (source, finding) pairs; a source is a check id or an input name."""
    entries: dict[str, DiagnosisEntry] = {}
    order: dict[str, tuple[int, int, int]] = {}
    for position, (source, finding) in enumerate(findings):
        if finding.severity.rank < min_severity.rank:
            continue
        cause = catalogue.cause(finding.code)
        entry = entries.get(finding.code)
        if entry is None:
            entry = entries[finding.code] = DiagnosisEntry(
                code=cause.code,
                title=cause.title,
                severity=finding.severity,
                step=cause.ref,
                remediation=list(cause.remediation),
                checks=[],
                message=finding.message,
            )
        if finding.severity.rank > entry.severity.rank:
            entry.severity = finding.severity
        if source not in entry.checks:
            entry.checks.append(source)
        key = (rank(source), -finding.severity.rank, position)
        order[finding.code] = min(order.get(finding.code, key), key)
    return sorted(entries.values(), key=lambda e: order[e.code])


def mark_undecided(
    entries: list[DiagnosisEntry],
    undecided: Iterable[tuple[str, str]],
    rank: Callable[[str], int],
) -> list[DiagnosisEntry]:
    """Say, next to each cause shown, which checks before it in the chain could not decide.

    `undecided` are (source, reason) pairs (a check that ended in `error`, and its limitation).
    Until a cause is established with nothing undecided before it, every cause whose checks
    come after an undecided one is a symptom, not a root cause: a deeper cause may hide in
    what could not be checked (a principal Graph would not show). Its entry names them, in
    `undecided_before` and at the end of its message, and it does not count as a root cause
    (`DiagnosisEntry.decided`). Once a root cause is established, the causes after it follow
    from it in the chain, as before. `entries` are root cause first; they are changed in place.
    """
    pending = sorted(((rank(source), source, reason) for source, reason in undecided))
    for entry in entries:
        first = min(rank(source) for source in entry.checks)
        before = [Undecided(source, reason) for at, source, reason in pending if at < first]
        if not before:
            break  # a root cause established: what follows is explained by the chain
        entry.undecided_before = before
        said = "; ".join(f"{u.check} ({u.reason.rstrip('.')})" for u in before)
        entry.message += f" (not shown to be the root cause: could not check {said})"
    return entries


def to_json(entries: Iterable[DiagnosisEntry]) -> list[dict[str, Any]]:
    return [
        {
            "code": e.code,
            "title": e.title,
            "severity": str(e.severity),
            "message": e.message,
            "runbook": e.step.to_json(),
            "remediation": list(e.remediation),
            "checks": list(e.checks),
            **(
                {
                    "undecided_before": [
                        {"check": u.check, "reason": u.reason} for u in e.undecided_before
                    ]
                }
                if e.undecided_before
                else {}
            ),
        }
        for e in entries
    ]
