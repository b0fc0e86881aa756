"""`diagnose run` for people: each check as it finishes, then the diagnosis, flutter-doctor style."""

from __future__ import annotations

from diagnose.model import CheckResult, Severity, Status
from diagnose.render import cause
from diagnose.render.safe import escaped
from diagnose.render.style import Styler
from diagnose.usecases.run import RunReport

ID_WIDTH = 18


def check_line(result: CheckResult, style: Styler) -> str:
    """One check as it finishes, ready for the terminal (escaped: see render/safe.py)."""
    return escaped(_check_line(result, style))


def _check_line(result: CheckResult, style: Styler) -> str:
    timing = (
        style(f" ({result.duration_ms / 1000:.2f} s)", fg="bright_black")
        if result.duration_ms
        else ""
    )
    lines = [f"{style.mark(result.status)} {result.id:<{ID_WIDTH}} {result.summary}{timing}"]
    for f in result.findings:
        colour = "red" if f.severity is Severity.FAIL else "yellow"
        lines.append(f"      {style(f.code, fg=colour)}: {f.message}")
    if result.limitation and result.limitation.permission:
        lines.append(f"      missing permission: {result.limitation.permission}")
    return "\n".join(lines)


def header(report_profile_name: str, topology: str | None) -> str:
    return escaped(_header(report_profile_name, topology))


def _header(report_profile_name: str, topology: str | None) -> str:
    return f"diagnose: checking profile {report_profile_name!r} (topology {topology or 'own'})"


def diagnosis_block(report: RunReport, style: Styler) -> str:
    """The diagnosis after the live check lines, ready for the terminal (escaped)."""
    return escaped(_diagnosis_block(report, style))


def _diagnosis_block(report: RunReport, style: Styler) -> str:
    out: list[str] = cause.text_section(report.diagnosis, style, seen_by=True)
    limits = report.limitations
    if limits:
        out.append(
            style("Could not decide (the tool's own access or reach, not your setup):", bold=True)
        )
        for result in limits:
            out.append(
                f" {style.mark(Status.ERROR)} {result.id}: {result.summary}.{cause.needs(result.limitation)}"
            )
    issues = len(report.diagnosis)
    if issues:
        out.append(style(f"{issues} issue{'s' if issues != 1 else ''} found.", bold=True))
    elif limits:
        out.append(
            style(
                "No issue found in what could be checked; some checks could not decide.", bold=True
            )
        )
    else:
        out.append(style("No issues found!", fg="green", bold=True))
    return "\n".join(out) + "\n"


def render(report: RunReport, style: Styler | None = None) -> str:
    style = style or Styler(False)
    lines = [_header(report.profile.name, report.profile.topology)]
    lines += [_check_line(c, style) for c in report.checks]
    return "\n".join(lines) + "\n\n" + _diagnosis_block(report, style)
