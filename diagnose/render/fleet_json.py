"""`diagnose run --all --output json`: the diagnose/fleet@1 document (diagnose/schemas/fleet.json)."""

from __future__ import annotations

import json
from typing import Any

from diagnose import catalogue, diagnosis
from diagnose.render.run_json import check_to_json
from diagnose.render.style import Styler
from diagnose.usecases.fleet import AccountVerdict, FleetReport


def _account(v: AccountVerdict) -> dict[str, Any]:
    a = v.run.account
    report = v.run.report
    out: dict[str, Any] = {
        "id": a.id,
        "name": a.name,
        "subscription_id": a.subscription_id,
        "resource_group": a.resource_group,
        "status": v.status,
        "root_cause": v.root.code if v.root else None,
        "checks": [check_to_json(c) for c in report.checks] if report else [],
        "diagnosis": diagnosis.to_json(v.entries),
        "accepted": [acc.to_json() for _, acc in v.accepted],
        "expired": [acc.to_json() for _, acc in v.expired],
    }
    if v.reason:
        out["reason"] = v.reason
    return out


def to_json(report: FleetReport) -> dict[str, Any]:
    cat = catalogue.default()
    out: dict[str, Any] = {
        "schema": report.schema,
        "version": report.version,
        "catalogue": report.catalogue_version,
        "status": report.status,
        "exit_status": int(report.exit_status),
        "fail_on": str(report.fail_on),
        "started_at": report.started_at.isoformat(timespec="seconds"),
        "duration_ms": report.duration_ms,
        "scope": report.scope.to_json(),
        "inventory": {
            "accounts": len(report.inventory.accounts),
            "vaults": len(report.inventory.vaults),
            "queries": report.inventory.queries,
            "quota_wait_ms": int(report.inventory.waited_s * 1000),
        },
        "concurrency": report.concurrency,
        "summary": {
            "accounts": len(report.verdicts),
            "healthy": report.count("healthy"),
            "failing": report.count("failing"),
            "undecided": report.count("undecided"),
            "causes": [
                {
                    "code": c.code,
                    "title": c.title,
                    "severity": str(c.severity),
                    "accounts": c.accounts,
                    "root_of": c.root_of,
                    "runbook": cat.cause(c.code).ref.to_json(),
                }
                for c in report.causes
            ],
            "shared": [
                {
                    "code": s.code,
                    "title": s.title,
                    "message": s.message,
                    "kind": s.kind,
                    "resource": s.resource,
                    "name": s.name,
                    "accounts": list(s.accounts),
                    "runbook": cat.cause(s.code).ref.to_json(),
                }
                for s in report.shared
            ],
        },
        "accounts": [_account(v) for v in report.verdicts],
    }
    if report.pacer is not None:
        out["pacing"] = {
            "arm_wait_ms": int(report.pacer.waited_s * 1000),
            "arm_pauses": report.pacer.pauses,
        }
    if report.horizon is not None:
        from diagnose.fleet.gate import horizon_json

        out["horizon"] = horizon_json(report.horizon)
    if report.baseline is not None:
        out["baseline"] = {
            "file": str(report.baseline.path) if report.baseline.path else None,
            "written": report.baseline_written is not None,
            "entries": len(report.baseline.acceptances),
            "accepted": sum(len(v.accepted) for v in report.verdicts),
            "expired": sum(len(v.expired) for v in report.verdicts),
        }
    return out


def render(report: FleetReport, style: Styler | None = None) -> str:
    return json.dumps(to_json(report), indent=2, default=str) + "\n"
