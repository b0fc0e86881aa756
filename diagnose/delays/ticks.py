"""Axis ticks people read at a glance: round durations on a log axis, round UTC times with full dates.

A value axis runs from a round duration at or below the smallest value to one at or
above the largest, so its ends are labelled ticks and every series lies between them.
A time axis puts its ticks on whole multiples of a round step (1, 2, 5, 10, 15, 30 min,
1, 2, 3, 6, 12 h, 1 d, 2 d, 7 d), counted from midnight UTC.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

MINUTE, HOUR, DAY = 60.0, 3600.0, 86400.0

# Round durations, densest first; a value axis uses the densest ladder that needs at most
# `most` ticks between its ends.
DURATION_LADDERS: tuple[tuple[float, ...], ...] = (
    (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE)
    + (20 * MINUTE, 30 * MINUTE, HOUR, 2 * HOUR, 4 * HOUR, 6 * HOUR, 12 * HOUR, DAY)
    + (2 * DAY, 4 * DAY, 7 * DAY),
    (0.1, 0.5, 1, 5, 10, 30, MINUTE, 5 * MINUTE, 10 * MINUTE, 30 * MINUTE, HOUR, 4 * HOUR)
    + (12 * HOUR, DAY, 7 * DAY),
    (0.1, 1, 10, MINUTE, 10 * MINUTE, HOUR, 12 * HOUR, 7 * DAY),
)
FLOOR_S = DURATION_LADDERS[0][0]  # the bottom of a log axis: smaller values (0 too) sit on it

TIME_STEPS: tuple[float, ...] = (
    (1.0, 5.0, 10.0, 15.0, 30.0, MINUTE, 2 * MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE)
    + (30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY)
    + (14 * DAY, 28 * DAY)
)


def duration_label(seconds: float) -> str:
    """A round duration as people write it: 0.5 s, 30 s, 10 min, 4 h, 2 d."""
    for unit, name in ((DAY, "d"), (HOUR, "h"), (MINUTE, "min")):
        if seconds >= unit:
            return f"{seconds / unit:g} {name}"
    return f"{seconds:g} s"


def duration_ticks(low: float, high: float, most: int = 9) -> list[float]:
    """Round durations from one at or below `low` to one at or above `high` (at least two)."""
    low = max(low, FLOOR_S)
    high = max(high, low)
    chosen: list[float] = []
    for ladder in DURATION_LADDERS:
        top = ladder[-1]
        if high > top:  # beyond the ladder: a whole multiple of its last rung
            ladder = (*ladder, top * math.ceil(high / top))
        bottom = max(v for v in ladder if v <= low)
        ceiling = min(v for v in ladder if v >= high)
        chosen = [v for v in ladder if bottom <= v <= ceiling]
        if ceiling == bottom:  # a single value: widen to the next rung up
            chosen.append(next((v for v in ladder if v > bottom), bottom * 10))
        if len(chosen) <= most:
            break
    return chosen


def _multiples(start: float, end: float, step: float) -> list[float]:
    first, last = math.ceil(start / step), math.floor(end / step)
    return [n * step for n in range(first, last + 1)]


def time_ticks(start: float, end: float, most: int = 6) -> tuple[list[float], float]:
    """(ticks, step): whole multiples of the smallest round step that puts at most `most`
    ticks inside [start, end] (POSIX seconds UTC)."""
    for step in TIME_STEPS:
        found = _multiples(start, end, step)
        if len(found) <= most:
            return found, step
    step = TIME_STEPS[-1] * math.ceil((end - start) / (most * TIME_STEPS[-1]))
    return _multiples(start, end, step), step


def time_label(t: float, step: float) -> str:
    """A full UTC date and time, seconds only when the step needs them: 2026-11-20 14:00."""
    when = datetime.fromtimestamp(t, UTC)
    if step < MINUTE:
        return when.strftime("%Y-%m-%d %H:%M:%S")
    if step >= DAY:
        return when.strftime("%Y-%m-%d")
    return when.strftime("%Y-%m-%d %H:%M")
