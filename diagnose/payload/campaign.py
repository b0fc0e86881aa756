"""The campaign's definition against the request: its kind, its dates, its personalization variables.

`campaign_kind` and `window_problem` are shared with the `campaign.endpoint` and
`campaign.window` checks of `diagnose run`: one definition of each rule.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from diagnose.model import Finding, Severity
from diagnose.payload import variables


def campaign_kind(definition: dict[str, Any]) -> str:
    """unitary, highthroughput or audience, from a campaign definition.

    `apiTriggerType: marketing` is an audience campaign; a transactional one
    with `highThroughput: true` is high-throughput; any other is unitary.
    """
    if str(definition.get("apiTriggerType", "")).lower() == "marketing":
        return "audience"
    if definition.get("highThroughput") is True:
        return "highthroughput"
    return "unitary"


def parse_time(value: Any) -> datetime | None:
    """An ISO-8601 time as the campaigns API writes it (`...Z`), timezone-aware; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def window(definition: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """The enabled start and end dates of the campaign's schedule (None when not set)."""
    schedule = definition.get("schedule") or {}
    start = parse_time(schedule.get("startDate")) if schedule.get("startDateEnabled") else None
    end = parse_time(schedule.get("endDate")) if schedule.get("endDateEnabled") else None
    return start, end


def window_problem(definition: dict[str, Any], now: datetime) -> str | None:
    """`campaign.not-live`, `campaign.outside-window`, or None when a call now may execute."""
    if str(definition.get("status", "")).lower() != "live":
        return "campaign.not-live"
    start, end = window(definition)
    if (start and now < start) or (end and now > end):
        return "campaign.outside-window"
    return None


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
    if problem == "campaign.not-live":
        findings.append(
            Finding(
                problem,
                f"campaign {name!r} is {definition.get('status') or 'without a status'}, not live",
                evidence={"status": definition.get("status")},
            )
        )
    elif problem == "campaign.outside-window":
        start, end = window(definition)
        findings.append(
            Finding(
                problem,
                f"now ({_iso(now)}) is outside campaign {name!r}'s dates "
                f"({_iso(start) if start else 'no start'} to {_iso(end) if end else 'no end'})",
                evidence={
                    "now": _iso(now),
                    "start": _iso(start) if start else None,
                    "end": _iso(end) if end else None,
                },
            )
        )
    kind = campaign_kind(definition)
    if request_kind and request_kind != kind:
        findings.append(
            Finding(
                "campaign.endpoint-mismatch",
                f"campaign {name!r} is a {kind} campaign but the request uses the "
                f"{request_kind} endpoint (/ajo/im/executions/{kind} is the right one)",
                evidence={"campaign_kind": kind, "endpoint_kind": request_kind},
            )
        )
    if payload is not None:
        findings.extend(_personalization(definition, kind, payload))
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
            "the payload"
            if missing.indexes == [None]
            else "recipient(s) " + ", ".join(str(i) for i in missing.indexes)
        )
        findings.append(
            Finding(
                "payload.personalization-missing",
                f"the message uses {variable} but {where} do not carry it"
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


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
