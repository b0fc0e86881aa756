"""Terminal styling: colour only on a terminal, and never when NO_COLOR is set."""

from __future__ import annotations

import os
from typing import IO

import click

from diagnose.model import Status

MARKS = {
    Status.PASS: ("✓", "green"),
    Status.WARN: ("!", "yellow"),
    Status.FAIL: ("✗", "red"),
    Status.SKIP: ("-", "bright_black"),
    Status.ERROR: ("?", "magenta"),
}


def use_colour(stream: IO[str] | None) -> bool:
    if os.environ.get("NO_COLOR"):
        return False
    return bool(stream is not None and hasattr(stream, "isatty") and stream.isatty())


class Styler:
    def __init__(self, colour: bool):
        self.colour = colour

    def __call__(self, text: str, fg: str | None = None, bold: bool = False) -> str:
        return click.style(text, fg=fg, bold=bold) if self.colour else text

    def mark(self, status: Status) -> str:
        symbol, colour = MARKS[status]
        return self(f"[{symbol}]", fg=colour, bold=True)
