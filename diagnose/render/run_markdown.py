"""`diagnose run --output markdown`: pasteable into an incident ticket."""

from __future__ import annotations

from diagnose.render import cause
from diagnose.render.markdown import cell
from diagnose.render.style import Styler
from diagnose.usecases.run import RunReport

ICONS = {"pass": "✅", "warn": "⚠️", "fail": "❌", "skip": "⏭️", "error": "❔"}


def render(report: RunReport, style: Styler | None = None) -> str:
    out = [
        f"## diagnose run: {report.status.upper()}",
        "",
        f"Profile `{report.profile.name}` (topology {report.profile.topology or 'own'}), "
        f"{report.started_at:%Y-%m-%d %H:%M:%S} UTC, {report.duration_ms / 1000:.1f} s, "
        f"diagnose {report.version}, catalogue {report.catalogue_version}.",
        "",
    ]
    if report.diagnosis:
        out += [*cause.markdown_section(report.diagnosis, 3), ""]
    out += ["### Checks", "", "| | check | result |", "|---|---|---|"]
    for c in report.checks:
        out.append(f"| {ICONS[c.status.value]} | `{c.id}` | {cell(c.summary)} |")
    if report.undecided:
        out += ["", "### Could not decide", ""]
        for u in report.undecided:
            needs = cause.needs(u.permission, cell)
            ids = ", ".join(f"`{c}`" for c in u.checks)
            line = f"- {ids}: {cell(u.reason.rstrip('.'))}.{needs}"
            if u.step is not None:
                line += f" {cell(cause.runbook_line(u.step))}"
            out.append(line)
    if report.not_proven:
        out += ["", "### Not proven", ""]
        for proof in report.not_proven:
            line = cause.not_proven(proof.check, proof.needs, lambda c: f"`{c}`", cell, first=True)
            out.append(f"- {line}: {cell(proof.reason.rstrip('.'))}.")
    if report.not_tested:
        out += ["", "### Not tested", ""]
        for n in report.not_tested:
            out.append(f"- `{n.check}`: {cell(n.how or n.reason)}")
    if report.what_changed is not None:
        from diagnose.render.timeline import render_markdown

        out += ["", render_markdown(report.what_changed).rstrip("\n")]
    return "\n".join(out) + "\n"
