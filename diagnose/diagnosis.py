"""Turn findings into the diagnosis: one entry per cause, root cause first.

Both `diagnose run` (findings from checks) and `diagnose explain` (findings from
the scanner) end here. The order follows the causal chain, which the caller
expresses as a rank per source (for run: the position of the check in the chain).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from diagnose.catalogue import Catalogue
from diagnose.model import DiagnosisEntry, Finding, Severity


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
        }
        for e in entries
    ]
