"""Stream evidence through the signatures in constant memory.

Blocks of about a megabyte are cut at line ends. The prefilter says whether a
block holds any anchor; blocks without one only have their lines counted. A
block with a few hits is split into lines and records (`records.py`), and only
the records holding a hit are matched. A record still open at the end of a block
is carried into the next one (bounded by the record caps), and the last 64 KiB of
each block are kept so that a record's first lines are seen.

A *dense* block (an incident log: hits on most lines) whose every line starts a
record is read whole instead: its lines are grouped by shape in whole-block passes
(`shapes.py`), and each shape's verdict comes from the verdict cache (`verdicts.py`),
so such a block costs a few C-level passes per line plus the reading of each hit's
time and request ids. `fast=False` is the plain path (no
cache, no dense reading): the same answers, which `tests/triage/test_fastpath.py`
holds the fast path to.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import accumulate, compress, repeat
from operator import add, is_
from typing import NamedTuple

from diagnose.redact import redact_text
from diagnose.triage import records as records_mod
from diagnose.triage import requestids
from diagnose.triage import shapes as shaping
from diagnose.triage.masking import DIGITS_MASKED
from diagnose.triage.prefilter import Prefilter
from diagnose.triage.signatures import Signature
from diagnose.triage.timestamps import Reader, YearHint
from diagnose.triage.verdicts import NOTHING, NOTHING_MIDWAY, Entry, Verdicts, decode

MAX_LINE = 1 << 20  # a longer line is cut into pieces of this size
CONTEXT = 64 * 1024
EXCERPT = 160  # characters on each side of the anchor
DENSE = 64  # anchor hits in a block from which it is read whole
WARM = 32  # hit records read the plain way before the cache (a sparse log never pays for it)
DENSE_RETRY = 8  # blocks read the plain way after a block that could not be read whole


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


class Batch(NamedTuple):
    """Records of one block that share an entry (one shape): each shows the entry's causes."""

    entry: Entry
    lines: list[int]  # each record's first line (1-based), ascending
    texts: list[bytes]  # each record's lines as read, joined by newlines
    times: list[float | None]  # each record's own time (epoch seconds, UTC), when it has one
    year_assumed: bool  # those times' year came from the file (syslog)
    ids: list[tuple[bytes, ...]]  # each record's request ids (lower case)


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


def matches_of(entry: Entry, line: int, text: bytes, source: str) -> list[Match]:
    """The matches of one record (its entry, first line and text), with redacted excerpts."""
    lines = text.split(b"\n")
    return [
        Match(
            code=hit.code,
            runbook=hit.runbook,
            step=hit.step,
            source=source,
            line=line + hit.line,
            excerpt=_excerpt(decode(lines[hit.line]), hit.anchors),
            signatures=hit.signatures,
        )
        for hit in entry.hits
    ]


def in_order(batches: Iterable[Batch]) -> list[tuple[int, Entry, bytes]]:
    """(first line, entry, text) of every record of these batches, in the order they occur."""
    return sorted(
        (
            (line, b.entry, text)
            for b in batches
            for line, text in zip(b.lines, b.texts, strict=True)
        ),
        key=lambda record: record[0],
    )


