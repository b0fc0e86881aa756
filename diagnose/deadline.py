"""The time left for the work the current thread does (a check, or a read it started).

The runner sets it around each check (the check's own deadline, or the run's `--timeout`,
whichever comes first); the clients read it to decide whether waiting out a service's
`Retry-After` still fits. A thread a check starts inherits nothing: pass `current()` to
it and enter `until()` there.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator

_local = threading.local()


def current() -> float | None:
    """The current thread's deadline (`time.monotonic()` scale), or None when it has none."""
    return getattr(_local, "at", None)


def remaining() -> float | None:
    """Seconds left before the current thread's deadline (0 once passed); None without one."""
    at = current()
    return None if at is None else max(0.0, at - time.monotonic())


def fits(wait_s: float, margin_s: float = 1.0) -> bool:
    """Whether waiting `wait_s` and then `margin_s` more (for the request itself) fits."""
    left = remaining()
    return left is None or wait_s + margin_s <= left


def bounded(longest_s: float, shortest_s: float = 1.0) -> float:
    """A time-out of at most `longest_s`, never longer than the time left (at least `shortest_s`):
    a stalled read then ends with the budget."""
    left = remaining()
    return longest_s if left is None else max(shortest_s, min(longest_s, left))


@contextlib.contextmanager
def until(at: float | None) -> Iterator[None]:
    """Within the block, the current thread's deadline is `at` (the earlier of it and any outer one)."""
    outer = current()
    _local.at = at if outer is None else outer if at is None else min(at, outer)
    try:
        yield
    finally:
        _local.at = outer
