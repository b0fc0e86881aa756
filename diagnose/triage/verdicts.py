"""A record's verdict: which causes its text shows, computed once per shape of record.

`Verdicts.evaluate` is the plain path: canonical ids, then every candidate signature
on the normalised text. `Verdicts.entry` is the same answer through a bounded cache
keyed on the masked record (`masking.py` says why records with one key share their
verdict); for an incident log's blocks the scanner keys lines by shape in whole-block
passes (`shapes.py`), so that a line costs a few C-level passes, not a verdict.

An `Entry` also says where the record's time and request ids sit
(`timestamps.locate`, `requestids.locate`): both depend only on the record's shape,
so a cached entry tells where to read them in the next record of the same key.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from functools import cached_property
from typing import NamedTuple

from diagnose.model import Severity
from diagnose.triage import masking, records, requestids, timestamps
from diagnose.triage import shapes as shaping
from diagnose.triage.finder import SpanFinder
from diagnose.triage.signatures import Record, Signature, all_anchors

CACHE_SIZE = 20_000  # entries kept; the oldest goes first (memory stays flat)
SERVER_ERROR = "campaign.server-error"
EXPLAINING_RUNBOOK = "cosmosdb-auth-errors"


def explains_server_error(code: str, runbook: str, severity: Severity) -> bool:
    """True when a cause is evidence from the chain behind the campaign API's 500."""
    return runbook == EXPLAINING_RUNBOOK and code != SERVER_ERROR and severity is Severity.FAIL


class Hit(NamedTuple):
    """One cause recognised in a record: which of its signatures, and on which of its lines."""

    code: str
    runbook: str
    step: int | None
    signatures: tuple[int, ...]
    line: int  # the record's line (0: its first) holding the signature's first anchor
    anchors: tuple[str, ...]


class Entry(NamedTuple):
    """What one shape of record means: its hits, and where its time and ids sit."""

    hits: tuple[Hit, ...]
    starts: bool = True  # a one-line record: the line starts a record (`records._START`)
    stamp: timestamps.Stamp | None = None  # where the record's time is
    ids: tuple[tuple[int, int], ...] = ()
    server_error: bool = False
    explains: bool = False


NOTHING = Entry(())
NOTHING_MIDWAY = Entry((), starts=False)  # nothing, on a line that continues a record


def _decode(line: bytes) -> str:
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        text = line.decode("cp1252", errors="replace")
    return text.rstrip("\r")


