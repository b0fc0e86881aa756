"""Verdicts for a dense block's lines in whole-block passes: one look per *shape* of line.

An incident log repeats a few lines with new ids, times and numbers. A line's *shape*
is its text with its ids replaced (as the signatures see it) and every digit masked.
The scanner groups a block's lines by their *hex-alike form* (every hex digit one
letter: one `bytes.translate` of the block, after which ids of one kind look alike and
lines that differ only in ids and numbers are equal), then checks, a stretch at a
time over all the lines of a form (`bytes.startswith` in C-level loops), that they
equal the first line's shape between the ids; within a shape, lines are told
apart only where a digit could change a verdict:

- a digit run some *context* pattern could cover (`msg-000500-500`, `AADSTS7000112`:
  a protected pattern holding a letter or a sign, `masking.py`) is *fixed*: lines
  share the shape's verdict only with the same digits there;
- a longer run (at least as long as the shortest *digit-only* protected pattern:
  `403`, `4000`, `40[2-9][0-9]`) is *watched*: its digits matter only where such a
  pattern occurs in it, which is asked once per distinct run (`holds`), or, for runs
  of the shortest length, by one pass against the few values that hold one;
- a shorter run (a timestamp's minutes, a `:05`) cannot hold a protected digit and
  is free.

A line that does not agree is keyed on its own. So a line costs a few C-level
passes, not a pass of the signatures nor a Python call per id or number it holds.

Why this is exact: lines with one key have the same text but for ids (which the
signatures never see: `masking.py`) and the digits of free runs and of watched runs
that hold no protected pattern in either line; those digits lie in no occurrence of
any protected pattern (a digit-only pattern lies within one run; a context pattern's
reach is fixed), which is the condition under which `masking.py` shows that every
signature answers alike. `tests/triage/test_fastpath.py` checks it on random logs.
Where a catalogue has what this cannot follow (an opaque anchor holding a digit, a
context pattern without a literal of its own, an id written in the catalogue),
`supported` is False and the scanner keys each line by its masked text
(`Verdicts.masked`), as it does for a block whose forms do not repeat.
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Hashable, Iterable, Sequence
from itertools import compress, repeat
from operator import getitem, not_
from typing import Any, NamedTuple

from diagnose.triage import masking

_parser: Any = importlib.import_module("re._parser")
_c: Any = importlib.import_module("re._constants")

DANGER_DIGITS = 3  # runs up to this length have their protected values listed
DANGER_KEPT = 16
PLANS_KEPT = 4_096  # shapes whose plan is kept (memory stays flat)
RUNS_KEPT = 65_536  # digit runs whose answer is kept
_RUN = re.compile(rb"\xff+")  # a digit run of a masked line


class Plan(NamedTuple):
    """Where the digits of one shape of line can matter."""

    exact: bool  # an anchor of an opaque signature: each line is keyed by its own text
    fixed: tuple[tuple[int, int], ...]  # runs a context pattern could cover
    watched: tuple[tuple[int, int], ...]  # runs long enough for a digit-only pattern


class Context(NamedTuple):
    """A protected pattern holding more than digits: a literal every occurrence holds,
    and how far an occurrence reaches (None: any length)."""

    literal: bytes
    width: int | None


class Shapes:
    """Plans of shapes for one catalogue's masking plan, and the watched runs' answers."""

    def __init__(self, plan: masking.Plan) -> None:
        self.supported = bool(plan.placeholder) and not plan.catalogue_ids
        self.fill = plan.placeholder  # one letter: each id becomes a run of it
        self.opaque = tuple(a.lower().encode() for a in plan.opaque_anchors)
        if any(any(c.isdigit() for c in a.decode()) for a in self.opaque):
            self.supported = False  # digits are masked in a shape: such an anchor is not seen
        digit_only: list[str] = []
        self.contexts: list[Context] = []
        for pattern in plan.protected:
            nodes = _parser.parse(pattern, re.IGNORECASE)
            if masking._sequence_digits(list(nodes)) is not None:
                digit_only.append(pattern)
                continue
            literal = _literal(list(nodes))
            if not literal:
                self.supported = False
                continue
            hi = nodes.getwidth()[1]
            self.contexts.append(Context(literal, None if hi >= _c.MAXREPEAT else hi))
        self.shortest = min((_parser.parse(p).getwidth()[0] for p in digit_only), default=1 << 30)
        self._digit_only = (
            re.compile("|".join(f"(?:{p})" for p in digit_only).encode()) if digit_only else None
        )
        self._plans: dict[bytes, Plan] = {}
        self._ids: dict[bytes, list[tuple[int, int]]] = {}
        # the runs of the shortest length that hold a digit-only pattern, when they are few:
        # one `startswith` pass over a group asks whether any line holds one
        self._danger: dict[int, tuple[bytes, ...]] = {}
        if self._digit_only is not None and self.shortest <= DANGER_DIGITS:
            width = self.shortest
            runs = (str(n).zfill(width).encode() for n in range(10**width))
            held = tuple(r for r in runs if self._digit_only.search(r))
            if len(held) <= DANGER_KEPT:
                self._danger[width] = held
        self._held = _Held(self._digit_only)
        self.holds: Callable[[bytes], bool] = self._held.__getitem__
        """Whether a digit-only protected pattern occurs in a run of digits (remembered)."""

    def plan(self, shape: bytes) -> Plan:
        """The plan of a shape (a line with its ids replaced and its digits masked)."""
        found = self._plans.get(shape)
        if found is None:
            if len(self._plans) >= PLANS_KEPT:
                self._plans.clear()
            found = self._plans[shape] = self._make(shape)
        return found

    def _make(self, shape: bytes) -> Plan:
        low = shape.lower()
        if any(a in low for a in self.opaque):
            return Plan(True, (), ())
        runs = [m.span() for m in _RUN.finditer(shape)]
        reach: list[tuple[int, int]] = []  # where a context pattern could occur
        for context in self.contexts:
            at = low.find(context.literal)
            while at >= 0:
                if context.width is None:
                    reach.append((0, len(shape)))
                else:
                    reach.append((at - context.width, at + len(context.literal) + context.width))
                at = low.find(context.literal, at + 1)
        fixed = tuple(r for r in runs if any(lo < r[1] and r[0] < hi for lo, hi in reach))
        watched = tuple(r for r in runs if r not in fixed and r[1] - r[0] >= self.shortest)
        return Plan(False, fixed, watched)

    def keyed(
        self, form: bytes, masked: Sequence[bytes], raw: Sequence[bytes]
    ) -> list[tuple[Hashable | None, list[int]]]:
        """The lines of one hex-alike `form` (`alike`) grouped by key: (key, indices into
        `raw`), the first line's key first; key None: a line keyed by its own text (an
        opaque anchor).

        `masked` are the same lines with their digits masked: between the ids, they
        must equal the first line's for a line to share its shape.
        """
        spans = self._ids.get(form)
        if spans is None:
            if len(self._ids) >= PLANS_KEPT:
                self._ids.clear()
            spans = self._ids[form] = id_spans(form)
        first = masked[0]
        odd: set[int] = set()
        starts = [lo for lo, _ in spans] + [len(first)]
        for lo, hi in zip([0, *(hi for _, hi in spans)], starts, strict=True):
            if hi > lo:
                odd |= _differing(masked, first[lo:hi], lo)
        shape = _filled(first, spans, self.fill)
        plan = self.plan(shape)
        if plan.exact:
            return [(None, list(range(len(raw))))]
        key, more, more_keys = self.keys(shape, plan, raw, odd)
        if not more:
            return [(key, list(range(len(raw))))]
        shared = bytearray(b"\x01") * len(raw)
        for j in more:
            shared[j] = 0
        out: list[tuple[Hashable | None, list[int]]] = [
            (key, list(compress(range(len(raw)), shared)))
        ]
        out += [(own, [j]) for j, own in zip(more, more_keys, strict=True)]
        return out

    def keys(
        self, shape: bytes, plan: Plan, group: Sequence[bytes], other: set[int]
    ) -> tuple[Hashable, list[int], list[Hashable | None]]:
        """The key the lines of `group` (of this shape, not exact, but for those at `other`:
        lines of another shape, `keyed`) share, the indices of those that do not share it,
        and each of those lines' own key."""
        first = group[0]
        odd = set(other)
        for lo, hi in plan.fixed:
            odd |= _differing(group, first[lo:hi], lo)
        for lo, hi in plan.watched:
            value = first[lo:hi]
            danger = self._danger.get(hi - lo)
            if self.holds(value):
                odd |= _differing(group, value, lo)
            elif danger is not None:  # (a line with other than digits there is odd already)
                hit = list(map(bytes.startswith, group, repeat(danger), repeat(lo)))
                if any(hit):
                    odd.update(compress(range(len(group)), hit))
            elif not all(map(bytes.startswith, group, repeat(value), repeat(lo))):
                cut: Callable[..., bytes] = getitem
                runs: Iterable[bytes] = map(cut, group, repeat(slice(lo, hi)))
                held = list(map(self.holds, runs))
                if any(held):
                    odd.update(compress(range(len(group)), held))
        ones = sorted(odd)
        own = [self._own(group[i]) if i in other else self.key(shape, plan, group[i]) for i in ones]
        return self.key(shape, plan, first), ones, own

    def _own(self, line: bytes) -> Hashable | None:
        """The key of a line of its own shape (None: keyed by its own text)."""
        shape = mask(line, self.fill)
        plan = self.plan(shape)
        return None if plan.exact else self.key(shape, plan, line)

    def key(self, shape: bytes, plan: Plan, line: bytes) -> Hashable:
        """One line's key: its shape, its fixed runs, and its watched runs that hold a
        protected pattern."""
        fixed = tuple(line[lo:hi] for lo, hi in plan.fixed)
        held = tuple(
            run if self.holds(run) else b"" for run in (line[lo:hi] for lo, hi in plan.watched)
        )
        return (shape, fixed, held)


