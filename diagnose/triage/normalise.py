"""Normalise evidence and signature texts so that framing does not matter.

One function for both sides: JSON escapes undone (at any depth), accents
removed, apostrophes and quotes unified, case folded, whitespace runs made one
space. `squeeze` then drops whitespace entirely, so that a message wrapped
across lines by a log viewer (even mid-word) still matches.
"""

from __future__ import annotations

import re
import unicodedata

_ESC_UNICODE = re.compile(r"\\+u([0-9a-fA-F]{4})")
_ESC_SPACE = re.compile(r"\\+[nrt]")
_ESC_CHAR = re.compile(r"\\+([\"'/\\])")
_SPACE = re.compile(r"\s+")
# Typographic apostrophes and quotes (cp1252's 0x92 decoded as Latin-1 included).
_APOSTROPHES = str.maketrans(
    {c: "'" for c in "\u2019\u2018\u02bc\u00b4\u0060\u2032\x92\x91"}
    | {c: '"' for c in "\u201c\u201d\u00ab\u00bb\x93\x94"}
    | {c: " " for c in "\u00a0\u202f\u2009"}
)


def _unescape(text: str) -> str:
    if "\\" not in text:
        return text
    text = _ESC_UNICODE.sub(lambda m: chr(int(m.group(1), 16)), text)
    text = _ESC_SPACE.sub(" ", text)
    return _ESC_CHAR.sub(r"\1", text)


def _strip_accents(text: str) -> str:
    if text.isascii():
        return text
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def flat(text: str) -> str:
    """Lower-case, accent-free, escape-free text with single spaces."""
    text = _unescape(text).translate(_APOSTROPHES)
    return _SPACE.sub(" ", _strip_accents(text).casefold()).strip()


def squeeze(text: str) -> str:
    """`flat` without any whitespace: what substring conditions compare."""
    return _SPACE.sub("", flat(text))
