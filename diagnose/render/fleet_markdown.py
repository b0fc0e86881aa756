"""`diagnose run --all --output markdown`: the fleet's summary and each account that is not healthy."""

from __future__ import annotations

from diagnose.render import cause
from diagnose.render.markdown import cell
from diagnose.render.style import Styler
from diagnose.usecases.fleet import FleetReport

ICONS = {"healthy": "✅", "failing": "❌", "undecided": "❔"}


def render(report: FleetReport, style: Styler | None = None) -> str:
    n = len(report.verdicts)
    out = [
        f"## diagnose run --all: {report.status.upper()}",
        "",
        f"{n} account(s) found by Azure Resource Graph, {report.started_at:%Y-%m-%d %H:%M:%S} UTC, "
        f"{report.duration_ms / 1000:.1f} s, diagnose {report.version}, catalogue {report.catalogue_version}.",
        "",
        f"| healthy | failing | undecided |\n|---|---|---|\n| {report.count('healthy')} | "
        f"{report.count('failing')} | {report.count('undecided')} |",
    ]
    if report.shared:
        out += ["", "### Shared root causes", ""]
        out += [
            f"- **{cell(s.message)}** (`{s.code}`): {', '.join(cell(a.rsplit('/', 1)[-1]) for a in s.accounts)}"
            for s in report.shared
        ]
    if report.causes:
        out += [
            "",
            "### Causes, by accounts hit",
            "",
            "| accounts | root cause of | cause |",
            "|---|---|---|",
        ]
        out += [
            f"| {c.accounts} | {c.root_of} | `{c.code}` {cell(c.title)} |" for c in report.causes
        ]
    if report.horizon is not None:
        seen = report.horizon
        out += ["", f"### Inside the horizon ({seen.span.total_seconds() / 86400:g} days)", ""]
        out += [f"- {cell(n.message)}: {n.concerns}" for n in seen.notices] or [
            "- nothing the sources show needs action"
        ]
        out += [f"- not looked at: {cell(reason)}" for reason in seen.limitations]
    for v in report.verdicts:
        if v.status == "healthy":
            continue
        out += ["", f"### {ICONS[v.status]} {cell(v.run.account.name)}", "", f"`{cell(v.id)}`", ""]
        if v.reason:
            out.append(f"Could not decide: {cell(v.reason)}")
        if v.entries:
            out += cause.markdown_section(v.entries, 4)
    return "\n".join(out) + "\n"
