"""Read one large plain file in parts, one per core, each part in its own process.

A part is a byte range [lo, hi) cut at line starts. Its process reads from LOOKBACK
lines before lo (so that a record's first lines are seen, as the scanner's own
context does) to well past hi (so that a record starting before hi is read whole:
records are capped at MAX_LINES lines and MAX_BYTES bytes), and keeps the records
whose first line lies in [lo, hi): the scanner finds a record from the lines around
its hit, never from where the reading started, so each record is found by exactly
one part, the same as in one pass (`tests/triage/test_parts.py`).

Processes are forked (Linux), so they share the parent's compiled catalogue; where
forking is not available the file is read in one pass. The parts ignore Ctrl-C: the
parent, told of it, asks them to stop (a flag in shared memory they read after each
block), and each returns what it has read so far.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from diagnose.triage import records
from diagnose.triage.inputs import BLOCK_SIZE, InputProblem

PART_MIN = 48 << 20  # a file is read in parts from this size (each part at least half of it)
LOOKBACK = 4 * records.MAX_LINES  # lines read before a part (window, then HTTP head above)
PAST = records.MAX_BYTES + BLOCK_SIZE  # bytes read past a part's end, at the least

T = TypeVar("T")


def cores() -> int:
    """The processors this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def can_fork() -> bool:
    import multiprocessing  # here: a file too small to cut never pays for the import

    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


def cut(path: str, size: int, parts: int) -> list[tuple[int, int]]:
    """[lo, hi) byte ranges of about equal size, each starting at a line start."""
    bounds = [0]
    with open(path, "rb") as handle:
        for k in range(1, parts):
            handle.seek(size * k // parts)
            handle.readline()  # to the next line start
            bounds.append(max(bounds[-1], handle.tell()))
    bounds.append(size)
    return [(lo, hi) for lo, hi in zip(bounds, bounds[1:], strict=False) if hi > lo]


def context_start(path: str, lo: int) -> int:
    """The start of the line LOOKBACK lines before the line starting at `lo`, or 0."""
    need = LOOKBACK + 1  # the newline ending the line before lo, then LOOKBACK more
    at = lo
    with open(path, "rb") as handle:
        while at > 0:
            step = min(at, BLOCK_SIZE)
            handle.seek(at - step)
            chunk = handle.read(step)
            end = len(chunk)
            while (nl := chunk.rfind(b"\n", 0, end)) >= 0:
                need -= 1
                if need == 0:
                    return at - step + nl + 1
                end = nl
            at -= step
    return 0


def newlines(path: str, lo: int, hi: int) -> int:
    """How many lines end in [lo, hi) of `path`."""
    count = 0
    with open(path, "rb") as handle:
        handle.seek(lo)
        left = hi - lo
        while left > 0:
            chunk = handle.read(min(left, BLOCK_SIZE * 8))
            if not chunk:
                break
            count += chunk.count(b"\n")
            left -= len(chunk)
    return count


class Reading:
    """The blocks of one part: from `start`, until PAST bytes and LOOKBACK lines past `hi`
    (or EOF); `done` is told how many bytes of [lo, hi) have been read after each block.

    It counts the lines that start in [lo, hi) as it goes (`lines`, final once `past`):
    the scanner hands out a block's records before it reads the next block, so by the
    time a record beyond `hi` is handed out, the count is known.
    """

    def __init__(self, path: str, start: int, lo: int, hi: int, done: Callable[[int], None]):
        self.path, self.start, self.lo, self.hi, self.done = path, start, lo, hi, done
        self.lines = 0
        self.past = False  # read beyond hi (or to the end of the file)
        self.stopped = False  # the parent asked the parts to stop (Ctrl-C): read in part only

    def __iter__(self) -> Iterator[bytes]:
        lo, hi = self.lo, self.hi
        with open(self.path, "rb") as handle:
            handle.seek(self.start)
            at = self.start
            lines_past = 0
            ended_a_line = True  # the last block read ends with a newline
            while True:
                if stopping():
                    self.stopped = True
                    return
                try:
                    chunk = handle.read(BLOCK_SIZE)
                except OSError as exc:
                    raise InputProblem(
                        f"{self.path}: read error ({exc}) after {at} bytes", True
                    ) from None
                if not chunk:
                    if not self.past and at > lo and not ended_a_line:
                        self.lines += 1  # the file's last line, without a newline
                    self.past = True
                    return
                end = at + len(chunk)
                self.lines += chunk.count(b"\n", max(0, lo - at), max(0, min(hi, end) - at))
                ended_a_line = chunk.endswith(b"\n")
                if end > hi:
                    self.past = True
                    lines_past += chunk.count(b"\n", max(0, hi - at))
                at = end
                yield chunk
                self.done(max(0, min(at, hi) - lo))
                if at >= hi + PAST and lines_past > LOOKBACK:
                    return


def run(
    work: Callable[[int], T], parts: int, progress: Callable[[list[int]], None] | None
) -> tuple[list[T], bool]:
    """`work(k)` for k in range(parts), each in a forked process; results in order, and
    whether Ctrl-C stopped them (each part's result then covers what it had read).

    `progress` is called about four times a second with the bytes each part has read
    (the parts write them into shared memory).
    """
    import multiprocessing

    context = multiprocessing.get_context("fork")
    counters = context.Array("q", parts, lock=False)
    stop = context.Value("b", 0, lock=False)
    global _WORK, _COUNTERS, _STOP
    _WORK, _COUNTERS, _STOP = work, counters, stop
    interrupted = False
    # Ctrl-C held back while the workers are forked: they ignore it from their first
    # instruction (the parent stops them), and the parent receives it once they exist.
    held = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        try:
            pool = context.Pool(parts, initializer=_ignore_ctrl_c)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, held)
        with pool:
            pending = pool.map_async(_run_one, range(parts))
            while not pending.ready():
                try:
                    pending.wait(0.25)
                except KeyboardInterrupt:
                    interrupted = True
                    stop.value = 1  # the parts end after their current block
                if progress is not None:
                    progress(list(counters))
            results: list[T] = pending.get()
    finally:
        _WORK = _COUNTERS = _STOP = None
    if progress is not None:
        progress(list(counters))
    return results, interrupted


_WORK: Callable[[int], Any] | None = None  # set in the parent, inherited by the forked workers
_COUNTERS: Any = None
_STOP: Any = None


def _ignore_ctrl_c() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def stopping() -> bool:
    """Whether the parent asked the parts to stop (always False outside a part)."""
    return _STOP is not None and bool(_STOP.value)


def _run_one(k: int) -> Any:
    assert _WORK is not None
    return _WORK(k)


def report(k: int) -> Callable[[int], None]:
    """A `done` callback for part `k`, writing into the shared counters (at most 4 a second)."""
    counters = _COUNTERS
    last = [0.0]

    def done(n: int) -> None:
        now = time.monotonic()
        if counters is not None and now - last[0] >= 0.25:
            counters[k] = n
            last[0] = now

    return done