class Scanner:
    """Matches the catalogue's signatures against streams of text blocks."""

    def __init__(
        self,
        signatures: Sequence[Signature],
        *,
        fast: bool = True,
        engine: str = "auto",
        dense_hits: int = DENSE,
    ) -> None:
        """`fast=False` is the plain path; `dense_hits` is the anchor hits from which a block
        is tried whole (tests lower it to read small logs the dense way)."""
        self.verdicts = Verdicts(signatures, engine)
        self.signatures = self.verdicts.signatures
        self.anchors = self.verdicts.anchors
        self.prefilter = Prefilter(self.anchors, engine)
        self.fast = fast
        self.dense_hits = dense_hits
        self._records = 0  # records read the plain way (the first WARM of them: see WARM)

    def dense(self, block: bytes) -> bool:
        """Whether `block` holds as many anchor hits as a block the scanner reads whole."""
        return len(self.prefilter.hits(block, limit=self.dense_hits)) >= self.dense_hits

    def prepare(self) -> None:
        """Work out now what is otherwise worked out at the first hit (before forking)."""
        if not self.verdicts.shapes.supported:
            self.verdicts.marks.spans(b"")
        self.verdicts.canonical(b"")

    def scan(self, blocks: Iterable[bytes], source: str) -> Iterator[Match]:
        """Matches in the order they occur; `blocks` is any chunking of the input's bytes."""
        for batches in self.batches(blocks):
            for line, entry, text in in_order(batches):
                yield from matches_of(entry, line, text, source)

    def batches(
        self, blocks: Iterable[bytes], hint: YearHint | None = None
    ) -> Iterator[list[Batch]]:
        """For each block read, the records in it that show a cause, in batches."""
        times = Reader(hint)
        pending = b""  # an incomplete last line
        context = b""  # lines before the block (already matched, or a carried open record)
        carried = False  # `context` is an open record that still has to be matched
        line_base = 1  # line number of the first line of `context`
        calm = 0  # blocks left before the next try at a dense reading (one failed)
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
            limit = self.dense_hits if self.fast else None
            hits = self.prefilter.hits(block, limit=limit) if block else []
            dense = None
            if self.fast and len(hits) >= self.dense_hits:
                if calm == 0:
                    dense = self._dense(buf, block, carried, line_base, final, times)
                    calm = DENSE_RETRY if dense is None else 0
                else:
                    calm -= 1
                if dense is None:
                    hits = self.prefilter.hits(block)
            found: list[Batch] = []
            if dense is not None:
                found, keep_from, carried = dense
            elif hits or carried:
                hit_at = [len(context) + h for h in hits]
                if carried:
                    hit_at = self.prefilter.hits(context) + hit_at
                found, keep_from, carried = self._block(buf, hit_at, line_base, final, times)
            else:
                keep_from = _tail(buf)
                carried = False
            if found:
                yield found
            line_base += buf.count(b"\n", 0, keep_from)
            context = buf[keep_from:]
            if final:
                return

    def _record(self, lines: list[bytes], first_line: int, times: Reader) -> Batch | None:
        """One record (its lines) through the verdicts; None when it shows nothing."""
        text = b"\n".join(lines)
        verdicts = self.verdicts
        self._records += 1
        if self.fast and self._records > WARM:
            canon, key = verdicts.key(text)
            entry = verdicts.entry(canon, key)
        else:
            canon = verdicts.canonical(text)
            entry = verdicts.evaluate(canon)
        if not entry.hits:
            return None
        return _batch(entry, [first_line], [text], [canon], times)

    def _block(
        self, buf: bytes, hit_at: list[int], line_base: int, final: bool, times: Reader
    ) -> tuple[list[Batch], int, bool]:
        """Match the records of `buf` that hold a hit; say where the kept context starts.

        Only a window of lines around each hit is split into records, so a block with a
        few hits costs little more than one without.
        """
        found: list[Batch] = []
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
            seen = self._record(lines, line, times)
            if seen is not None:
                found.append(seen)
            done = hi
        return found, _tail(buf), False

    def _dense(
        self,
        buf: bytes,
        block: bytes,
        carried: bool,
        line_base: int,
        final: bool,
        times: Reader,
    ) -> tuple[list[Batch], int, bool] | None:
        """Read `block` (the end of `buf`) line by line when each of its lines is a record;
        else None.

        The last line is carried into the next block (continuation lines may follow);
        a record carried from the block before is matched first, as `_block` would.
        """
        start = len(buf) - len(block)
        lines = block.split(b"\n")
        if lines[-1] == b"":
            lines.pop()
        elif not final:
            return None  # a line cut at MAX_LINE: leave it to the plain reading
        if not lines:
            return None
        if start and not buf[buf.rfind(b"\n", 0, start - 1) + 1 : start].strip():
            return None  # a blank line before: the first line may be an HTTP message's body
        count = len(lines) if final else len(lines) - 1
        groups = self._groups(block, lines)
        if not all(entry.starts for entry, _ in groups):
            return None
        found: list[Batch] = []
        if carried:
            found += self._block(buf, self.prefilter.hits(buf[:start]), line_base, True, times)[0]
        first = line_base + buf.count(b"\n", 0, start)
        for entry, every in groups:
            indices = every if every[-1] < count else [i for i in every if i < count]
            if not entry.hits or not indices:
                continue
            found.append(
                _batch(
                    entry,
                    list(map(add, repeat(first), indices)),
                    texts := list(map(lines.__getitem__, indices)),
                    texts,  # a time is never in an id: read it from the text as it is
                    times,
                )
            )
        if final:
            return found, len(buf), False
        return found, len(buf) - len(lines[-1]) - 1, True

    def _groups(self, block: bytes, lines: list[bytes]) -> list[tuple[Entry, list[int]]]:
        """Every line of `block` (each taken as one record) grouped by its entry: lines of
        one shape share a key unless a digit that can matter differs (`shapes.py`)."""
        verdicts = self.verdicts
        shapes = verdicts.shapes
        if not shapes.supported:
            return _grouped(self._entries(block, lines))
        count = len(lines)
        forms = shaping.alike(block).split(b"\n", count)[:count]
        by_form = _by_value(forms)
        if len(by_form) > count // 2:  # shapes that do not repeat (a hex trace id per line)
            return _grouped(self._entries(block, lines))
        masked = block.translate(DIGITS_MASKED).split(b"\n", count)[:count]
        exact, check = self._exact_lines(block, lines, [], count)
        # Lines of one shape whose keys differ (a 500 whose latency reads 403) but whose
        # entries are equal are one batch; lines of different shapes never are (the times
        # and ids of a batch are read as the texts of one shape: `timestamps.Reader`).
        out: dict[tuple[bytes, Entry], tuple[Entry, list[int]]] = {}
        merged = False  # some entry's lines come from more than one place: sort them

        def put(shape: bytes, entry: Entry, indices: list[int]) -> None:
            nonlocal merged
            held = out.get((shape, entry))
            if held is None:
                out[shape, entry] = (entry, indices)
            else:
                held[1].extend(indices)
                merged = True

        cache = verdicts.cached_entries
        for form, indices in by_form:
            if exact:
                own = [i for i in indices if i in exact]
                indices = [i for i in indices if i not in exact]
                for i in own:
                    put(lines[i], self._exact_entry(lines[i], i in check), [i])
                if not indices:
                    continue
            whole = len(indices) == count
            group = lines if whole else list(map(lines.__getitem__, indices))
            group_masked = masked if whole else list(map(masked.__getitem__, indices))
            for key, where in shapes.keyed(form, group_masked, group):
                if key is None:
                    for j in where:
                        put(group[j], self._exact_entry(group[j], False), [indices[j]])
                    continue
                entry = cache.get(key) or verdicts.entry(verdicts.canonical(group[where[0]]), key)
                shape = key[0]  # type: ignore[index]  # (shape, fixed runs, held runs)
                put(
                    shape,
                    entry,
                    indices
                    if len(where) == len(indices)
                    else list(map(indices.__getitem__, where)),
                )
        groups = [(e, i) for e, i in out.values() if i]
        if merged:
            groups = [(e, sorted(i)) for e, i in groups]
        return groups

    def _exact_entry(self, line: bytes, check: bool) -> Entry:
        """The entry of a line keyed by its own canonical text (see `Verdicts.key`); a line
        that is not ASCII (`check`) is read only when the prefilter hits it."""
        verdicts = self.verdicts
        canon = verdicts.canonical(line)
        key = (canon,)
        entry = verdicts.cached_entries.get(key) or verdicts.entry(canon, key)
        if check and not self.prefilter.hits(line, limit=1):
            return NOTHING if entry.starts else NOTHING_MIDWAY
        return entry

    def _entries(self, block: bytes, lines: list[bytes]) -> list[Entry]:
        """The entry of every line of `block` (each taken as one record): ids replaced and
        digits masked for the whole block at once, then one cache look-up per line."""
        verdicts = self.verdicts
        count = len(lines)
        masked, opaque = verdicts.masked(block)
        keys: list[Hashable] = list(masked.split(b"\n", count)[:count])
        exact, check = self._exact_lines(block, lines, opaque, count)
        for i in exact:
            keys[i] = (verdicts.canonical(lines[i]),)
        entries = list(map(verdicts.cached_entries.get, keys))
        for i, entry in enumerate(entries):
            if entry is None:
                entries[i] = verdicts.entry(verdicts.canonical(lines[i]), keys[i])
        for i in check:
            if not self.prefilter.hits(lines[i], limit=1):
                entries[i] = NOTHING if entries[i].starts else NOTHING_MIDWAY  # type: ignore[union-attr]
        return entries  # type: ignore[return-value]

    def _exact_lines(
        self, block: bytes, lines: list[bytes], opaque: list[int], count: int
    ) -> tuple[set[int], set[int]]:
        """Lines keyed exactly (see `Verdicts.key`): not ASCII, holding a `\\u` escape or an
        anchor of an opaque signature (at the offsets `opaque`); and those of them that are
        not ASCII (read only when the prefilter hits them, as the plain path reads them)."""
        exact: set[int] = set()
        check: set[int] = set()
        if not block.isascii():  # (ids are ASCII, and so is what replaces them)
            check = {i for i in range(count) if not lines[i].isascii()}
            exact |= check
        escaped = (
            [m.start() for m in re.finditer(rb"\\u", block)]
            if b"\\" in block and b"\\u" in block  # a byte first: memchr, not a search
            else []
        )
        if opaque or escaped:
            ends = list(accumulate(len(line) + 1 for line in lines))
            exact |= {bisect_right(ends, at) for at in opaque + escaped}
        return {i for i in exact if i < count}, check


