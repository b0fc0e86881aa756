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

`locate` finds where the first timestamp of a text is and where its parts are; it
only looks at the shape of the text (digits as digits), so texts the verdict cache
gives one key share its answer. `Reader.read` reads the time there (working each
minute out once); an impossible date (month 13) is no time at all, rather than the
next timestamp of the record.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import cache
from itertools import repeat
from operator import add, getitem
from typing import NamedTuple

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


@cache
def _form(name: str) -> re.Pattern[bytes]:
    """One form's regex, its parts in named groups (compiled at first use)."""
    return re.compile(_FORMS[name].encode(), _FLAGS)


@cache
def _any() -> re.Pattern[bytes]:
    """Every form in one regex, a group per form (compiled at first use)."""
    return re.compile(
        "|".join(
            f"(?P<{name}>{re.sub(r'[(][?]P<[a-z]+>', '(?:', pattern.replace('(?m)', ''))})"
            for name, pattern in _FORMS.items()
        ).encode(),
        _FLAGS | re.MULTILINE,
    )


_MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
_EARLIEST = 631_152_000  # 1990-01-01T00:00:00Z
_LATEST = 4_102_444_800  # 2100-01-01T00:00:00Z
_ROLLOVER_S = 2 * 86400


class YearHint(NamedTuple):
    """Where a syslog time's year comes from: a file's modification time (epoch seconds), or
    the time of reading for a stream that is not a file (`from_file` False)."""

    year: int
    modified: float
    from_file: bool = True


class Stamp(NamedTuple):
    """Where a timestamp sits in a text, and where its parts are (offsets into that text).

    The part before the seconds (`head`) and what follows them up to the end of the
    am/pm and zone (`tail`, the fraction's digits left out) name a minute; the seconds
    and their fraction are read from their own places.
    """

    form: str
    head: tuple[int, int]
    seconds: tuple[int, int]
    fraction: tuple[int, int] | None
    tail: tuple[int, int] | None


def locate(text: bytes) -> Stamp | None:
    """Where the first timestamp of `text` is, or None."""
    found = _any().search(text)
    if found is None or found.lastgroup is None:
        return None
    form = found.lastgroup
    m = _form(form).match(text, found.start())
    if m is None:  # cannot happen: the same pattern matched there
        return None
    numeric = "e" if form.startswith("epoch") else "s"
    tail = [m.span(g) for g in ("ampm", "z") if g in m.re.groupindex and m.group(g)]
    return Stamp(
        form=form,
        head=(m.start(), m.start(numeric)),
        seconds=m.span(numeric),
        fraction=m.span("f") if "f" in m.re.groupindex and m.group("f") else None,
        tail=(min(t[0] for t in tail), max(t[1] for t in tail)) if tail else None,
    )


