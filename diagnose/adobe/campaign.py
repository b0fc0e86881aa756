"""Reading a campaign definition: its kind (which execution endpoint) and its live window."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from diagnose.answers import Fields

KINDS = ("unitary", "highthroughput", "audience")


def check_campaign_shape(definition: Fields) -> None:
    """A campaign definition worth reading: its `status` present, and every field the checks read
    of the type Adobe documents (MalformedAnswer otherwise: `{}` is not a live campaign)."""
    definition.text("status")
    definition.opt_text("apiTriggerType")
    definition.opt_flag("highThroughput")
    definition.opt_text("name")
    definition.opt_text("id")
    schedule = definition.opt_obj("schedule")
    if schedule is not None:
        for name in ("startDate", "endDate"):
            schedule.opt_text(name)
        for name in ("startDateEnabled", "endDateEnabled"):
            schedule.opt_flag(name)
    personalization = definition.opt_obj("personalization")
    if personalization is not None:
        personalization.opt_texts("profile")
        personalization.opt_texts("context")


def campaign_kind(definition: dict[str, Any]) -> str | None:
    """unitary, highthroughput or audience; None when the definition does not say."""
    trigger_type = str(definition.get("apiTriggerType") or "").lower()
    if trigger_type == "marketing":
        return "audience"
    if trigger_type == "transactional":
        return "highthroughput" if definition.get("highThroughput") else "unitary"
    return None


def _instant(value: object) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def window_problem(definition: dict[str, Any], now: datetime) -> tuple[str, str] | None:
    """(cause code, message) when the campaign cannot execute now; None when it can."""
    status = str(definition.get("status") or "").lower()
    if status and status != "live":
        return (
            "campaign.not-live",
            f"the campaign's status is {definition.get('status')!r}, not live",
        )
    schedule = definition.get("schedule") or {}
    start = _instant(schedule.get("startDate")) if schedule.get("startDateEnabled", True) else None
    end = _instant(schedule.get("endDate")) if schedule.get("endDateEnabled", True) else None
    if start and now < start:
        return (
            "campaign.outside-window",
            f"the campaign starts on {start:%Y-%m-%d %H:%M} UTC; now is before it",
        )
    if end and now > end:
        return (
            "campaign.outside-window",
            f"the campaign ended on {end:%Y-%m-%d %H:%M} UTC; now is after it",
        )
    return None