class _Held(dict[bytes, bool]):
    """Digit runs -> whether a digit-only protected pattern occurs in them; looked up in
    C-level loops, worked out on a miss, forgotten all at once when full."""

    def __init__(self, pattern: re.Pattern[bytes] | None) -> None:
        super().__init__()
        self.pattern = pattern

    def __missing__(self, run: bytes) -> bool:
        if len(self) >= RUNS_KEPT:
            self.clear()
        found = self[run] = self.pattern is not None and self.pattern.search(run) is not None
        return found


def _differing(group: Sequence[bytes], value: bytes, at: int) -> set[int]:
    """The indices of the lines of `group` without `value` at offset `at`."""
    if all(map(bytes.startswith, group, repeat(value), repeat(at))):
        return set()
    same = map(bytes.startswith, group, repeat(value), repeat(at))
    return set(compress(range(len(group)), map(not_, same)))


def _literal(nodes: list[tuple[Any, Any]]) -> bytes:
    """The longest run of literal characters other than digits that every match of a
    pattern holds (its top-level sequence), lower case; b"" when there is none."""
    best = current = ""
    for op, av in nodes:
        if str(op) == "LITERAL" and not chr(av).isdigit():
            current += chr(av).lower()
            best = max(best, current, key=len)
        else:
            current = ""
    return best.encode()