class Verdicts:
    """The catalogue's signatures applied to records, with the verdict cache."""

    def __init__(self, signatures: Sequence[Signature], engine: str = "auto") -> None:
        self.signatures = list(signatures)
        self.anchors = all_anchors(self.signatures)
        self._by_anchor: dict[str, list[int]] = {a: [] for a in self.anchors}
        for position, sig in enumerate(self.signatures):
            for anchor in sig.anchors:
                self._by_anchor[anchor].append(position)
        self.engine = engine
        self._cache: dict[Hashable, Entry] = {}

    # What masking needs is worked out at the first record that holds a hit: a log without
    # one (or `--help`) does not pay for it.

    @cached_property
    def plan(self) -> masking.Plan:
        return masking.plan(self.signatures)

    @cached_property
    def marks(self) -> SpanFinder:
        """One scan of a text as read finds its ids, the anchors of opaque signatures and
        the protected digits, in that order of pattern index (see `masked`)."""
        plan = self.plan
        return SpanFinder(
            list(masking.ID_PATTERNS)
            + [masking.re_literal(a) for a in plan.opaque_anchors]
            + [p.encode() for p in plan.protected],
            caseless=True,
            engine=self.engine,
        )

    @property
    def _opaque_from(self) -> int:
        return len(masking.ID_PATTERNS)

    @cached_property
    def _protected_from(self) -> int:
        return self._opaque_from + len(self.plan.opaque_anchors)

    def masked(self, data: bytes) -> tuple[bytes, list[int]]:
        """`data` as a cache key (every digit masked but the protected ones, ids replaced),
        and where the anchors of opaque signatures are in it.

        The marks come from the text as read, not the one with its ids replaced: a
        protected pattern never holds the placeholder, so it holds the same places in
        both, except inside ids, which the placeholder then overwrites (hyperscan reports
        a match inside an id before the id, which ends later). Where the order is other,
        an id keeps some of its digits in the key: a finer key, as exact.
        """
        out = bytearray(data.translate(masking.DIGITS_MASKED))
        finder = self.marks
        widths = finder.widths
        protected, opaque = self._protected_from, self._opaque_from
        placeholder, exempt = self._placeholder
        fills = self._fills
        opaque_at: list[int] = []

        def on_match(index: int, start: int, end: int, _flags: int, _ctx: object) -> None:
            width = widths[index]
            if width is not None:
                start = end - width
            if index >= protected:
                out[start:end] = data[start:end]
            elif index >= opaque:
                opaque_at.append(start)
            elif placeholder and not (exempt and data[start:end].lower() in exempt):
                out[start:end] = fills[index]

        finder.each(data, on_match)
        return bytes(out), opaque_at

    @cached_property
    def _placeholder(self) -> tuple[bytes, frozenset[bytes]]:
        return masking.placeholder_and_ids(self.signatures)

    @cached_property
    def _ids(self) -> SpanFinder:
        """The ids alone (for the plain path, which needs no analysis of the catalogue)."""
        return SpanFinder(list(masking.ID_PATTERNS), caseless=True, engine=self.engine)

    @cached_property
    def shapes(self) -> shaping.Shapes:
        """Where digits can matter in each shape of line (the dense reading's keys)."""
        found = shaping.Shapes(self.plan)
        if masking.ID_PATTERNS != shaping.ID_PATTERNS:
            found.supported = False  # `shaping.mask` finds these ids, and those only
        return found

    @cached_property
    def _fills(self) -> list[bytes]:
        """One placeholder run per id pattern (each has one length)."""
        return [self._placeholder[0] * n for n in masking.ID_LENGTHS]

    # -- the plain path -------------------------------------------------------------------

    def canonical(self, data: bytes) -> bytes:
        """`data` with its ids replaced by the placeholder (same length)."""
        placeholder, exempt = self._placeholder
        if not placeholder:
            return data
        spans = self._ids.spans(data)
        if not spans:
            return data
        spans = [
            (start, end, index)
            for start, end, index in spans
            if not (exempt and data[start:end].lower() in exempt)
        ]
        if not spans:
            return data
        out = bytearray(data)
        fills = self._fills
        for start, end, index in spans:
            out[start:end] = fills[index]
        return bytes(out)

    def hits(self, canon_lines: Sequence[bytes]) -> tuple[Hit, ...]:
        """The causes one record (its lines, ids already canonical) shows."""
        texts = [_decode(line) for line in canon_lines]
        lows = [t.lower() for t in texts]
        joined_low = "\n".join(lows)
        positions = {p for a in self.anchors if a in joined_low for p in self._by_anchor[a]}
        candidates = [
            s
            for s in (self.signatures[p] for p in sorted(positions))
            if all(n in joined_low for n in s.needs)
        ]
        if not candidates:
            return ()
        record = Record.of("\n".join(texts))
        matched = [s for s in candidates if s.matches(record)]
        codes = {s.code for s in matched}
        matched = [s for s in matched if not any(s.yields_to(c) for c in codes)]
        found: dict[str, Hit] = {}
        for sig in matched:
            if sig.code in found:
                continue
            which = tuple(s.index for s in matched if s.code == sig.code)
            index = next((i for i, low in enumerate(lows) if any(a in low for a in sig.anchors)), 0)
            found[sig.code] = Hit(sig.code, sig.runbook, sig.step, which, index, sig.anchors)
        return tuple(found.values())

    def evaluate(self, canon: bytes) -> Entry:
        """The entry of one record (canonical bytes, lines joined by newlines), uncached.

        `starts` is read from the canonical text: an id never starts a record, whatever
        its digits, and neither does the placeholder, so it is the record's own answer.
        """
        lines = canon.split(b"\n")
        found = self.hits(lines)
        starts = records.starts(lines[0])
        if not found:
            return NOTHING if starts else NOTHING_MIDWAY
        severity = {s.code: s.severity for s in self.signatures}
        return Entry(
            hits=found,
            starts=starts,
            stamp=timestamps.locate(canon),
            ids=requestids.locate(canon),
            server_error=any(h.code == SERVER_ERROR for h in found),
            explains=any(explains_server_error(h.code, h.runbook, severity[h.code]) for h in found),
        )

    # -- the cached path ------------------------------------------------------------------

    def key(self, text: bytes) -> tuple[bytes, Hashable]:
        """A record's canonical text and its cache key: digits masked but the protected ones,
        or the canonical text itself when masking does not apply (see masking.py)."""
        canon = self.canonical(text)
        if not canon.isascii() or b"\\u" in canon:
            return canon, (canon,)
        masked, opaque = self.masked(text)
        if opaque:
            return canon, (canon,)  # an anchor of an opaque signature: exact
        return canon, masked

    def entry(self, canon: bytes, key: Hashable) -> Entry:
        """The entry of a record whose key is `key`, from the cache when it has one."""
        found = self._cache.get(key)
        if found is None:
            found = self.evaluate(canon)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()  # a log of ever new shapes: start again (memory stays flat)
            self._cache[key] = found
        return found

    @property
    def cached_entries(self) -> dict[Hashable, Entry]:
        """The cache itself (the scanner looks up a block's keys in one C-level pass)."""
        return self._cache


def decode(line: bytes) -> str:
    """A line as text: UTF-8, else Windows-1252; a trailing carriage return dropped."""
    return _decode(line)
