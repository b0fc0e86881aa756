"""The campaign's definition against the request: its kind, its dates, its personalization variables.

The kind and the window come from `diagnose.adobe.campaign` (`campaign_kind`,
`window_problem`), the same functions the `campaign.endpoint` and
`campaign.window` checks of `diagnose run` use: one definition of each rule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from diagnose.adobe.campaign import campaign_kind, window_problem
from diagnose.model import Finding, Severity
from diagnose.payload import variables

__all__ = ["campaign_kind", "compare", "window_problem"]


def compare(
    definition: dict[str, Any],
    request_kind: str | None,
    payload: dict[str, Any] | None,
    now: datetime,
) -> list[Finding]:
    """Findings from the campaign definition: window, kind against the endpoint, variables."""
    findings: list[Finding] = []
    name = definition.get("name") or definition.get("id") or "the campaign"
    problem = window_problem(definition, now)
    if problem:
        code, message = problem
        schedule = definition.get("schedule") or {}
        evidence = {
            "status": definition.get("status"),
            "startDate": schedule.get("startDate") if schedule.get("startDateEnabled") else None,
            "endDate": schedule.get("endDate") if schedule.get("endDateEnabled") else None,
            "now": now.isoformat(timespec="seconds"),
        }
        findings.append(Finding(code, f"campaign {name!r}: {message}", evidence=evidence))
    kind = campaign_kind(definition)
    if kind and request_kind and request_kind != kind:
        findings.append(
            Finding(
                "campaign.endpoint-mismatch",
                f"campaign {name!r} is a {kind} campaign but the request uses the "
                f"{request_kind} endpoint (/ajo/im/executions/{kind} is the right one)",
                evidence={"campaign_kind": kind, "endpoint_kind": request_kind},
            )
        )
    if payload is not None:
        findings.extend(_personalization(definition, kind or request_kind or "unitary", payload))
    return findings


def _personalization(
    definition: dict[str, Any], kind: str, payload: dict[str, Any]
) -> list[Finding]:
    used = variables.used_by(definition)
    findings = []
    for variable, missing in variables.missing(used, payload, kind).items():
        external_only = all(r.get("type") == "external" for r in missing.recipients)
        profile_from_store = variable.startswith("profile.") and not external_only
        where = (
            "the payload's context"
            if missing.indexes == [None]
            else ", ".join(f"recipients[{i}]" for i in missing.indexes)
        )
        findings.append(
            Finding(
                "payload.personalization-missing",
                f"the message uses {variable}, which is not in {where}"
                + (
                    " (Experience Platform may fill it from the profile)"
                    if profile_from_store
                    else ""
                ),
                severity=Severity.WARN if profile_from_store else Severity.FAIL,
                evidence={"variable": variable, "recipients": missing.indexes},
            )
        )
    return findings
