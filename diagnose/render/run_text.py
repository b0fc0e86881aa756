"""`diagnose run` for people, flutter-doctor style.

Every check in chain order (not the order they finished), then the diagnosis root
cause first, what could not be decided (each reason once, with the runbook that fixes
it), and last one closing block that fits a small screen: the root cause, the one fix
to do first, and what was not tested. That block is last so that an 80×24 terminal
shows it after the run; its rows are counted after the terminal's soft wrap, and a
command in it is never cut or wrapped by the tool.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass

from diagnose import remediation
from diagnose.model import CheckResult, DiagnosisEntry, Severity, Status
from diagnose.progress import width_of
from diagnose.render import cause, gate_text
from diagnose.render.safe import escaped
from diagnose.render.style import Styler
from diagnose.usecases.run import NotProven, NotTested, RunReport, Undecided

ID_WIDTH = 18


def _ran_as(result: CheckResult) -> str:
    """A check whose pass proves something of the diagnosing identity only names it in its
    evidence (`ran_as`), said on its line: "round trip succeeded" next to "role missing" is
    then not read as Cosmos DB's success."""
    who = result.evidence.get("ran_as")
    return f" (as {who})" if who and result.status is Status.PASS else ""


def _timing(result: CheckResult, style: Styler) -> str:
    if not result.duration_ms:
        return ""
    return style(f" ({result.duration_ms / 1000:.2f} s)", fg="bright_black")


def summary_line(result: CheckResult, style: Styler) -> str:
    """`[✓] id  summary (as …) (0.12 s)`: the first line of a check, unescaped."""
    return (
        f"{style.mark(result.status)} {result.id:<{ID_WIDTH}} "
        f"{result.summary}{_ran_as(result)}{_timing(result, style)}"
    )


def check_line(
    result: CheckResult, style: Styler, undecided_below: bool = False, proof: bool = False
) -> str:
    """A check and its findings, unescaped (the output path escapes once, last: render/safe.py);
    with `undecided_below`, a limitation's reason is left to the "Could not decide" (or, for a
    live proof not made, `proof`, "Not proven") section, which says each reason once."""
    if undecided_below and result.status is Status.ERROR:
        below = "not proven (below)" if proof else "could not decide (below)"
        shown = CheckResult(result.id, result.title, result.status, below)
        shown.duration_ms = result.duration_ms
        return summary_line(shown, style)
    lines = [summary_line(result, style)]
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


def _diagnosis_block(report: RunReport, style: Styler, columns: int, lines: int) -> str:
    """The diagnosis, what could not be decided and the closing block."""
    out: list[str] = cause.text_section(report.diagnosis, style, seen_by=True)
    if report.undecided:
        out.append(style("Could not decide:", bold=True))
        out += [_undecided(u, style) for u in report.undecided]
    if report.not_proven:
        out.append(style(NOT_PROVEN_HEADING, bold=True))
        out += [_not_proven(n, style) for n in report.not_proven]
    if out:
        out.append("")
    out.append(closing(report, style, columns, lines))
    return "\n".join(out) + "\n"


def _undecided(u: Undecided, style: Styler) -> str:
    needs = cause.needs(u.permission)
    text = f" {style.mark(Status.ERROR)} {', '.join(u.checks)}: {u.reason.rstrip('.')}.{needs}"
    if u.step is not None:
        text += "\n    " + cause.runbook_line(u.step)
    return text


NOT_PROVEN_HEADING = "Not proven (read and decided; the live proof needs a right the tool lacks):"


def _not_proven(n: NotProven, style: Styler) -> str:
    return (
        f" {style.mark(Status.ERROR)} {n.check}: {n.reason.rstrip('.')}."
        f"{cause.needs('; '.join(n.needs))}"
    )


def render(
    report: RunReport, style: Styler | None = None, columns: int = 80, lines: int = 24
) -> str:
    """The whole run for a terminal or a file: header, checks in chain order, diagnosis, closing,
    then what changed (`--what-changed`)."""
    style = style or Styler(False)
    out = [_header(report.profile.name, report.profile.topology)]
    proofs = {n.check for n in report.not_proven}
    out += [check_line(c, style, undecided_below=True, proof=c.id in proofs) for c in report.checks]
    out += gate_text.lines(report, style)  # --baseline, --horizon (issue 16)
    text = "\n".join(out) + "\n\n" + _diagnosis_block(report, style, columns, lines)
    if report.what_changed is not None:  # --what-changed, after the closing block
        from diagnose.render.timeline import render_text

        text += "\n" + render_text(report.what_changed, style)
    return text


# --- the closing block -------------------------------------------------------------------------
def rows(text: str, columns: int) -> int:
    """Rows `text` takes on a terminal `columns` wide, after its soft wrap."""
    plain = escaped(text)
    return sum(max(1, math.ceil(width_of(line) / max(1, columns))) for line in plain.split("\n"))


_COMMAND = re.compile(r"`((?:az|Connect-|Set-|Update-|New-|curl|diagnose) [^`]+)`")


@dataclass(frozen=True)
class Fix:
    """The first thing to do: what, in words, and the command that does it (when there is one)."""

    words: str
    commands: tuple[str, ...] = ()


