"""Correlation: what matches mean together, beyond each signature alone.

The documented incident is a 500 from the execution API *and* evidence from the
Cosmos DB / key chain (a 403 revoked, a disabled principal, a refused key...) in
the same evidence. A 500 with nothing behind it is not forced into that cause:
it becomes `campaign.server-error-unexplained`, whose runbook says what to
collect next.

Record by record (`Correlator`), each 500 record is:
- **linked** when the same record holds the explaining evidence, or a record of
  the other kind carries one of its request ids (`requestids.py`);
- else **co-occurring** when an explaining record's own time lies within
  WINDOW_S seconds of it: seen together, not shown to be the same failure;
- else **unexplained**, or **undated** when it has no time to compare.
Request ids are kept for the first MAX_IDS / 2 and the last MAX_IDS / 2 to MAX_IDS
ids of each kind only, so memory stays flat: two records further apart than that
are not linked by id (a file read in parts, `parts.py`, joins each part's first ids
with the previous part's last). An id is kept as its hash (a collision of two
different ids within that window is not a concern at 64 bits).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from itertools import chain
from operator import itemgetter
from typing import NamedTuple

from diagnose.catalogue import Catalogue
from diagnose.triage import verdicts
from diagnose.triage.scanner import Match

SERVER_ERROR = verdicts.SERVER_ERROR
UNEXPLAINED = "campaign.server-error-unexplained"
EXPLAINING_RUNBOOK = verdicts.EXPLAINING_RUNBOOK
WINDOW_S = 60
MAX_IDS = 20_000


def explains_server_error(match: Match, catalogue: Catalogue) -> bool:
    """True when this match is evidence from the chain behind the campaign API's 500."""
    cause = catalogue.cause(match.code)
    return verdicts.explains_server_error(match.code, match.runbook, cause.severity)


def correlate(matches: list[Match], catalogue: Catalogue) -> list[Match]:
    """The matches, with a 500 that nothing explains turned into the unexplained cause."""
    if any(explains_server_error(m, catalogue) for m in matches):
        return matches
    unexplained = catalogue.cause(UNEXPLAINED)
    return [
        replace(m, code=unexplained.code, runbook=unexplained.runbook, step=unexplained.step)
        if m.code == SERVER_ERROR
        else m
        for m in matches
    ]


def rank(code: str, catalogue: Catalogue) -> tuple[int, int, int]:
    """The causal chain: the incident's runbook by step, other runbooks, the 500 last."""
    order = list(catalogue.causes)
    cause = catalogue.cause(code)
    if code in (SERVER_ERROR, UNEXPLAINED):
        return (2, 0, order.index(code))
    group = 0 if cause.runbook == EXPLAINING_RUNBOOK else 1
    return (group, cause.step or 0, order.index(code))


class Correlation(NamedTuple):
    """How the 500 records relate to the explaining ones."""

    server_errors: int
    linked: int
    co_occurring: int
    unexplained: int
    undated: int
    window_s: int = WINDOW_S
    ids_kept: int = MAX_IDS


class _Pending:
    """A 500 record not linked yet: its time, and whether a later record linked it."""

    __slots__ = ("linked", "second")

    def __init__(self, second: int | None) -> None:
        self.second = second
        self.linked = False


_MISSING = object()