_FEW = 8  # distinct entries in a block up to which each is picked out in one C-level pass


def _by_value(values: list[bytes]) -> list[tuple[bytes, list[int]]]:
    """Each distinct value with the indices where it is, in first-seen order."""
    distinct = dict.fromkeys(values)
    if len(distinct) == 1:
        return [(values[0], list(range(len(values))))]
    if len(distinct) <= _FEW:
        every = range(len(values))
        number = {v: k for k, v in enumerate(distinct)}  # small ints: one object each
        numbers = list(map(number.__getitem__, values))  # (hashes cached by fromkeys)
        return [(v, list(compress(every, map(is_, numbers, repeat(k))))) for v, k in number.items()]
    groups: dict[bytes, list[int]] = {}
    for i, value in enumerate(values):
        group = groups.get(value)
        if group is None:
            groups[value] = [i]
        else:
            group.append(i)
    return list(groups.items())


def _grouped(entries: list[Entry]) -> list[tuple[Entry, list[int]]]:
    """Each distinct entry (by identity) with the indices where it is, in first-seen order."""
    distinct = list(dict(zip(map(id, entries), entries, strict=True)).values())
    if len(distinct) <= _FEW:
        every = range(len(entries))
        return [(e, list(compress(every, map(is_, entries, repeat(e))))) for e in distinct]
    groups: dict[int, tuple[Entry, list[int]]] = {}
    for i, entry in enumerate(entries):
        group = groups.get(id(entry))
        if group is None:
            group = groups[id(entry)] = (entry, [])
        group[1].append(i)
    return list(groups.values())


def _batch(
    entry: Entry, lines: list[int], texts: list[bytes], canons: list[bytes], times: Reader
) -> Batch:
    """The batch of records that share `entry`: their times and request ids read."""
    if entry.stamp is not None:
        when, assumed = times.read_many(canons, entry.stamp)
    else:
        when, assumed = [None] * len(texts), False
    return Batch(entry, lines, texts, when, assumed, requestids.values(texts, entry.ids))


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
