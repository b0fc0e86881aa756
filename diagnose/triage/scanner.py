"""Stream evidence through the signatures in constant memory.

Blocks of about a megabyte are cut at line ends. The prefilter says whether a
block holds any anchor; blocks without one only have their lines counted. A
block with a few hits is split into lines and records (`records.py`), and only
the records holding a hit are matched. A record still open at the end of a block
is carried into the next one (bounded by the record caps), and the last 64 KiB of
each block are kept so that a record's first lines are seen.

A *dense* block (an incident log: hits on most lines) whose every line starts a
record is read whole instead: its ids are replaced and its digits masked for the
whole block at once, and each line's verdict comes from the verdict cache
(`verdicts.py`), so such a block costs a dictionary look-up per line plus the
reading of each hit's time and request ids. `fast=False` is the plain path (no
cache, no dense reading): the same answers, which `tests/triage/test_fastpath.py`
holds the fast path to.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import NamedTuple

from diagnose.redact import redact_text
from diagnose.triage import masking, requestids
from diagnose.triage import records as records_mod
from diagnose.triage.prefilter import Prefilter
from diagnose.triage.signatures import Signature
from diagnose.triage.timestamps import YearHint, parse_at
from diagnose.triage.verdicts import Entry, Verdicts, decode, restore

MAX_LINE = 1 << 20  # a longer line is cut into pieces of this size
CONTEXT = 64 * 1024
EXCERPT = 160  # characters on each side of the anchor
DENSE = 64  # anchor hits in a block from which it is read whole


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


class Seen(NamedTuple):
    """One record that shows at least one cause."""

    line: int  # its first line (1-based)
    entry: Entry
    text: bytes  # its lines as read, joined by newlines
    time: float | None  # its own time (epoch seconds, UTC), when it has one
    year_assumed: bool  # that time's year came from the file (syslog)
    ids: tuple[str, ...]  # its request ids


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
_STARTS = re.compile(rb"(?:" + records_mod._HTTP.pattern + rb")|(?:" + records_mod._START.pattern + rb")")


def matches_of(seen: Seen, source: str) -> list[Match]:
    """The matches of one record, with their redacted excerpts."""
    lines = seen.text.split(b"\n")
    return [
        Match(
            code=hit.code,
            runbook=hit.runbook,
            step=hit.step,
            source=source,
            line=seen.line + hit.index,
            excerpt=_excerpt(decode(lines[hit.index]), hit.anchors),
            signatures=hit.signatures,
        )
        for hit in seen.entry.hits
    ]


class Scanner:
    """Matches the catalogue's signatures against streams of text blocks."""

    def __init__(
        self, signatures: Sequence[Signature], *, fast: bool = True, engine: str = "auto"
    ) -> None:
        self.verdicts = Verdicts(signatures, engine)
        self.signatures = self.verdicts.signatures
        self.anchors = self.verdicts.anchors
        self.prefilter = Prefilter(self.anchors, engine)
        self.fast = fast

    def scan(self, blocks: Iterable[bytes], source: str) -> Iterator[Match]:
        """Matches in the order they occur; `blocks` is any chunking of the input's bytes."""
        for seen in self.records(blocks):
            yield from matches_of(seen, source)

    def records(self, blocks: Iterable[bytes], hint: YearHint | None = None) -> Iterator[Seen]:
        """The records that show a cause, in the order they occur."""
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
            buf = context + block
            hits = self.prefilter.hits(block, limit=DENSE if self.fast else None) if block else []
            dense = None
            if self.fast and len(hits) >= DENSE:
                dense = self._dense(buf, len(context), carried, line_base, final, hint)
                if dense is None:
                    hits = self.prefilter.hits(block)
            if dense is not None:
                found, keep_from, carried = dense
                yield from found
            elif hits or carried:
                hit_at = [len(context) + h for h in hits]
                if carried:
                    hit_at = self.prefilter.hits(context) + hit_at
                found, keep_from, carried = self._block(buf, hit_at, line_base, final, hint)
                yield from found
            else:
                keep_from = _tail(buf)
                carried = False
            line_base += buf.count(b"\n", 0, keep_from)
            context = buf[keep_from:]
            if final:
                return

    def _record(self, lines: list[bytes], first_line: int, hint: YearHint | None) -> Seen | None:
        """One record (its lines) through the verdicts; None when it shows nothing."""
        text = b"\n".join(lines)
        verdicts = self.verdicts
        canon = verdicts.canonical(text)
        if self.fast:
            entry = verdicts.entry(canon, verdicts.key(canon, verdicts.marks.spans(canon)))
        else:
            entry = verdicts.evaluate(canon)
        if not entry.hits:
            return None
        return _seen(first_line, entry, text, canon, hint)

    def _block(
        self, buf: bytes, hit_at: list[int], line_base: int, final: bool, hint: YearHint | None
    ) -> tuple[list[Seen], int, bool]:
        """Match the records of `buf` that hold a hit; say where the kept context starts.

        Only a window of lines around each hit is split into records, so a block with a
        few hits costs little more than one without.
        """
        found: list[Seen] = []
        done = 0  # records before this offset were matched already
        line, line_at = line_base, 0  # the line number at offset `line_at`
        for hit in hit_at:
            if hit <= done:
                continue
            lo, hi, lines, open_end = _record_around(buf, hit - 1)
            if open_end and not final and hi - lo < MAX_LINE:
                return found, lo, True  # the record may continue in the next block
            line += buf.count(b"\n", line_at, lo)
            line_at = lo
            seen = self._record(lines, line, hint)
            if seen is not None:
                found.append(seen)
            done = hi
        return found, _tail(buf), False

    def _dense(
        self,
        buf: bytes,
        start: int,
        carried: bool,
        line_base: int,
        final: bool,
        hint: YearHint | None,
    ) -> tuple[list[Seen], int, bool] | None:
        """Read `buf[start:]` line by line when each of its lines is a record; else None.

        The last line is carried into the next block (continuation lines may follow);
        a record carried from the block before is matched first, as `_block` would.
        """
        block = buf[start:]
        lines = block.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        elif not final:
            return None  # a line cut at MAX_LINE: leave it to the plain reading
        if not lines or not all(map(_STARTS.match, lines)):
            return None
        if start and not buf[buf.rfind(b"\n", 0, start - 1) + 1 : start].strip():
            return None  # a blank line before: the first line may be an HTTP message's body
        found: list[Seen] = []
        if carried:
            found += self._block(buf, self.prefilter.hits(buf[:start]), line_base, True, hint)[0]
        first = line_base + buf.count(b"\n", 0, start)
        count = len(lines) if final else len(lines) - 1
        found += self._lines(block, lines, count, first, hint)
        if final:
            return found, len(buf), False
        return found, len(buf) - len(lines[-1]) - 1, True

    def _lines(
        self, block: bytes, lines: list[bytes], count: int, first: int, hint: YearHint | None
    ) -> list[Seen]:
        """The first `count` lines of `block`, each one record, through the verdict cache."""
        verdicts = self.verdicts
        canon = verdicts.canonical(block)
        marks = verdicts.marks.spans(canon)
        masked = canon.translate(masking.DIGITS_MASKED)
        if marks:
            masked = restore(masked, canon, marks)
        keys: list[object] = list(masked.split(b"\n"))
        canon_lines = canon.split(b"\n")
        exact, check = self._exact_lines(canon, canon_lines, marks, count)
        for i in exact:
            keys[i] = (canon_lines[i],)
        cached = verdicts.cached
        found: list[Seen] = []
        for i in range(count):
            key = keys[i]
            entry = cached(key)  # type: ignore[arg-type]
            if entry is None:
                entry = verdicts.entry(canon_lines[i], key)  # type: ignore[arg-type]
            if not entry.hits or (i in check and not self.prefilter.hits(lines[i], limit=1)):
                continue
            found.append(_seen(first + i, entry, lines[i], canon_lines[i], hint))
        return found

    def _exact_lines(
        self,
        canon: bytes,
        canon_lines: list[bytes],
        marks: list[tuple[int, int, int]],
        count: int,
    ) -> tuple[set[int], set[int]]:
        """Lines keyed exactly (see `Verdicts.key`), and those of them that are not ASCII
        (read only when the prefilter hits them, as the plain path reads them)."""
        exact: set[int] = set()
        check: set[int] = set()
        if not canon.isascii():
            check = {i for i in range(count) if not canon_lines[i].isascii()}
            exact |= check
        protected = len(self.verdicts.plan.protected)
        opaque = [s for s, _, index in marks if index >= protected]
        escaped = [m.start() for m in re.finditer(rb"\\u", canon)] if b"\\u" in canon else []
        if opaque or escaped:
            ends = list(accumulate(len(line) + 1 for line in canon_lines))
            exact |= {bisect_right(ends, at) for at in opaque + escaped}
        return {i for i in exact if i < count}, check


def _seen(first_line: int, entry: Entry, text: bytes, canon: bytes, hint: YearHint | None) -> Seen:
    stamp = parse_at(canon, entry.stamp, hint) if entry.stamp else None
    return Seen(
        line=first_line,
        entry=entry,
        text=text,
        time=stamp[0] if stamp else None,
        year_assumed=stamp[1] if stamp else False,
        ids=requestids.values(text, entry.ids) if entry.ids else (),
    )


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