# Every hex digit becomes `h`, and `h` itself another word character: an `h` of the form
# is a hex digit of the text, so an id of the form is one of the text.
_HEX_ALIKE = bytes.maketrans(b"0123456789abcdefABCDEFhH", b"h" * 22 + b"gg")
_ID_ALIKE = re.compile(
    rb"(?<![A-Za-z0-9_])(?:hhhhhhhh-hhhh-hhhh-hhhh-hhhhhhhhhhhh|h{32}|h{16})(?![A-Za-z0-9_])"
)  # masking.ID_PATTERNS, in a hex-alike text
ID_PATTERNS = (masking.UUID, masking.HEX32, masking.HEX16)  # what `_ID_ALIKE` finds


def alike(data: bytes) -> bytes:
    """`data` with every hex digit one letter (h): its ids look alike, and word
    characters stay word characters."""
    return data.translate(_HEX_ALIKE)


def id_spans(text: bytes) -> list[tuple[int, int]]:
    """Where the ids (`masking.ID_PATTERNS`) of a hex-alike text are: a run of `h` of an
    id's form between word boundaries (ids never overlap: each is a whole word, or
    hyphenated words of other lengths)."""
    if b"hhhhhhhh" not in text:  # (memchr-fast: most texts hold no id)
        return []
    return [m.span() for m in _ID_ALIKE.finditer(text)]


def _filled(masked: bytes, spans: list[tuple[int, int]], fill: bytes) -> bytes:
    """`masked` with each id at `spans` replaced by a run of `fill` (one letter)."""
    if not spans:
        return masked
    out = bytearray(masked)
    for lo, hi in spans:
        out[lo:hi] = fill * (hi - lo)
    return bytes(out)


def mask(data: bytes, fill: bytes) -> bytes:
    """`data` with its ids replaced by runs of `fill` and every digit masked: its shape."""
    return _filled(data.translate(masking.DIGITS_MASKED), id_spans(alike(data)), fill)
