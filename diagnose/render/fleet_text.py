"""`diagnose run --all` in text: the summary (counts, shared root causes said once, causes ranked
by accounts hit), then each account that is not healthy with its diagnosis, root cause first."""

from __future__ import annotations

from diagnose import catalogue
from diagnose.model import Status
from diagnose.render import cause
from diagnose.render.gate_text import horizon_lines
from diagnose.render.style import Styler
from diagnose.usecases.fleet import FleetReport

MARK = {"healthy": Status.PASS, "failing": Status.FAIL, "undecided": Status.ERROR}


def render(report: FleetReport, style: Styler | None = None) -> str:
    style = style or Styler(False)
    inv = report.inventory
    n = len(report.verdicts)
    out = [
        f"diagnose: {n} Cosmos DB account(s) with a customer-managed key found by Azure Resource "
        f"Graph ({inv.queries} quer{'y' if inv.queries == 1 else 'ies'}), checked "
        f"{report.concurrency} at a time in {report.duration_ms / 1000:.1f} s",
        f"  healthy {report.count('healthy')} · failing {report.count('failing')} · "
        f"undecided {report.count('undecided')}",
    ]
    if report.shared:
        out += ["", style("Shared root causes", bold=True)]
        for s in report.shared:
            out.append(f"  {style(s.message, fg='red', bold=True)}  [{s.code}]")
            out.append(f"    {', '.join(a.rsplit('/', 1)[-1] for a in s.accounts)}")
            out.append(f"    {cause.runbook_line(catalogue.default().cause(s.code).ref)}")
    if report.causes:
        out += ["", style("Causes, by accounts hit", bold=True)]
        for c in report.causes:
            root = f" (root cause of {c.root_of})" if c.root_of else ""
            out.append(f"  {c.accounts:>5}  {c.code}: {c.title}{root}")
    if report.horizon is not None:
        out += horizon_lines(report.horizon, style, concerns=True)
    shown = [v for v in report.verdicts if v.status != "healthy" or v.accepted]
    if shown:
        out += ["", style("Accounts", bold=True)]
    for v in shown:
        account = v.run.account
        out.append(
            f"{style.mark(MARK[v.status])} {account.name}  ({account.subscription_id} / {account.resource_group})"
        )
        if v.status == "undecided" and v.reason:
            out.append(f"    undecided: {v.reason}")
        for number, entry in enumerate(v.entries, 1):
            out.append(cause.text(entry, number, style))
        for entry, acceptance in v.expired:
            out.append(f"    {entry.code}: its baseline acceptance expired on {acceptance.expires}")
        for entry, acceptance in v.accepted:
            until = f" until {acceptance.expires}" if acceptance.expires else ""
            out.append(f"    accepted by the baseline{until}: {entry.code} ({acceptance.reason})")
    out.append("")
    if report.baseline_written:
        out.append(
            f"Baseline written to {report.baseline_written} ({len(report.baseline.acceptances) if report.baseline else 0} finding(s))."
        )
    status = int(report.exit_status)
    if report.count("failing"):
        out.append(f"{report.count('failing')} of {n} accounts failing (exit {status}).")
    elif report.count("undecided"):
        out.append(
            f"{report.count('undecided')} of {n} accounts could not be decided (exit {status})."
        )
    else:
        out.append(f"No account failing (exit {status}).")
    return "\n".join(out) + "\n"
