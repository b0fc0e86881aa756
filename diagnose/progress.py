"""Progress on a terminal: a few lines at the bottom of standard error, redrawn in place.

Anything that may take more than a second (the run's checks and its campaign call, a
delays query, a large explain input, a walk's wait) shows what it is doing, on stderr,
and only when stderr is a terminal: nothing of it reaches a pipe, a file, or the JSON,
JUnit or Markdown on stdout. The region is erased when the work ends, so that what the
command prints next starts where the region began.

`Live(render)` calls `render()` about ten times a second from a daemon thread and draws
the lines it returns; every line is clipped to the terminal's width (so that it takes
exactly one row, and the region can be erased row for row) and the region to its height.
With `--debug` (an HTTP trace on stderr) or TERM=dumb there is no progress at all.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from types import TracebackType
from typing import IO

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
ESC = "\x1b"
_CSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def width_of(text: str) -> int:
    """Columns `text` takes on a terminal (wide East Asian characters take two, combining none)."""
    text = _CSI.sub("", text)
    return sum(_char_width(c) for c in text)


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def clip(line: str, columns: int) -> str:
    """`line` cut to `columns` columns (an ellipsis marks the cut), its colour escapes kept whole."""
    if width_of(line) <= columns:
        return line
    out: list[str] = []
    used = 0
    styled = False
    position = 0
    while position < len(line):
        match = _CSI.match(line, position)
        if match:
            out.append(match.group())
            styled = True
            position = match.end()
            continue
        char = line[position]
        size = _char_width(char)
        if used + size > columns - 1:
            break
        out.append(char)
        used += size
        position += 1
    out.append("…")
    if styled:
        out.append(f"{ESC}[0m")
    return "".join(out)


def terminal_size(stream: IO[str] | None = None) -> os.terminal_size:
    """The size of the terminal `stream` writes to (else COLUMNS/LINES, else 80×24)."""
    stream = stream or sys.stdout
    try:
        return os.get_terminal_size(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return shutil.get_terminal_size((80, 24))


def on_terminal(stream: IO[str] | None = None) -> bool:
    """Whether progress may be drawn on `stream` (stderr by default)."""
    from diagnose import logs

    stream = stream or sys.stderr
    if logs.debugging() or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Live:
    """A region of lines at the bottom of the terminal, redrawn in place until the work ends.

    `render()` returns the lines to show (already escaped for the terminal); `delay_s` is how
    long the work may go before anything is drawn (quick work shows nothing).
    """

    def __init__(
        self,
        render: Callable[[], list[str]],
        *,
        stream: IO[str] | None = None,
        delay_s: float = 1.0,
        interval_s: float = 0.1,
        enabled: bool | None = None,
    ) -> None:
        self.render = render
        self.stream = stream or sys.stderr
        self.delay_s = delay_s
        self.interval_s = interval_s
        self.enabled = on_terminal(self.stream) if enabled is None else enabled
        self.started = time.monotonic()
        self._rows = 0  # rows the region takes now
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def elapsed_s(self) -> float:
        return time.monotonic() - self.started

    def spinner(self) -> str:
        return SPINNER[int(self.elapsed_s / self.interval_s) % len(SPINNER)]

    def __enter__(self) -> Live:
        if self.enabled:
            self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
            self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Stop drawing and erase the region."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout=1.0)
        with self._lock:
            self._erase()
            self._flush()

    def refresh(self) -> None:
        """Redraw now (after a change the next tick would show late)."""
        if self.enabled and not self._stop.is_set() and self.elapsed_s >= self.delay_s:
            with self._lock:
                self._draw()

    def _loop(self) -> None:
        if self._stop.wait(self.delay_s):
            return
        while not self._stop.is_set():
            with self._lock:
                if self._stop.is_set():
                    return
                self._draw()
            self._stop.wait(self.interval_s)

    def _draw(self) -> None:
        size = terminal_size(self.stream)
        try:
            lines = self.render()
        except Exception:  # noqa: BLE001 - progress must never break the work it shows
            return
        lines = [clip(line, size.columns - 1) for line in lines][-max(1, size.lines - 1) :]
        self._erase()
        self._write("\n".join(lines))
        self._rows = len(lines)
        self._flush()

    def _erase(self) -> None:
        if self._rows:
            up = f"{ESC}[{self._rows - 1}A" if self._rows > 1 else ""
            self._write(f"\r{up}{ESC}[J")
            self._rows = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
        except (OSError, ValueError):
            self._stop.set()

    def _flush(self) -> None:
        with suppress(OSError, ValueError):
            self.stream.flush()


def seconds(value: float) -> str:
    """`42 s`, `3 min 05 s`: elapsed times in a progress line."""
    whole = int(value)
    return f"{whole} s" if whole < 60 else f"{whole // 60} min {whole % 60:02d} s"


def size(count: float) -> str:
    """Bytes as `812 kB`, `54 MB`, `1.2 GB`."""
    for unit in ("B", "kB", "MB", "GB"):
        if count < 1000 or unit == "GB":
            return (
                f"{count:.0f} {unit}"
                if unit in ("B", "kB") or count >= 10
                else f"{count:.1f} {unit}"
            )
        count /= 1000
    return f"{count:.1f} TB"  # pragma: no cover - the loop returns at GB


@contextmanager
def working(what: Callable[[], str], *, delay_s: float = 1.0) -> Iterator[Live]:
    """One spinner line, `⠋ what… 12 s`, shown once the work has taken `delay_s`."""
    live: Live

    def render() -> list[str]:
        return [f"{live.spinner()} {what()} {seconds(live.elapsed_s)}"]

    live = Live(render, delay_s=delay_s)
    with live:
        yield live


def countdown_sleep(pause_s: float) -> None:
    """`time.sleep(pause_s)`, showing on a terminal how long is left (a walk's wait for recovery)."""
    end = time.monotonic() + pause_s

    def render() -> list[str]:
        left = max(0.0, end - time.monotonic())
        return [
            f"{SPINNER[int(left * 10) % len(SPINNER)]} next look in {left:.0f} s (Ctrl-C stops)"
        ]

    with Live(render, delay_s=1.0):
        time.sleep(pause_s)
