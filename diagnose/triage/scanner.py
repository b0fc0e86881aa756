"""Stream evidence through the signatures in constant memory.

Blocks of about a megabyte are cut at line ends. The prefilter says whether a
block holds any anchor; blocks without one only have their lines counted. A
block with a hit is split into lines and records (`records.py`), and only the
records holding a hit are normalised and matched. A record still open at the
end of a block is carried into the next one (bounded by the record caps), and
the last 64 KiB of each block are kept so that a record's first lines are seen.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from diagnose.redact import redact_text
from diagnose.triage import records as records_mod
from diagnose.triage.prefilter import Prefilter
from diagnose.triage.signatures import Record, Signature, all_anchors

MAX_LINE = 1 << 20  # a longer line is cut into pieces of this size
CONTEXT = 64 * 1024
EXCERPT = 160  # characters on each side of the anchor


@dataclass(frozen=True)
class Match:
    """One signature recognised in one record of one input."""

    code: str
    runbook: str
    step: int | None
    source: str
    line: int
    excerpt: str  # redacted
    signatures: tuple[int, ...]  # which of the cause's signatures matched (indices)


def _decode(line: bytes) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("cp1252", errors="replace")
    return text.rstrip("\r")


def _excerpt(line: str, anchors: Sequence[str]) -> str:
    """Up to EXCERPT characters each side of the first anchor, redacted *before* cutting
    (a cut could otherwise leave a secret's tail that no longer looks like one)."""
    line = redact_text(line)
    low = line.lower()
    at = min((p for p in (low.find(a) for a in anchors) if p >= 0), default=0)
    start = max(0, at - EXCERPT)
    end = min(len(line), at + EXCERPT)
    text = _CONTROLS.sub(lambda m: f"\\x{ord(m.group()):02x}", line[start:end].strip())
    return ("…" if start > 0 else "") + text + ("…" if end < len(line) else "")


# Terminal control characters (escape sequences, a lone carriage return) shown, never obeyed.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\x9b]")


class Scanner:
    """Matches the catalogue's signatures against streams of text blocks."""

    def __init__(self, signatures: Sequence[Signature]) -> None:
        self.signatures = list(signatures)
        self.anchors = all_anchors(self.signatures)
        self.prefilter = Prefilter(self.anchors)
        self._by_anchor: dict[str, list[int]] = {a: [] for a in self.anchors}
        for position, sig in enumerate(self.signatures):
            for anchor in sig.anchors:
                self._by_anchor[anchor].append(position)

    def _evaluate(self, lines: Sequence[bytes], first_line: int, source: str) -> list[Match]:
        texts = [_decode(line) for line in lines]
        lows = [t.lower() for t in texts]
        joined_low = "\n".join(lows)
        positions = {p for a in self.anchors if a in joined_low for p in self._by_anchor[a]}
        candidates = [
            s
            for s in (self.signatures[p] for p in sorted(positions))
            if all(n in joined_low for n in s.needs)
        ]
        if not candidates:
            return []
        record = Record.of("\n".join(texts))
        matched = [s for s in candidates if s.matches(record)]
        codes = {s.code for s in matched}
        matched = [s for s in matched if not any(s.yields_to(c) for c in codes)]
        found: dict[str, Match] = {}
        for sig in matched:
            if sig.code in found:
                continue
            which = tuple(s.index for s in matched if s.code == sig.code)
            index = next((i for i, low in enumerate(lows) if any(a in low for a in sig.anchors)), 0)
            found[sig.code] = Match(
                code=sig.code,
                runbook=sig.runbook,
                step=sig.step,
                source=source,
                line=first_line + index,
                excerpt=_excerpt(texts[index], sig.anchors),
                signatures=which,
            )
        return list(found.values())

    def scan(self, blocks: Iterable[bytes], source: str) -> Iterator[Match]:
        """Matches in the order they occur; `blocks` is any chunking of the input's bytes."""
        pending = b""  # an incomplete last line
        context = b""  # lines before the block (already matched, or a carried open record)
        carried = False  # `context` is an open record that still has to be matched
        line_base = 1  # line number of the first line of `context`
        iterator = iter(blocks)
        while True:
            raw = next(iterator, None)
            final = raw is None
            data = pending + (raw or b"")
            cut = len(data) if final else data.rfind(b"\n") + 1
            if cut == 0 and not final:
                if len(data) < MAX_LINE:
                    pending = data
                    continue
                cut = len(data)
            block, pending = data[:cut], data[cut:]
            hits = self.prefilter.hits(block) if block else []
            if hits or carried:
                buf = context + block
                hit_at = [len(context) + h for h in hits]
                if carried:
                    hit_at = self.prefilter.hits(context) + hit_at
                matches, keep_from, carried = self._block(buf, hit_at, line_base, source, final)
                yield from matches
            else:
                buf = context + block
                keep_from = _tail(buf)
                carried = False
            line_base += buf.count(b"\n", 0, keep_from)
            context = buf[keep_from:]
            if final:
                return

    def _block(
        self, buf: bytes, hit_at: list[int], line_base: int, source: str, final: bool
    ) -> tuple[list[Match], int, bool]:
        """Match the records of `buf` that hold a hit; say where the kept context starts.

        Only a window of lines around each hit is split into records, so a block with a
        few hits costs little more than one without.
        """
        matches: list[Match] = []
        done = 0  # records before this offset were matched already
        line, line_at = line_base, 0  # the line number at offset `line_at`
        for hit in hit_at:
            if hit <= done:
                continue
            lo, hi, lines, open_end = _record_around(buf, hit - 1)
            if open_end and not final and hi - lo < MAX_LINE:
                return matches, lo, True  # the record may continue in the next block
            line += buf.count(b"\n", line_at, lo)
            line_at = lo
            matches += self._evaluate(lines, line, source)
            done = hi
        return matches, _tail(buf), False


def _tail(buf: bytes) -> int:
    """Where the context kept for the next block starts: the last CONTEXT bytes, whole lines."""
    if len(buf) <= CONTEXT:
        return 0
    return buf.find(b"\n", len(buf) - CONTEXT) + 1 or len(buf)


def _record_around(buf: bytes, at: int) -> tuple[int, int, list[bytes], bool]:
    """The record holding offset `at`: [lo, hi) offsets, its lines, and whether it reaches the end."""
    window_lo, window_hi = records_mod.window(buf, at)
    lines = buf[window_lo:window_hi].split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    hit_line = buf.count(b"\n", window_lo, at)
    offsets = [window_lo]
    for text in lines:
        offsets.append(offsets[-1] + len(text) + 1)
    first, end = next(
        ((f, e) for f, e in records_mod.split(lines) if f <= hit_line < e),
        (hit_line, hit_line + 1),
    )
    lo, hi = offsets[first], min(offsets[end], len(buf))
    open_end = end == len(lines) and window_hi >= len(buf)
    return lo, hi, lines[first:end], open_end
