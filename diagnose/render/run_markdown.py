"""`diagnose run --output markdown`: pasteable into an incident ticket."""

from __future__ import annotations

from diagnose import catalogue
from diagnose.usecases.run import RunReport

ICONS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skip": "⏭️", "error": "❔"}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render(report: RunReport) -> str:
    cat = catalogue.default()
    out = [
        f"## diagnose run: {report.status.upper()}",
        "",
        f"Profile `{report.profile.name}` (topology {report.profile.topology or 'own'}), "
        f"{report.started_at:%Y-%m-%d %H:%M:%S} UTC, {report.duration_ms / 1000:.1f} s, "
        f"diagnose {report.version}, catalogue {report.catalogue_version}.",
        "",
    ]
    if report.diagnosis:
        out += ["### Diagnosis (root cause first)", ""]
        for n, entry in enumerate(report.diagnosis, 1):
            runbook = cat.runbook(entry.step.runbook)
            step = runbook.step(entry.step.step) if entry.step.step else None
            where = f"step {step.number}, {step.title}" if step else runbook.title
            out.append(
                f"{n}. **{_cell(entry.title)}** (`{entry.code}`): runbook `{runbook.id}`, {where}"
            )
            if entry.message:
                out.append(f"   - {_cell(entry.message)}")
            out += [f"   - To do: {_cell(r)}" for r in entry.remediation]
        out.append("")
    out += ["### Checks", "", "| | check | result |", "|---|---|---|"]
    for c in report.checks:
        out.append(f"| {ICONS[c.status.value]} | `{c.id}` | {_cell(c.summary)} |")
    limits = report.limitations
    if limits:
        out += ["", "### Could not decide (the tool's own access or reach)", ""]
        for c in limits:
            permission = (
                f" Needs: {c.limitation.permission}."
                if c.limitation and c.limitation.permission
                else ""
            )
            out.append(f"- `{c.id}`: {_cell(c.summary)}.{permission}")
    return "\n".join(out) + "\n"
