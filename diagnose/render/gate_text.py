"""The lines a terminal shows for one run's gate: the baseline's acceptances and the horizon."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from diagnose.fleet.horizon import Horizon
    from diagnose.render.style import Styler
    from diagnose.usecases.run import RunReport


def lines(report: RunReport, style: Styler) -> list[str]:
    gate = report.gate
    if gate is None:
        return []
    out: list[str] = []
    if gate.baseline is not None:
        where = gate.baseline.path or "the baseline"
        verb = "written to" if gate.written else "from"
        out += ["", style(f"Baseline ({verb} {where})", bold=True)]
        out += [
            f"  accepted until {a.expires or 'no end'}: {e.code} ({a.reason})"
            for e, a in gate.accepted
        ]
        out += [
            f"  {style('expired', fg='red')} on {a.expires}: {e.code} fails again"
            for e, a in gate.expired
        ]
        if not gate.accepted and not gate.expired:
            out.append("  no finding of this run is in it")
    if gate.horizon is not None:
        out += horizon_lines(gate.horizon, style)
    return out


def horizon_lines(seen: Horizon, style: Styler, *, concerns: bool = False) -> list[str]:
    """The horizon's block: its notices (with whom each concerns, for the fleet), then what it
    could not read."""
    days = seen.span.total_seconds() / 86400
    out = ["", style(f"Inside the horizon ({days:g} days)", bold=True)]
    out += [
        f"  {style(n.message, fg='yellow')}" + (f": {n.concerns}" if concerns else "")
        for n in seen.notices
    ] or ["  nothing the sources show needs action"]
    out += [f"  not looked at: {reason}" for reason in seen.limitations]
    return out
