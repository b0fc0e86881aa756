"""The one escaping function between the tool's output and a terminal (or a file, or a CI log).

Service answers, log lines and input files may hold bytes a terminal obeys: an OSC
title (`ESC ] 0 ; … BEL`), CSI sequences that move the cursor or hide text, other
C0/C1 controls, a carriage return that overwrites the line, or bidirectional
overrides (U+202E, U+2066–U+2069) that make text read other than it is. `escaped`
writes each such character as `\\uXXXX`, which stays readable in text and Markdown,
is a valid escape inside a JSON string (so JSON stays JSON that decodes to the same
value), and keeps JUnit XML well-formed (XML 1.0 forbids most C0 controls).

The tool's own colours must survive: `Styler` (render/style.py) writes its escape
character as `STYLE_ESCAPE`, a token no service or file can know (it is random per
process), and `escaped` turns only that token back into ESC, after everything else
was escaped. Renderers therefore never write ESC themselves; every output path calls
`escaped` once, last (`render.choose.emit`, the live lines of `run`, the walk's console).
"""

from __future__ import annotations

import os
import re

STYLE_ESCAPE = f"\ue000{os.urandom(8).hex()}\ue001"

# C0 controls but tab and line feed, DEL, C1 controls, the bidirectional marks, embeddings,
# overrides and isolates, and lone surrogates (which cannot even be written as UTF-8).
_UNSAFE = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def escaped(text: str) -> str:
    """`text` with every control and bidirectional character written as `\\uXXXX`.

    Tab and line feed stay (they are layout); the Styler's colours are restored.
    """
    return _UNSAFE.sub(_escape, text).replace(STYLE_ESCAPE, "\x1b")


def first_unsafe(text: str) -> str | None:
    """The first character of `text` that `escaped` rewrites, as `\\uXXXX`; None when there is none."""
    match = _UNSAFE.search(text)
    return _escape(match) if match else None
