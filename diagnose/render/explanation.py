"""Render `diagnose explain`: text for people, `diagnose/explain@1` JSON, Markdown."""

from __future__ import annotations

import json
from typing import Any

from diagnose import __version__
from diagnose.diagnosis import to_json
from diagnose.model import Severity
from diagnose.render import cause
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


def to_document(explanation: Explanation) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "version": __version__,
        "catalogue": explanation.catalogue,
        "status": status(explanation),
        "inputs": explanation.inputs,
        "problems": explanation.problems,
        "counts": explanation.counts,
        "matches": [match_json(m) for m in explanation.matches],
        "diagnosis": to_json(explanation.diagnosis),
    }


def render_json(explanation: Explanation, style: Styler | None = None) -> str:
    return json.dumps(to_document(explanation), indent=2, ensure_ascii=False)


def _evidence(explanation: Explanation, code: str) -> tuple[list[Match], int]:
    found = [m for m in explanation.matches if m.code == code]
    return found[:SHOWN], explanation.counts.get(code, len(found))


def _more(shown: list[Match], total: int) -> list[str]:
    return [f"… and {total - len(shown)} more"] if total > len(shown) else []


def _code_span(text: str) -> str:
    return text.replace("`", "'")


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


def render_text(explanation: Explanation, style: Styler | None = None) -> str:
    """Each cause with the lines that show it (the first few), root cause first."""
    style = style or Styler(False)
    if not explanation.diagnosis:
        return _nothing(explanation)
    evidence: dict[str, list[str]] = {}
    for entry in explanation.diagnosis:
        shown, total = _evidence(explanation, entry.code)
        evidence[entry.code] = [
            f"{style(f'{m.source}:{m.line}', fg='bright_black')}  {m.excerpt}" for m in shown
        ] + _more(shown, total)
    return "\n".join(cause.text_section(explanation.diagnosis, style, evidence=evidence))


def render_markdown(explanation: Explanation, style: Styler | None = None) -> str:
    out = ["# diagnose explain", ""]
    out.append(f"Inputs: {', '.join(f'`{i}`' for i in explanation.inputs)}")
    out.append("")
    if not explanation.diagnosis:
        out.append(_nothing(explanation))
    evidence: dict[str, list[str]] = {}
    for entry in explanation.diagnosis:
        shown, total = _evidence(explanation, entry.code)
        evidence[entry.code] = [
            f"`{m.source}:{m.line}`: `{_code_span(m.excerpt)}`" for m in shown
        ] + _more(shown, total)
    out += cause.markdown_section(explanation.diagnosis, 2, evidence=evidence)
    if explanation.problems:
        out += ["", "## Inputs not read in full", ""]
        out += [f"- {p}" for p in explanation.problems]
    return "\n".join(out).rstrip() + "\n"
