"""Terminal styling: colour only on a terminal, and never when NO_COLOR is set."""

from __future__ import annotations

import os
from typing import IO

import click

from diagnose.model import Status
from diagnose.render.safe import STYLE_ESCAPE

ESC = "\x1b"

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
        """`text` in colour: the escapes as `STYLE_ESCAPE`, which only `safe.escaped` makes ESC.

        Only the styling around `text` becomes escapes: an ESC inside `text` (from a service
        or a file) is escaped like any other.
        """
        if not self.colour:
            return text
        on, off = click.style("\0", fg=fg, bold=bold).split("\0")
        return f"{on.replace(ESC, STYLE_ESCAPE)}{text}{off.replace(ESC, STYLE_ESCAPE)}"

    def mark(self, status: Status) -> str:
        symbol, colour = MARKS[status]
        return self(f"[{symbol}]", fg=colour, bold=True)