class Reader:
    """Reads times at a Stamp's places, remembering each minute it has worked out."""

    def __init__(self, hint: YearHint | None = None) -> None:
        self.hint = hint
        self._minutes: dict[tuple[str, bytes, bytes], tuple[int, bool] | None] = {}

    def read(self, text: bytes, stamp: Stamp) -> tuple[float, bool] | None:
        """(epoch seconds UTC, whether the year was assumed), or None for an impossible time."""
        times, assumed = self.read_many([text], stamp)
        return None if times[0] is None else (times[0], assumed)

    def read_many(self, texts: list[bytes], stamp: Stamp) -> tuple[list[float | None], bool]:
        """The times of texts that share one shape (epoch seconds UTC, None when impossible),
        and whether their year was assumed (a syslog time: all of them or none).

        Texts of one shape have their timestamp's parts at the same places, and the same
        characters around the digits (the separator before the fraction, the am/pm).
        """
        seconds = self._seconds(texts, stamp)
        if stamp.form.startswith("epoch"):
            ms = stamp.seconds[1] - stamp.seconds[0] == 13
            return [
                w if _EARLIEST <= w < _LATEST else None
                for w in ((s / 1000 if ms else s) for s in seconds)
            ], False
        heads, tails = self._keys(texts, stamp)
        form = stamp.form
        if isinstance(tails, bytes):  # one zone for them all (the usual case)
            known = {h: self._minute((form, h, tails)) for h in set(heads)}
            minutes = list(map(known.__getitem__, heads))
        else:
            pairs = list(zip(heads, tails, strict=True))
            known2 = {pair: self._minute((form, *pair)) for pair in set(pairs)}
            minutes = list(map(known2.__getitem__, pairs))
            known = dict(enumerate(known2.values()))  # type: ignore[arg-type]
        if None not in known.values() and max(seconds) < 60:
            epochs = {m: m[0] for m in known.values() if m is not None}
            times: list[float | None] = list(map(add, map(epochs.__getitem__, minutes), seconds))  # type: ignore[arg-type]
        else:
            times = [
                None if m is None or s >= 61 else m[0] + (s if s < 60 else 59 + s % 1)
                for m, s in zip(minutes, seconds, strict=True)
            ]
        assumed = any(m[1] for m in known.values() if m is not None)
        return times, assumed

    @staticmethod
    def _seconds(texts: list[bytes], stamp: Stamp) -> list[float]:
        """Seconds with their fraction (epoch forms: the whole number)."""
        s0, s1 = stamp.seconds
        if stamp.fraction is None:
            return list(map(float, _cut(texts, s0, s1)))
        f0, f1 = stamp.fraction
        if texts[0][s1:f0] == b".":  # one float() reads "05.123"
            return list(map(float, _cut(texts, s0, f1)))
        scale = 10.0 ** (f0 - f1)
        return [int(t[s0:s1]) + int(t[f0:f1]) * scale for t in texts]

    def _keys(self, texts: list[bytes], stamp: Stamp) -> tuple[list[bytes], bytes | list[bytes]]:
        """What names each text's minute: the text before its seconds (`heads`), and what
        follows them up to the end of the am/pm and zone, the fraction's digits left out
        (`tails`: one value when all texts have the same)."""
        heads = list(_cut(texts, *stamp.head))
        if stamp.tail is None:
            return heads, b""
        s1, end = stamp.seconds[1], stamp.tail[1]
        if stamp.fraction is None:
            start, first = s1, b""
        else:
            f0, start = stamp.fraction
            first = texts[0][s1:f0] + b"0"  # the separator: one for texts of one shape
        tail = texts[0][start:end]
        if not tail.translate(None, _NOT_DIGITS):  # no digit: the same in texts of one shape
            return heads, first + tail
        zones = list(_cut(texts, start, end))
        if len(set(zones)) == 1:
            return heads, first + zones[0]
        return heads, [first + z for z in zones]

    def _minute(self, key: tuple[str, bytes, bytes]) -> tuple[int, bool] | None:
        if key in self._minutes:
            return self._minutes[key]
        form, head, tail = key
        minute = _minute(form, head + b"00" + tail, self.hint)
        if len(self._minutes) >= _MINUTES_KEPT:
            self._minutes.clear()
        self._minutes[key] = minute
        return minute


_MINUTES_KEPT = 10_000
_NOT_DIGITS = bytes(c for c in range(256) if c not in b"0123456789")


def _cut(texts: list[bytes], start: int, end: int) -> Iterator[bytes]:
    """texts[i][start:end] for each text, sliced in a C-level loop (incident logs: per line)."""
    sliced: Iterator[bytes] = map(getitem, texts, repeat(slice(start, end)))  # type: ignore[arg-type]
    return sliced


def _minute(form: str, text: bytes, hint: YearHint | None) -> tuple[int, bool] | None:
    """(epoch of the minute, year assumed) of a timestamp whose seconds read 00."""
    m = _form(form).match(text)
    if m is None:
        return None
    g = m.groupdict()
    assumed = form == "syslog" and not g.get("y")
    if assumed and hint is None:
        return None
    year = hint.year if assumed and hint else int(g["y"])
    month = _MONTHS[g["mon"].decode().lower()[:3]] if g.get("mon") else int(g["mo"])
    day, hour, minute = int(g["d"]), int(g["h"]), int(g["mi"])
    if g.get("ampm"):
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if g["ampm"].lower() == b"pm" else 0)
    when = _epoch(year, month, day, hour, minute)
    if when is None:
        return None
    when -= _offset(g.get("z"))
    if assumed and hint and when > hint.modified + _ROLLOVER_S:
        back = _epoch(year - 1, month, day, hour, minute)
        if back is None:
            return None
        when = back - _offset(g.get("z"))
    if not _EARLIEST <= when < _LATEST:
        return None
    return when, assumed


def _epoch(year: int, month: int, day: int, hour: int, minute: int) -> int | None:
    import calendar  # here: a log without a time never loads it

    if not (
        1 <= month <= 12
        and 1 <= day <= calendar.monthrange(year, month)[1]
        and hour < 24
        and minute < 60
    ):
        return None
    return calendar.timegm((year, month, day, hour, minute, 0))


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
