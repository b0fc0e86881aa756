"""A record's own time: the first timestamp it holds, in the forms logs write them.

Forms: ISO 8601 with or without zone (`2026-11-26T03:04:05.123Z`, `2026-11-26
03:04:05,123`, Azure Monitor's `TimeGenerated` with seven fraction digits), epoch
seconds or milliseconds in a time-named field (`"ts": 1764126245`) or at the start
of a line, syslog (`Nov 26 03:04:05`, no year), Java's `Nov 26, 2026 3:04:05 AM` and
log4j's `26 Nov 2026 03:04:05,123`, the US form of .NET and of the Azure portal's
exports (`11/26/2026, 3:04:05.123 AM`), and the common log format (`26/Nov/2026:
03:04:05 +0000`). A time without a zone is UTC (as in `diagnose delays`). A syslog
time takes the year it is given (the file's modification year), or the year before
when that would put it more than two days after the file was last written.

`locate` finds where the first timestamp of a text starts and in which form; it only
looks at the shape of the text (digits as digits), so texts the verdict cache gives
one key share its answer. `parse_at` reads the time there; an impossible date (month
13) is no time at all, rather than the next timestamp of the record.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass

_MON = r"(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)"
_FRACTION = r"(?:[.,](?P<f>\d{1,9}))?"
_FORMS: dict[str, str] = {
    "iso": (
        r"(?<![\d/])(?P<y>\d{4})[-/](?P<mo>\d\d)[-/](?P<d>\d\d)[T ](?P<h>\d\d):(?P<mi>\d\d)"
        r":(?P<s>\d\d)" + _FRACTION + r"(?P<z>\s?(?:z|utc|gmt|[+-]\d\d(?::?\d\d)?(?!\d)))?"
    ),
    "java": (
        r"(?<![a-z])" + _MON + r"[a-z]*\s(?P<d>\d{1,2}),\s(?P<y>\d{4})\s(?P<h>\d{1,2}):(?P<mi>\d\d)"
        r":(?P<s>\d\d)\s?(?P<ampm>am|pm)"
    ),
    "log4j": (
        r"(?<!\d)(?P<d>\d{1,2})\s" + _MON + r"[a-z]*\s(?P<y>\d{4})\s(?P<h>\d\d):(?P<mi>\d\d)"
        r":(?P<s>\d\d)" + _FRACTION
    ),
    "clf": (
        r"(?<!\d)(?P<d>\d\d)/" + _MON + r"/(?P<y>\d{4}):(?P<h>\d\d):(?P<mi>\d\d):(?P<s>\d\d)"
        r"\s(?P<z>[+-]\d{4})"
    ),
    "us": (
        r"(?<![\d/])(?P<mo>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4}),?\s(?P<h>\d{1,2}):(?P<mi>\d\d)"
        r":(?P<s>\d\d)" + r"(?:\.(?P<f>\d{1,9}))?(?:\s?(?P<ampm>am|pm))?"
    ),
    "syslog": (
        r"(?<![a-z])" + _MON + r"\s{1,2}(?P<d>\d{1,2})(?:\s(?P<y>\d{4}))?\s(?P<h>\d\d):(?P<mi>\d\d)"
        r":(?P<s>\d\d)" + r"(?:\.(?P<f>\d{1,6}))?(?!\d)"
    ),
    "epoch": (
        r"(?<![a-z0-9_])\"?(?:@?timestamp|time|ts|eventtime|timegenerated|datetime|date|logtime|_time)"
        r"\\?\"?\s{0,3}[:=]\s{0,3}\\?\"?(?P<e>\d{10}(?:\d{3})?)(?:\.(?P<f>\d{1,9}))?(?![\d.])"
    ),
    "epoch_line": r"(?m)^\[?(?P<e>\d{10}(?:\d{3})?)(?:\.(?P<f>\d{1,9}))?(?![\d.])",
}
_FLAGS = re.IGNORECASE
FORMS = {name: re.compile(pattern.encode(), _FLAGS) for name, pattern in _FORMS.items()}
_ANY = re.compile(
    "|".join(
        f"(?P<{name}>{re.sub(r'[(][?]P<[a-z]+>', '(?:', pattern.replace('(?m)', ''))})"
        for name, pattern in _FORMS.items()
    ).encode(),
    _FLAGS | re.MULTILINE,
)
_MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m for m in [m.lower()]}
_EARLIEST = calendar.timegm((1990, 1, 1, 0, 0, 0))
_LATEST = calendar.timegm((2100, 1, 1, 0, 0, 0))
_ROLLOVER_S = 2 * 86400


@dataclass(frozen=True)
class YearHint:
    """Where a syslog time's year comes from: a file's modification time (epoch seconds)."""

    year: int
    modified: float


def locate(text: bytes) -> tuple[str, int] | None:
    """(form, start offset) of the first timestamp in `text`, or None."""
    m = _ANY.search(text)
    if m is None or m.lastgroup is None:
        return None
    return m.lastgroup, m.start()


def parse_at(
    text: bytes, where: tuple[str, int], hint: YearHint | None = None
) -> tuple[float, bool] | None:
    """(epoch seconds UTC, whether the year was assumed) of the timestamp at `where`."""
    form, start = where
    m = FORMS[form].match(text, start)
    if m is None:
        return None
    g = m.groupdict()
    fraction = float("0." + g["f"].decode()) if g.get("f") else 0.0
    if form.startswith("epoch"):
        value = int(g["e"])
        seconds = value / 1000 if len(g["e"]) == 13 else value + fraction
        return (seconds, False) if _EARLIEST <= seconds < _LATEST else None
    assumed = form == "syslog" and not g.get("y")
    if assumed and hint is None:
        return None
    year = hint.year if assumed and hint else int(g["y"])
    month = _MONTHS[g["mon"].decode().lower()[:3]] if g.get("mon") else int(g["mo"])
    hour = int(g["h"])
    if g.get("ampm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if g["ampm"].lower() == b"pm" else 0)
    when = _epoch(year, month, int(g["d"]), hour, int(g["mi"]), int(g["s"]))
    if when is None:
        return None
    when += fraction - _offset(g.get("z"))
    if assumed and hint and when > hint.modified + _ROLLOVER_S:
        back = _epoch(year - 1, month, int(g["d"]), hour, int(g["mi"]), int(g["s"]))
        if back is None:
            return None
        when = back + fraction
    if not _EARLIEST <= when < _LATEST:
        return None
    return when, assumed


def _epoch(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int | None:
    if not (
        1 <= month <= 12
        and 1 <= day <= calendar.monthrange(year, month)[1]
        and hour < 24
        and minute < 60
        and second < 61
    ):
        return None
    return calendar.timegm((year, month, day, hour, minute, min(second, 59)))


def _offset(zone: bytes | None) -> int:
    """Seconds east of UTC of a zone suffix (none, Z, UTC: 0)."""
    if not zone:
        return 0
    z = zone.strip().upper()
    if z in (b"Z", b"UTC", b"GMT"):
        return 0
    sign = -1 if z[:1] == b"-" else 1
    digits = z[1:].replace(b":", b"")
    hours, minutes = int(digits[:2]), int(digits[2:4] or b"0")
    return sign * (hours * 3600 + minutes * 60)
