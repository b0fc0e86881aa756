"""The gate for one account's run: `--baseline`, `--write-baseline` and `--horizon` without `--all`.

The same rules as the fleet's (usecases/fleet.py): a finding whose cause code and resource (the
account's ARM id, `cosmos_id`) a baseline entry names is accepted until the entry expires, and
leaves the diagnosis; an expired acceptance fails again and is said so; `--write-baseline` writes
the run's findings and judges the run against them. The horizon's notices are warnings (exit 1
with `--fail-on warn`); what it could not read leaves the run undecided only with `--fail-on
warn`. The report's `baseline` and `horizon` sections (diagnose/schemas/report.json) say it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from diagnose.model import DiagnosisEntry, Severity

if TYPE_CHECKING:
    from diagnose.fleet.baseline import Acceptance, Baseline
    from diagnose.fleet.horizon import Horizon
    from diagnose.usecases.run import RunReport


@dataclass
class Gate:
    """What `--baseline`/`--write-baseline`/`--horizon` made of one run."""

    baseline: Baseline | None = None
    written: Path | None = None
    accepted: list[tuple[DiagnosisEntry, Acceptance]] = field(default_factory=list)
    expired: list[tuple[DiagnosisEntry, Acceptance]] = field(default_factory=list)
    horizon: Horizon | None = None

    def severities(self) -> list[Severity]:
        """What the gate adds to the exit status: a warning per notice inside the horizon."""
        return self.horizon.severities() if self.horizon else []

    def unread(self, fail_on: Severity) -> bool:
        """Whether what the horizon could not read leaves the run undecided."""
        return self.horizon is not None and self.horizon.unread(fail_on)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.baseline is not None:
            out["baseline"] = {
                "file": str(self.baseline.path) if self.baseline.path else None,
                "written": self.written is not None,
                "entries": len(self.baseline.acceptances),
                "accepted": [a.to_json() for _, a in self.accepted],
                "expired": [a.to_json() for _, a in self.expired],
            }
        if self.horizon is not None:
            out["horizon"] = horizon_json(self.horizon)
        return out


def horizon_json(seen: Horizon) -> dict[str, Any]:
    return {
        "days": seen.span.total_seconds() / 86400,
        "notices": [
            {
                "kind": n.kind,
                "resource": n.resource,
                "name": n.name,
                "due": n.due.isoformat(timespec="seconds"),
                "message": n.message,
                "accounts": list(n.accounts),
            }
            for n in seen.notices
        ],
        "limitations": list(seen.limitations),
    }


def judge(
    entries: list[DiagnosisEntry], resource: str, baseline: Baseline | None, today: date
) -> tuple[
    list[DiagnosisEntry],
    list[tuple[DiagnosisEntry, Acceptance]],
    list[tuple[DiagnosisEntry, Acceptance]],
]:
    """(kept, accepted, expired): the diagnosis less what the baseline accepts and has not expired."""
    kept: list[DiagnosisEntry] = []
    accepted: list[tuple[DiagnosisEntry, Acceptance]] = []
    expired: list[tuple[DiagnosisEntry, Acceptance]] = []
    for entry in entries:
        found = baseline.find(entry.code, resource) if baseline else None
        if found is not None and not found.expired(today):
            accepted.append((entry, found))
            continue
        if found is not None:
            expired.append((entry, found))
        kept.append(entry)
    return kept, accepted, expired


def apply(
    report: RunReport,
    *,
    baseline: Baseline | None = None,
    write_baseline: Path | None = None,
    horizon: timedelta | None = None,
) -> RunReport:
    """`report` with its gate: accepted findings moved out of its diagnosis, the horizon read."""
    from diagnose.fleet import baseline as baselines

    resource = report.profile.cosmos_id or ""
    today = datetime.now(UTC).date()
    gate = Gate(baseline=baseline)
    if write_baseline is not None:
        findings = [(e.code, resource) for e in report.diagnosis]
        gate.baseline = baselines.write(write_baseline, findings, today)
        gate.written = write_baseline
    if gate.baseline is not None:
        report.diagnosis, gate.accepted, gate.expired = judge(
            report.diagnosis, resource, gate.baseline, today
        )
    if horizon is not None:
        gate.horizon = look(report, horizon)
    report.gate = gate
    return report


def look(report: RunReport, span: timedelta) -> Horizon:
    """The horizon of one account's run, through a context of its own (its reads are few: the
    key resource again, and Graph's application objects)."""
    from diagnose.checks.base import Context, RunOptions
    from diagnose.fleet.horizon import look_ahead

    ctx = Context(report.profile, RunOptions())
    reports = [(report.profile.cosmos_id or report.profile.name, report)]
    return look_ahead(ctx, reports, datetime.now(UTC), span)
