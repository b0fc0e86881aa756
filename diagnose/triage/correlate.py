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
Request ids are kept for the last MAX_IDS records of each kind only, so memory
stays flat: two records further apart than that are not linked by id.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, replace

from diagnose.catalogue import Catalogue
from diagnose.model import Severity
from diagnose.triage import verdicts
from diagnose.triage.scanner import Match

SERVER_ERROR = verdicts.SERVER_ERROR
UNEXPLAINED = "campaign.server-error-unexplained"
EXPLAINING_RUNBOOK = verdicts.EXPLAINING_RUNBOOK
WINDOW_S = 60
MAX_IDS = 50_000


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


@dataclass(frozen=True)
class Correlation:
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


class Correlator:
    """Reads records one by one and sorts their 500s into linked, co-occurring, unexplained."""

    def __init__(self, window_s: int = WINDOW_S, max_ids: int = MAX_IDS) -> None:
        self.window_s = window_s
        self.max_ids = max_ids
        self.server_errors = 0
        self.linked = 0
        self._explaining_ids: OrderedDict[str, None] = OrderedDict()
        self._pending: OrderedDict[str, list[_Pending]] = OrderedDict()
        self._unlinked: dict[int, list[int]] = {}  # minute -> unlinked 500s per second
        self._undated = 0  # unlinked 500s without a time
        self._explained: dict[int, int] = {}  # minute -> bit mask of seconds with evidence

    def add(
        self, server_error: bool, explains: bool, when: float | None, ids: tuple[str, ...]
    ) -> None:
        """One record: whether it holds a 500, explaining evidence, its time and its ids."""
        second = None if when is None else int(when)
        if explains:
            if second is not None:
                minute, offset = divmod(second, 60)
                self._explained[minute] = self._explained.get(minute, 0) | (1 << offset)
            for rid in ids:
                self._explaining_ids.pop(rid, None)
                self._explaining_ids[rid] = None
                if len(self._explaining_ids) > self.max_ids:
                    self._explaining_ids.popitem(last=False)
                for pending in self._pending.pop(rid, ()):
                    if not pending.linked:
                        pending.linked = True
                        self.linked += 1
                        self._count(pending.second, -1)
        if not server_error:
            return
        self.server_errors += 1
        if explains or any(rid in self._explaining_ids for rid in ids):
            self.linked += 1
            return
        self._count(second, 1)
        if ids:
            pending = _Pending(second)
            for rid in ids:
                waiting = self._pending.get(rid)
                if waiting is None:
                    self._pending[rid] = [pending]
                    if len(self._pending) > self.max_ids:
                        self._pending.popitem(last=False)
                else:
                    waiting.append(pending)

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
