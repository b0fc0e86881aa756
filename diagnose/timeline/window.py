"""`--since`: an ISO 8601 time or a duration back from now (`7d`, `12h`, `90m`)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from diagnose.errors import InputError

DEFAULT_SINCE = "7d"
_DURATION = re.compile(r"^(\d+)\s*([dhm])$", re.I)
_UNIT = {"d": "days", "h": "hours", "m": "minutes"}


def parse_since(text: str, now: datetime) -> datetime:
    """The start of the window; InputError naming the value when it is neither form."""
    raw = text.strip()
    m = _DURATION.match(raw)
    if m:
        return now - timedelta(**{_UNIT[m.group(2).lower()]: int(m.group(1))})
    try:
        when = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(
            f"--since {text!r} is neither an ISO 8601 time (2026-01-31T02:00:00Z) "
            "nor a duration (7d, 12h, 90m)"
        ) from None
    when = when if when.tzinfo else when.replace(tzinfo=UTC)
    if when >= now:
        raise InputError(f"--since {text!r} is not in the past")
    return when.astimezone(UTC)


def window_end(now: datetime | None = None) -> datetime:
    """The end of a window that reaches the present: now, rounded up to the whole second.

    The sources are asked with `iso()`, which keeps whole seconds; a window ending at
    12:00:04.7 asked as `le 12:00:04Z` would drop what happened in the last 0.7 s.
    """
    now = (now or datetime.now(UTC)).astimezone(UTC)
    whole = now.replace(microsecond=0)
    return whole if whole == now else whole + timedelta(seconds=1)


def iso(when: datetime) -> str:
    """UTC, seconds, `Z` (as the services and KQL's datetime() read it)."""
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object) -> datetime | None:
    """An ISO 8601 text (or a datetime) as an aware UTC datetime; None when it is not one."""
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not isinstance(value, str) or not re.match(r"\d{4}-\d{2}-\d{2}", value):
        return None
    text = value.strip().replace("Z", "+00:00").replace(" ", "T")
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)  # Python reads at most microseconds
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
