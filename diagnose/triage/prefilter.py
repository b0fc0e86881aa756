"""Find which blocks of raw bytes hold any signature anchor, fast.

Hyperscan (a well-kept multi-pattern engine, SIMD) scans at several GB/s;
without it (no wheel for the platform) a compiled byte regex does the same job,
slower. Either way the answer is the offsets of anchor hits in a block.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from itertools import islice
from typing import Any


def hyperscan_for(engine: str) -> Any:
    """The hyperscan module when `engine` allows it ("auto", "hyperscan") and it is
    installed; None for "re" or when it is not (ImportError when "hyperscan" was asked)."""
    if engine == "re":
        return None
    try:
        import hyperscan
    except ImportError:
        if engine == "hyperscan":
            raise
        return None
    return hyperscan


def database(hs: Any, expressions: list[bytes], flags: list[int]) -> Any:
    """A hyperscan block-mode database of `expressions`, pattern i reported as id i."""
    db = hs.Database(mode=hs.HS_MODE_BLOCK)
    db.compile(
        expressions=expressions,
        ids=list(range(len(expressions))),
        elements=len(expressions),
        flags=flags,
    )
    return db


class Prefilter:
    """Case-insensitive search for a set of ASCII literals in byte blocks."""

    def __init__(self, anchors: Sequence[str], engine: str = "auto") -> None:
        """`engine`: "auto" (hyperscan when installed), "hyperscan" or "re"."""
        self.anchors = [a.encode("ascii") for a in anchors]
        self.engine = "none"
        self._hs = None
        self._stopped: type[Exception] = Exception  # hyperscan's "the callback stopped the scan"
        self._re: re.Pattern[bytes] | None = None
        if not self.anchors:
            return
        hyperscan = hyperscan_for(engine)
        if hyperscan is not None:
            expressions = [re.escape(a.decode()).encode() for a in self.anchors]
            flags = [hyperscan.HS_FLAG_CASELESS] * len(expressions)
            self._hs = database(hyperscan, expressions, flags)
            self._stopped = hyperscan.ScanTerminated
            self.engine = f"hyperscan {getattr(hyperscan, '__version__', '')}".strip()
            return
        self._re = re.compile(b"|".join(re.escape(a) for a in self.anchors), re.I)
        self.engine = "re"

    def hits(self, block: bytes, limit: int | None = None) -> list[int]:
        """Offsets (end of the anchor) of every anchor hit in `block`, ascending.

        With `limit`, the search stops after that many hits (the scanner asks whether a
        block is dense without paying for every hit of an incident log).
        """
        if self._hs is not None:
            found: list[int] = []

            def on_match(_id: int, _start: int, end: int, _flags: int, _ctx: object) -> bool:
                found.append(end)
                return limit is not None and len(found) >= limit

            with contextlib.suppress(self._stopped):
                self._hs.scan(block, match_event_handler=on_match)
            found.sort()
            return found
        if self._re is not None:
            return [m.end() for m in islice(self._re.finditer(block), limit)]
        return []