class _Recent:
    """The first `size` keys put, and the last `size` to `2 * size` (two generations):
    memory stays flat, and a part of an input read apart can still be joined at both ends."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.first: dict[int, object] = {}
        self.new: dict[int, object] = {}
        self.old: dict[int, object] = {}

    def _all(self) -> tuple[dict[int, object], ...]:
        return (self.first, self.new, self.old)

    def __contains__(self, key: int) -> bool:
        return key in self.new or key in self.old or key in self.first

    def keys(self) -> set[int]:
        return set(self.first) | set(self.new) | set(self.old)

    def holds_any(self, keys: set[int]) -> bool:
        """Whether any of `keys` is held (each generation asked over the smaller side)."""
        return not all(kept.keys().isdisjoint(keys) for kept in self._all())

    def put_many(self, items: dict[int, object]) -> None:
        if len(self.first) < self.size:
            room = self.size - len(self.first)
            if len(items) > room:
                rest = list(items.items())
                self.first.update(rest[:room])
                items = dict(rest[room:])
            else:
                self.first.update(items)
                return
        self.new.update(items)
        if len(self.new) >= self.size:
            self.old, self.new = self.new, {}

    def get(self, key: int) -> object:
        for kept in self._all():
            found = kept.get(key, _MISSING)
            if found is not _MISSING:
                return found
        return _MISSING

    def pop_all(self, keys: set[int]) -> list[object]:
        """The values of those of `keys` held, removed."""
        found: list[object] = []
        for kept in self._all():
            found += [kept.pop(k) for k in kept.keys() & keys]
        return found

    def then(self, later: _Recent) -> _Recent:
        """The keys of this one, then those of `later` (an input's next part)."""
        joined = _Recent(self.size)
        joined.first = dict(self.first)
        joined.put_many({**self.new, **self.old})
        joined.put_many({**later.first, **later.old, **later.new})
        return joined


class Correlator:
    """Reads records and sorts their 500s into linked, co-occurring, unexplained, undated.

    A 500 record waiting for its evidence is kept under its id as its second (one id),
    or as a `_Pending` shared by its ids (several), so that it is linked once.
    """

    def __init__(self, window_s: int = WINDOW_S, max_ids: int = MAX_IDS) -> None:
        self.window_s = window_s
        self.max_ids = max_ids
        self.server_errors = 0
        self.linked = 0
        self._explaining = _Recent(max_ids // 2)  # ids of explaining records
        self._pending = _Recent(max_ids // 2)  # ids of unlinked 500 records -> those records
        self._unlinked: dict[int, list[int]] = {}  # minute -> unlinked 500s per second
        self._undated = 0  # unlinked 500s without a time
        self._explained: dict[int, int] = {}  # minute -> bit mask of seconds with evidence

    def add(
        self,
        server_error: bool,
        explains: bool,
        times: Sequence[float | None],
        ids: Sequence[tuple[bytes, ...]],
    ) -> None:
        """Records of one kind (a 500, explaining evidence, or both), their times and ids.

        The records may come in any order within one call: an id shared by a 500 and an
        explaining record links them whichever comes first.
        """
        seconds: list[int | None] = (
            list(map(int, times))  # type: ignore[arg-type]  # no None among them
            if None not in times
            else [None if t is None else int(t) for t in times]
        )
        if explains:
            self._evidence(seconds, ids)
        if not server_error:
            return
        self.server_errors += len(seconds)
        if explains:
            self.linked += len(seconds)
            return
        if set(map(len, ids)) == {1}:
            keys = list(map(hash, map(itemgetter(0), ids)))
            distinct = set(keys)
            if (
                len(distinct) == len(keys)
                and not self._explaining.holds_any(distinct)
                and not self._pending.holds_any(distinct)
            ):  # none linked, none waiting already: all wait, each under its one id
                self._count_many(seconds)
                self._pending.put_many(dict(zip(keys, seconds, strict=True)))
                return
        for second, record in zip(seconds, ids, strict=True):
            self._one(second, [hash(rid) for rid in record])

    def _one(self, second: int | None, keys: list[int]) -> None:
        """One 500 record, not holding evidence itself."""
        if any(k in self._explaining for k in keys):
            self.linked += 1
            return
        self._count(second, 1)
        if not keys:
            return
        pending = _Pending(second)
        for k in keys:
            waiting = self._pending.get(k)
            if waiting is _MISSING:
                self._pending.put_many({k: [pending]})
            elif isinstance(waiting, list):
                waiting.append(pending)
            else:  # one record waits there already, as its second
                self._pending.put_many({k: [_Pending(waiting), pending]})  # type: ignore[arg-type]

    def _evidence(self, seconds: list[int | None], ids: Sequence[tuple[bytes, ...]]) -> None:
        for second in set(seconds):
            if second is not None:
                minute, offset = divmod(second, 60)
                self._explained[minute] = self._explained.get(minute, 0) | (1 << offset)
        keys = set(map(hash, chain.from_iterable(ids)))
        if not keys:
            return
        self._link(self._pending.pop_all(keys))
        self._explaining.put_many(dict.fromkeys(keys))

    def _link(self, waiting: list[object]) -> None:
        """Link the 500 records waiting under ids that evidence turned out to carry."""
        for value in waiting:
            if isinstance(value, list):
                for pending in value:
                    if not pending.linked:
                        pending.linked = True
                        self.linked += 1
                        self._count(pending.second, -1)
            else:
                self.linked += 1
                self._count(value, -1)  # type: ignore[arg-type]

    def then(self, later: Correlator) -> None:
        """Take in the records of the input's next part, read apart (`parts.py`): its 500s
        that this part's evidence explains by id, and this part's that its evidence does."""
        self._link(self._pending.pop_all(later._explaining.keys()))
        later._link(later._pending.pop_all(self._explaining.keys()))
        self.server_errors += later.server_errors
        self.linked += later.linked
        self._undated += later._undated
        for minute, counts in later._unlinked.items():
            mine = self._unlinked.get(minute)
            if mine is None:
                self._unlinked[minute] = list(counts)
            else:
                self._unlinked[minute] = [a + b for a, b in zip(mine, counts, strict=True)]
        for minute, mask in later._explained.items():
            self._explained[minute] = self._explained.get(minute, 0) | mask
        self._explaining = self._explaining.then(later._explaining)
        self._pending = self._pending.then(later._pending)

    def _count_many(self, seconds: list[int | None]) -> None:
        for second, n in Counter(seconds).items():
            self._count(second, n)

    def _count(self, second: int | None, n: int) -> None:
        if second is None:
            self._undated += n
            return
        minute, offset = divmod(second, 60)
        counts = self._unlinked.get(minute)
        if counts is None:
            counts = self._unlinked[minute] = [0] * 60
        counts[offset] += n

    def _near_evidence(self, second: int) -> bool:
        lo, hi = second - self.window_s, second + self.window_s
        for minute in range(lo // 60, hi // 60 + 1):
            mask = self._explained.get(minute)
            if not mask:
                continue
            first = max(lo - minute * 60, 0)
            last = min(hi - minute * 60, 59)
            if mask >> first & ((1 << (last - first + 1)) - 1):
                return True
        return False

    def summary(self) -> Correlation:
        co = unexplained = 0
        for minute, counts in self._unlinked.items():
            for offset, n in enumerate(counts):
                if not n:
                    continue
                if self._near_evidence(minute * 60 + offset):
                    co += n
                else:
                    unexplained += n
        return Correlation(
            server_errors=self.server_errors,
            linked=self.linked,
            co_occurring=co,
            unexplained=unexplained,
            undated=self._undated,
            window_s=self.window_s,
            ids_kept=self.max_ids,
        )
