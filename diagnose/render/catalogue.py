"""Render the catalogue: `diagnose runbook list` and `diagnose runbook show ID`."""

from __future__ import annotations

import json
from typing import Any

from diagnose.catalogue import Catalogue, Runbook
from diagnose.render.style import Styler


def runbook_summary(runbook: Runbook) -> dict[str, Any]:
    return {
        "id": runbook.id,
        "title": runbook.title,
        "summary": runbook.summary,
        "steps": len(runbook.steps),
        "causes": len(runbook.causes),
    }


def runbook_json(runbook: Runbook) -> dict[str, Any]:
    return {
        "schema": "diagnose/runbook@1",
        "id": runbook.id,
        "title": runbook.title,
        "summary": runbook.summary,
        "sources": list(runbook.sources),
        "steps": [
            {
                "step": s.number,
                "title": s.title,
                "checks": list(s.checks),
                "fixes": [
                    {"id": f.id, "title": f.title, "permission": f.permission} for f in s.fixes
                ],
                "text": s.text,
            }
            for s in runbook.steps
        ],
        "causes": [
            {
                "code": c.code,
                "step": c.step,
                "severity": str(c.severity),
                "title": c.title,
                "remediation": list(c.remediation),
                "signatures": [dict(sig) for sig in c.signatures],
            }
            for c in runbook.causes
        ],
    }


def render_list_json(catalogue: Catalogue, style: Styler | None = None) -> str:
    document = {
        "schema": "diagnose/catalogue@1",
        "catalogue": catalogue.version,
        "runbooks": [runbook_summary(r) for r in catalogue.runbooks.values()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def render_list_text(catalogue: Catalogue, style: Styler | None = None) -> str:
    style = style or Styler(False)
    width = max((len(r) for r in catalogue.runbooks), default=0)
    out = [style(f"Runbooks (catalogue {catalogue.version}):", bold=True)]
    for r in catalogue.runbooks.values():
        counts = f"{_count(len(r.steps), 'step')}, {_count(len(r.causes), 'cause')}"
        out.append(f"  {r.id:<{width}}  {r.title}  {style(f'({counts})', fg='bright_black')}")
    out.append("")
    out.append("Show one with: diagnose runbook show ID")
    return "\n".join(out)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def render_show_json(runbook: Runbook, style: Styler | None = None) -> str:
    return json.dumps(runbook_json(runbook), indent=2, ensure_ascii=False)


def render_show_text(runbook: Runbook, style: Styler | None = None) -> str:
    style = style or Styler(False)
    out = [style(runbook.title, bold=True) + f"  [{runbook.id}]"]
    if runbook.summary:
        out += ["", runbook.summary]
    for step in runbook.steps:
        out += ["", style(f"Step {step.number} — {step.title}", bold=True)]
        if step.text:
            out += [f"  {line}" if line else "" for line in step.text.splitlines()]
        if step.checks:
            out.append(style(f"  proved by: {', '.join(step.checks)}", fg="bright_black"))
        for fix in step.fixes:
            out.append(f"  fix `{fix.id}`: {fix.title} (needs {fix.permission})")
        causes = [c for c in runbook.causes if c.step == step.number]
        if causes:
            out.append("  causes:")
            out += [f"    - {c.code} ({c.severity}): {c.title}" for c in causes]
    if runbook.sources:
        out += ["", "Sources:"] + [f"  {s}" for s in runbook.sources]
    return "\n".join(out)
