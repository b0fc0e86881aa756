"""Find where a set of byte regexes match in a block, with their start and end offsets.

The prefilter (`prefilter.py`) only needs where anchors end; the verdict cache needs
spans: where the ids are (to replace them) and where the protected digits are (to
keep them). Hyperscan reports every match with its leftmost start (a Python call per
match, so it suits patterns that hold a few times per record); without it, one
compiled alternation of the patterns does the same job, slower.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Sequence
from typing import Any

from diagnose.triage.prefilter import database, hyperscan_for

_parser: Any = importlib.import_module("re._parser")


def width(pattern: bytes) -> int | None:
    """The length of every match of `pattern` when they all have one length; else None."""
    lo, hi = _parser.parse(pattern.decode("ascii")).getwidth()
    return lo if lo == hi else None


class SpanFinder:
    """Case-insensitive (or not) search for byte regexes; every match as (start, end, index).

    Both engines report every place a pattern matches, overlapping ones included, so
    that every character of every occurrence of every pattern lies in a reported span
    of that pattern (hyperscan: each match end with its leftmost start; `re`: each
    pattern on its own, from every start it matches at).
    """

    def __init__(self, patterns: Sequence[bytes], caseless: bool, engine: str = "auto") -> None:
        self.patterns = list(patterns)
        self.engine = "none"
        self._hs = None
        self._re: list[re.Pattern[bytes]] = []
        self._widths: list[int | None] = []
        if not self.patterns:
            return
        hyperscan = hyperscan_for(engine)
        if hyperscan is not None:
            # a pattern whose matches all have one length gives its start as end - width,
            # cheaper than asking the engine to track where each match starts
            self._widths = [width(p) for p in self.patterns]
            base = hyperscan.HS_FLAG_CASELESS if caseless else 0
            som = hyperscan.HS_FLAG_SOM_LEFTMOST
            flags = [base if w is not None else base | som for w in self._widths]
            self._hs = database(hyperscan, self.patterns, flags)
            self.engine = "hyperscan"
            return
        self._re = [re.compile(p, re.I if caseless else 0) for p in self.patterns]
        self.engine = "re"

    def each(self, data: bytes, handler: Callable[[int, int, int, int, object], object]) -> None:
        """Call `handler(index, start, end, 0, None)` for each match, in the engine's order
        (hyperscan: by end offset; `re`: by start). For a pattern of one width, hyperscan's
        `start` is not tracked: the handler reads `widths` for it (None: `start` is right).
        """
        if self._hs is not None:
            self._hs.scan(data, match_event_handler=handler)
            return
        for start, end, index in self.spans(data):
            handler(index, start, end, 0, None)

    @property
    def widths(self) -> list[int | None]:
        """Per pattern, its one width when `each` leaves `start` to the handler."""
        return self._widths if self._hs is not None else [None] * len(self.patterns)

    def spans(self, data: bytes) -> list[tuple[int, int, int]]:
        """(start, end, pattern index) of the matches in `data`, by start then end."""
        if self._hs is not None:
            found: list[tuple[int, int, int]] = []
            add = found.append
            widths = self._widths

            def on_match(index: int, start: int, end: int, _flags: int, _ctx: object) -> None:
                w = widths[index]
                add((start if w is None else end - w, end, index))

            self._hs.scan(data, match_event_handler=on_match)
            found.sort()
            return found
        found = [span for i, p in enumerate(self._re) for span in _re_spans(p, i, data)]
        found.sort()
        return found


_DIGIT_RUN = re.compile(rb"[0-9]*")


def _re_spans(pattern: re.Pattern[bytes], index: int, data: bytes) -> list[tuple[int, int, int]]:
    """Every start where `pattern` matches (not only the leftmost non-overlapping ones).

    `re` gives one end per start; a longer match from the same start can only go on
    through digits (the patterns end in digit runs or at a word boundary), so the end is
    carried to the end of the digit run.
    """
    found: list[tuple[int, int, int]] = []
    at = 0
    while (m := pattern.search(data, at)) is not None:
        end = _DIGIT_RUN.match(data, m.end())
        found.append((m.start(), end.end() if end else m.end(), index))
        at = m.start() + 1
    return found
