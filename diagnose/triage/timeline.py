"""When a cause was seen: count, first and last time, and counts per time bucket.

Times are the records' own (`timestamps.py`), in epoch seconds UTC. Counts are kept
per minute; past MAX_BUCKETS distinct minutes (about two weeks of a busy log) they
are kept per hour, then per day, so memory stays flat however long the log. A
series for display picks the smallest width (a minute, 5, 15 minutes, an hour, 6
hours, a day, a week) that shows the whole span in at most the number of buckets
asked for: per minute up to three hours in JSON, coarser beyond.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from itertools import repeat
from operator import floordiv

WIDTHS = (60, 300, 900, 3600, 6 * 3600, 86400, 7 * 86400)
MAX_BUCKETS = 20_000
JSON_BUCKETS = 180  # three hours per minute


@dataclass
class Timeline:
    """One cause's records over time."""

    count: int = 0
    undated: int = 0
    first: float | None = None
    last: float | None = None
    resolution: int = 60  # seconds per kept bucket
    buckets: dict[int, int] = field(default_factory=dict)  # bucket start // resolution -> count

    def add(self, times: Sequence[float | None]) -> None:
        """Records with these times (None: a record without one)."""
        self.count += len(times)
        dated: Sequence[float] = (
            times if None not in times else [t for t in times if t is not None]  # type: ignore[assignment]
        )
        self.undated += len(times) - len(dated)
        if not dated:
            return
        lo, hi = min(dated), max(dated)
        if self.first is None or lo < self.first:
            self.first = lo
        if self.last is None or hi > self.last:
            self.last = hi
        for slot, n in Counter(map(floordiv, dated, repeat(self.resolution))).items():
            key = int(slot)
            self.buckets[key] = self.buckets.get(key, 0) + n
        while len(self.buckets) > MAX_BUCKETS:
            self._coarsen()

    def merge(self, other: Timeline) -> None:
        """Add `other`'s records to this one (a cause renamed by the correlation)."""
        self.count += other.count
        self.undated += other.undated
        for when in (other.first, other.last):
            if when is not None:
                self.first = when if self.first is None else min(self.first, when)
                self.last = when if self.last is None else max(self.last, when)
        while other.resolution > self.resolution:
            self._coarsen()
        for slot, n in other.buckets.items():
            start = slot * other.resolution // self.resolution
            self.buckets[start] = self.buckets.get(start, 0) + n

    def _coarsen(self) -> None:
        wider = next((w for w in WIDTHS if w > self.resolution), self.resolution * 7)
        merged: dict[int, int] = {}
        for slot, n in self.buckets.items():
            start = slot * self.resolution // wider
            merged[start] = merged.get(start, 0) + n
        self.resolution, self.buckets = wider, merged

    @property
    def dated(self) -> int:
        return self.count - self.undated

    def series(self, width: int) -> list[tuple[int, int]]:
        """(bucket start, count) from the first to the last bucket, empty ones included."""
        if self.first is None or self.last is None:
            return []
        width = max(width, self.resolution)
        counts: dict[int, int] = {}
        for slot, n in self.buckets.items():
            start = slot * self.resolution // width * width
            counts[start] = counts.get(start, 0) + n
        lo = int(self.first // width * width)
        hi = int(self.last // width * width)
        return [(t, counts.get(t, 0)) for t in range(lo, hi + width, width)]


def width_for(timelines: Iterable[Timeline], max_buckets: int) -> int:
    """The smallest display width that shows every one of these timelines' span."""
    spans = [(t.first, t.last, t.resolution) for t in timelines if t.first is not None]
    if not spans:
        return WIDTHS[0]
    lo = min(s[0] for s in spans if s[0] is not None)
    hi = max(s[1] for s in spans if s[1] is not None)
    floor = max(s[2] for s in spans)
    for width in WIDTHS:
        if width >= floor and int(hi // width) - int(lo // width) + 1 <= max_buckets:
            return width
    return max(WIDTHS[-1], floor)


def iso(when: float) -> str:
    """An epoch time as ISO 8601 UTC, with milliseconds when it has a fraction."""
    from datetime import UTC, datetime  # here: a log without a hit never loads it

    moment = datetime.fromtimestamp(when, UTC)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
