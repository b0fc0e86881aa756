"""`diagnose run --output json`: the diagnose/report@1 document of docs/design.md."""

from __future__ import annotations

import json
from typing import Any

from diagnose import catalogue, diagnosis
from diagnose.model import CheckResult
from diagnose.render.style import Styler
from diagnose.usecases.run import RunReport


def check_to_json(result: CheckResult) -> dict[str, Any]:
    cat = catalogue.default()
    out: dict[str, Any] = {
        "id": result.id,
        "title": result.title,
        "status": str(result.status),
        "summary": result.summary,
        "duration_ms": result.duration_ms,
        "findings": [
            {
                "code": f.code,
                "severity": str(f.severity),
                "message": f.message,
                "evidence": f.evidence,
                "runbook": cat.cause(f.code).ref.to_json(),
            }
            for f in result.findings
        ],
        "evidence": result.evidence,
    }
    if result.limitation:
        out["limitation"] = {
            "reason": result.limitation.reason,
            "permission": result.limitation.permission,
        }
    return out


def to_json(report: RunReport) -> dict[str, Any]:
    document = {
        "schema": report.schema,
        "version": report.version,
        "catalogue": report.catalogue_version,
        "status": report.status,
        "exit_status": int(report.exit_status),
        "profile": report.profile.public(),
        "started_at": report.started_at.isoformat(timespec="seconds"),
        "duration_ms": report.duration_ms,
        "checks": [check_to_json(c) for c in report.checks],
        "diagnosis": diagnosis.to_json(report.diagnosis),
        "not_proven": [
            {"check": n.check, "reason": n.reason, "needs": list(n.needs)}
            for n in report.not_proven
        ],
        **(report.gate.to_json() if report.gate else {}),  # baseline, horizon (fleet/gate.py)
    }
    if report.what_changed is not None:
        from diagnose.render.timeline import section_json

        document["what_changed"] = section_json(report.what_changed)
    return document


def render(report: RunReport, style: Styler | None = None) -> str:
    return json.dumps(to_json(report), indent=2, default=str) + "\n"
