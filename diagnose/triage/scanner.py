"""Stream evidence through the signatures in constant memory.

Blocks of about a megabyte are cut at line ends. The prefilter says whether a
block holds any anchor; blocks without one only have their lines counted. A
block with a hit is split into lines and records (`records.py`), and only the
records holding a hit are normalised and matched. A record still open at the
end of a block is carried into the next one (bounded by the record caps), and
the last 64 KiB of each block are kept so that a record's first lines are seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from diagnose.redact import redact_text
from diagnose.triage import records as records_mod
from diagnose.triage.prefilter import Prefilter
from diagnose.triage.signatures import Record, Signature

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
    low = line.lower()
    at = min((p for p in (low.find(a) for a in anchors) if p >= 0), default=0)
    start = max(0, at - EXCERPT)
    end = min(len(line), at + EXCERPT)
    text = line[start:end].strip()
    text = ("…" if start > 0 else "") + text + ("…" if end < len(line) else "")
    return redact_text(text)


class Scanner:
    """Matches the catalogue's signatures against streams of text blocks."""

    def __init__(self, signatures: Sequence[Signature]) -> None:
        self.signatures = list(signatures)
        self.prefilter = Prefilter(list(dict.fromkeys(a for s in signatures for a in s.anchors)))

    def _evaluate(self, lines: Sequence[bytes], first_line: int, source: str) -> list[Match]:
        texts = [_decode(line) for line in lines]
        lows = [t.lower() for t in texts]
        joined_low = "\n".join(lows)
        candidates = [s for s in self.signatures if any(a in joined_low for a in s.anchors)]
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
                keep_from = max(0, len(block) - CONTEXT)
                buf = context + block
                keep_from = buf.find(b"\n", len(context) + keep_from) + 1 or len(buf)
                carried = False
            line_base += buf.count(b"\n", 0, keep_from)
            context = buf[keep_from:]
            if final:
                return

    def _block(
        self, buf: bytes, hit_at: list[int], line_base: int, source: str, final: bool
    ) -> tuple[list[Match], int, bool]:
        """Match the records of `buf` that hold a hit; say where the kept context starts."""
        lines = buf.split(b"\n")
        if lines and lines[-1] == b"":
            lines.pop()
        starts: list[int] = []
        offset = 0
        for line in lines:
            starts.append(offset)
            offset += len(line) + 1
        spans = records_mod.split(lines)
        matches: list[Match] = []
        hit_index = 0
        for number, (first, end) in enumerate(spans):
            lo = starts[first]
            hi = starts[end - 1] + len(lines[end - 1]) + 1
            while hit_index < len(hit_at) and hit_at[hit_index] < lo:
                hit_index += 1
            if hit_index >= len(hit_at) or hit_at[hit_index] > hi:
                continue
            is_last = number == len(spans) - 1
            if is_last and not final and end - first < records_mod.MAX_LINES and hi - lo < MAX_LINE:
                return matches, lo, True  # may continue in the next block
            matches += self._evaluate(lines[first:end], line_base + first, source)
        tail_from = max(0, len(buf) - CONTEXT)
        keep_from = buf.find(b"\n", tail_from) + 1 if tail_from else 0
        return matches, keep_from or (len(buf) if tail_from else 0), False