def first_fix(entry: DiagnosisEntry) -> Fix | None:
    """The root cause's first remediation, its commands apart (never cut: they must paste).

    A remediation is prose lines and command lines (`remediation.is_command`): a prose line
    ending in ":" introduces the command lines right after it, which together are the fix to do
    first; a prose line may also quote a command in backticks.
    """
    if not entry.remediation:
        return None
    line = entry.remediation[0].strip()
    if remediation.is_command(line):
        return Fix("", (line,))
    if line.endswith(":"):
        following = []
        for next_line in entry.remediation[1:]:
            if not remediation.is_command(next_line.strip()):
                break
            following.append(next_line.strip())
        if following:
            return Fix(line[:-1].rstrip() + ":", tuple(following))
    match = _COMMAND.search(line)
    if match is None:
        return Fix(line)
    words = line[: match.start()] + line[match.end() :]
    words = re.sub(r"\(\s*\)", "", words)  # "(`command`)" leaves "()"
    words = re.sub(r"\(\s*[;,]\s*", "(", words)  # "(`command`; a note)"
    words = re.sub(r",?\s+(?:or|with|using)\s*(?=[).;]|$)", "", words)  # "…, or `command`)"
    words = re.sub(r"\s+([.,;:)])", r"\1", words)
    words = re.sub(r"\s{2,}", " ", words).strip()
    return Fix(words, (match.group(1),))


def closing(report: RunReport, style: Styler, columns: int = 80, lines: int = 24) -> str:
    """The last block: root cause, the fix to do first, what was not tested; fitted to the screen.

    Each version is tried from the most detailed to the shortest; the first whose rows
    (after soft wrap) fit in `lines - 1` is used. The command is in every version, whole.
    """
    budget = max(6, lines - 1)
    versions = [_closing(report, style, detail) for detail in (2, 1, 0)]
    for text in versions:
        if rows(text, columns) <= budget:
            return text
    return versions[-1]


def _closing(report: RunReport, style: Styler, detail: int) -> str:
    rule = style("─" * 40, fg="bright_black")
    out = [rule]
    fails = [e for e in report.diagnosis if e.severity is Severity.FAIL]
    warns = [e for e in report.diagnosis if e.severity is not Severity.FAIL]
    first = fails[0] if fails else warns[0] if warns else None
    if first is not None:
        label = "Root cause:" if fails else "Warning (nothing is broken by it now):"
        colour = "red" if fails else "yellow"
        out.append(f"{style(label, fg=colour, bold=True)} {first.title}  [{first.code}]")
        out += _fix_lines(first, style, detail)
        others = len(report.diagnosis) - 1
        if others and detail:
            out.append(f"Then: {others} more issue{'s' if others != 1 else ''} listed above.")
    out += _undecided_lines(report.undecided, style)
    out += [cause.not_proven(n.check, n.needs, first=True) for n in report.not_proven]
    out += _not_tested_lines(report.not_tested, style, detail)
    out.append(_verdict(report, fails, warns, style))
    return "\n".join(out)


def _fix_lines(entry: DiagnosisEntry, style: Styler, detail: int) -> list[str]:
    runbook, step, _title = cause.step_of(entry)
    where = f"runbook {runbook}, {step}" if step else f"runbook {runbook}"
    fix = first_fix(entry)
    if fix is None:
        return [f"{style('Fix first:', bold=True)} see {where} (diagnose runbook show {runbook})."]
    out: list[str] = []
    label = style(f"Fix first ({where}):", bold=True)
    if fix.words and (detail or not fix.commands):
        out.append(f"{label} {fix.words}")
    else:
        out.append(label)
    out += [f"  {command}" for command in fix.commands]
    return out


def _undecided_lines(undecided: list[Undecided], style: Styler) -> list[str]:
    if not undecided:
        return []
    label = style("Could not decide:", bold=True)
    checks = [c for u in undecided for c in u.checks]
    return [f"{label} {', '.join(checks)} (why, and the runbook: above)"]


def _not_tested_lines(not_tested: list[NotTested], style: Styler, detail: int) -> list[str]:
    if not not_tested:
        return []
    label = style("Not tested:", bold=True)
    named: Callable[[NotTested], str] = lambda n: (  # noqa: E731 - one line, used twice
        f"{n.check} ({n.how})" if n.how else n.check
    )
    if detail >= 2:
        return [
            f"{label} {named(n)}: {n.reason}" if not n.how else f"{label} {named(n)}"
            for n in not_tested
        ]
    return [f"{label} {', '.join(named(n) for n in not_tested)}"]


def _verdict(
    report: RunReport, fails: list[DiagnosisEntry], warns: list[DiagnosisEntry], style: Styler
) -> str:
    exit_status = int(report.exit_status)
    if fails or warns:
        counted = []
        if fails:
            counted.append(f"{len(fails)} issue{'s' if len(fails) != 1 else ''}")
        if warns:
            counted.append(f"{len(warns)} warning{'s' if len(warns) != 1 else ''}")
        text = f"{' and '.join(counted)} found"
    elif report.undecided:
        text = "No issue found in what could be decided; some checks could not decide"
    elif report.not_proven:
        ids = ", ".join(n.check for n in report.not_proven)
        text = f"No issue found in what was decided; not proven: {ids}"
    elif report.not_tested:
        text = "No issue found in what was tested (what was not: above)"
    else:
        return style(f"No issues found! (exit {exit_status})", fg="green", bold=True)
    return style(f"{text} (exit {exit_status}).", bold=True)
