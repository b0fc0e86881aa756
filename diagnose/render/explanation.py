"""Render `diagnose explain`: text for people, `diagnose/explain@1` JSON, Markdown."""

from __future__ import annotations

import json
from typing import Any

from diagnose import __version__
from diagnose.catalogue import Catalogue
from diagnose.diagnosis import to_json
from diagnose.model import DiagnosisEntry, Severity
from diagnose.render.style import Styler
from diagnose.triage.scanner import Match
from diagnose.usecases.explain import Explanation

SCHEMA = "diagnose/explain@1"
SHOWN = 5  # evidence lines shown per cause in text and Markdown


def status(explanation: Explanation) -> str:
    worst = explanation.worst()
    if worst in (Severity.FAIL, Severity.WARN):
        return str(worst)
    return "error" if explanation.problems else "pass"


def match_json(match: Match) -> dict[str, Any]:
    return {
        "code": match.code,
        "runbook": {"id": match.runbook, "step": match.step},
        "source": match.source,
        "line": match.line,
        "excerpt": match.excerpt,
        "signatures": list(match.signatures),
    }


def to_document(explanation: Explanation, catalogue: Catalogue) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "version": __version__,
        "catalogue": catalogue.version,
        "status": status(explanation),
        "inputs": explanation.inputs,
        "problems": explanation.problems,
        "counts": explanation.counts,
        "matches": [match_json(m) for m in explanation.matches],
        "diagnosis": to_json(explanation.diagnosis),
    }


def render_json(explanation: Explanation, catalogue: Catalogue) -> str:
    return json.dumps(to_document(explanation, catalogue), indent=2, ensure_ascii=False)


def _evidence(explanation: Explanation, code: str) -> tuple[list[Match], int]:
    found = [m for m in explanation.matches if m.code == code]
    return found[:SHOWN], explanation.counts.get(code, len(found))


def _step_title(entry: DiagnosisEntry, catalogue: Catalogue) -> str:
    runbook = catalogue.runbook(entry.step.runbook)
    step = runbook.step(entry.step.step) if entry.step.step else None
    where = f"step {step.number}: {step.title}" if step else runbook.title
    return f"{runbook.id}, {where}"


def _nothing(explanation: Explanation) -> str:
    where = ", ".join(explanation.inputs)
    if explanation.problems:
        return (
            f"Nothing recognised in what could be read of {where}; "
            "some input could not be read (see the messages above)."
        )
    return (
        f"Nothing recognised in {where}: no signature of the catalogue matched. "
        "The evidence may be elsewhere (system logs around the time of the failure), "
        "or the failure is not one this catalogue knows."
    )


def render_text(explanation: Explanation, catalogue: Catalogue, style: Styler) -> str:
    if not explanation.diagnosis:
        return _nothing(explanation)
    n = len(explanation.diagnosis)
    out = [style(f"{n} cause{'s' if n > 1 else ''} recognised, root cause first:", bold=True)]
    for number, entry in enumerate(explanation.diagnosis, 1):
        colour = "red" if entry.severity is Severity.FAIL else "yellow"
        out.append("")
        out.append(f" {number}. {style(entry.title, fg=colour, bold=True)}  [{entry.code}]")
        shown, total = _evidence(explanation, entry.code)
        for m in shown:
            out.append(f"    {style(f'{m.source}:{m.line}', fg='bright_black')}  {m.excerpt}")
        if total > len(shown):
            out.append(f"    … and {total - len(shown)} more")
        out.append(
            f"    Runbook {_step_title(entry, catalogue)}  "
            f"(diagnose runbook show {entry.step.runbook})"
        )
        out += [f"    -> {line}" for line in entry.remediation]
    return "\n".join(out)


def render_markdown(explanation: Explanation, catalogue: Catalogue) -> str:
    out = ["# diagnose explain", ""]
    out.append(f"Inputs: {', '.join(f'`{i}`' for i in explanation.inputs)}")
    out.append("")
    if not explanation.diagnosis:
        out.append(_nothing(explanation))
    for number, entry in enumerate(explanation.diagnosis, 1):
        out.append(f"## {number}. {entry.title} (`{entry.code}`, {entry.severity})")
        out.append("")
        out.append(f"Runbook: {_step_title(entry, catalogue)}")
        out.append("")
        shown, total = _evidence(explanation, entry.code)
        for m in shown:
            excerpt = m.excerpt.replace("`", "'")
            out.append(f"- `{m.source}:{m.line}`: `{excerpt}`")
        if total > len(shown):
            out.append(f"- … and {total - len(shown)} more")
        out.append("")
        out.append("What to do:")
        out.append("")
        out += [f"1. {line}" for line in entry.remediation]
        out.append("")
    if explanation.problems:
        out.append("## Inputs not read in full")
        out.append("")
        out += [f"- {p}" for p in explanation.problems]
    return "\n".join(out).rstrip() + "\n"
