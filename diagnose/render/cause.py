"""One cause, shown the same way by every command: the one place that decides how a cause looks.

A cause is a diagnosis entry: its title and code, what was seen (the message, or the
evidence lines a caller gives), the runbook step that fixes it, and what to do. `text`
is for terminals (and the failure message of a JUnit test case), `markdown` for
tickets. `run`, `explain`, `payload`, `delays` and `runbook walk` all print causes
through these functions; to reshape a cause, change it here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from diagnose import catalogue as catalogues
from diagnose import remediation
from diagnose.model import DiagnosisEntry, Finding, Limitation, Severity, StepRef
from diagnose.render.markdown import cell
from diagnose.render.style import Styler

TEXT_HEADING = "Diagnosis, root cause first:"
MARKDOWN_HEADING = "Diagnosis (root cause first)"


def entries_of(findings: Iterable[tuple[str, Finding]]) -> list[DiagnosisEntry]:
    """One entry per cause code, in the order met, for callers that hold findings, not a diagnosis
    (a JUnit test case, a walk step): every finding counts, informational ones too."""
    from diagnose import diagnosis

    return diagnosis.build(
        findings, catalogues.default(), rank=lambda _source: 0, min_severity=Severity.INFO
    )


def step_of(entry: DiagnosisEntry) -> tuple[str, str | None, str]:
    """(runbook id, "step N" or None, the step's title, or the runbook's when no step is named)."""
    return _ref(entry.step)


def _ref(ref: StepRef) -> tuple[str, str | None, str]:
    runbook = catalogues.default().runbook(ref.runbook)
    step = runbook.step(ref.step) if ref.step else None
    if step is None:
        return runbook.id, None, runbook.title
    return runbook.id, f"step {step.number}", step.title


def runbook_line(ref: StepRef) -> str:
    """`Runbook ID, step N: title  (diagnose runbook show ID)`."""
    runbook, step, title = _ref(ref)
    where = f"{step}: {title}" if step else title
    return f"Runbook {runbook}, {where}  (diagnose runbook show {runbook})"


def text(
    entry: DiagnosisEntry,
    number: int,
    style: Styler | None = None,
    *,
    evidence: Sequence[str] | None = None,
    seen_by: bool = False,
) -> str:
    """One cause for a terminal:

    1. Title  [code]
       what was seen (the message, or `evidence`, one line each)
       Runbook ID, step N: step title  (diagnose runbook show ID)
       -> what to do, one line each
       seen by: the checks or inputs that raised it (with `seen_by`)
    """
    style = style or Styler(False)
    colour = "red" if entry.severity is Severity.FAIL else "yellow"
    out = [f" {number}. {style(entry.title, fg=colour, bold=True)}  [{entry.code}]"]
    seen = list(evidence) if evidence is not None else [entry.message] if entry.message else []
    out += [f"    {line}" for line in seen]
    out.append(f"    {runbook_line(entry.step)}")
    out += remediation.display_lines(entry.remediation)  # commands alone on their lines
    if seen_by and entry.checks:
        out.append(style(f"    seen by: {', '.join(entry.checks)}", fg="bright_black"))
    return "\n".join(out)


def text_section(
    entries: Sequence[DiagnosisEntry],
    style: Styler | None = None,
    *,
    evidence: dict[str, list[str]] | None = None,
    seen_by: bool = False,
) -> list[str]:
    """The heading and every cause, root cause first; nothing when there is no cause.

    `evidence` maps a cause code to the lines shown instead of its message."""
    if not entries:
        return []
    style = style or Styler(False)
    out = [style(TEXT_HEADING, bold=True)]
    for n, entry in enumerate(entries, 1):
        lines = (evidence or {}).get(entry.code)
        out.append(text(entry, n, style, evidence=lines, seen_by=seen_by))
    return out


def markdown(entry: DiagnosisEntry, number: int, *, evidence: Sequence[str] | None = None) -> str:
    """One cause for a ticket:

    1. **Title** (`code`): runbook `ID`, step N, step title
       - what was seen (the message, or `evidence`, already Markdown)
       - To do: what to do, one item each
    """
    runbook, step, title = step_of(entry)
    where = f"{step}, {cell(title)}" if step else cell(title)
    out = [f"{number}. **{cell(entry.title)}** (`{entry.code}`): runbook `{runbook}`, {where}"]
    seen = (
        list(evidence) if evidence is not None else [cell(entry.message)] if entry.message else []
    )
    out += [f"   - {line}" for line in seen]
    out += [f"   - To do: {cell(r)}" for r in entry.remediation]
    return "\n".join(out)


def markdown_section(
    entries: Sequence[DiagnosisEntry],
    level: int = 3,
    *,
    evidence: dict[str, list[str]] | None = None,
) -> list[str]:
    """The heading (at Markdown heading `level`) and every cause; nothing when there is no cause."""
    if not entries:
        return []
    out = [f"{'#' * level} {MARKDOWN_HEADING}", ""]
    out += [
        markdown(entry, n, evidence=(evidence or {}).get(entry.code))
        for n, entry in enumerate(entries, 1)
    ]
    return out


def needs(limitation: Limitation | str | None, quote: Callable[[str], str] = str) -> str:
    """ " Needs: RIGHT." after a limitation caused by a right the diagnosing identity lacks, else "".

    `limitation` is the limitation or its right (`permission`); `quote` escapes the right
    (Markdown's `cell`)."""
    right = limitation.permission if isinstance(limitation, Limitation) else limitation
    return f" Needs: {quote(right)}." if right else ""


def not_proven(
    check: str,
    needs: Sequence[str],
    code: Callable[[str], str] = str,
    escape: Callable[[str], str] = str,
    *,
    first: bool = False,
) -> str:
    """`not proven: CHECK (needs RIGHT)`: a live proof the diagnosing identity may not make.

    `code` shows the check id (Markdown: in backticks), `escape` the rights (Markdown's `cell`);
    `first` starts a line ("Not proven: …")."""
    label = "Not proven" if first else "not proven"
    return f"{label}: {code(check)} (needs {escape('; '.join(needs))})"
