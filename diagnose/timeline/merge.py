"""One ordered timeline from every source, and the change that precedes the first failure."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from diagnose.timeline.model import CHANGE, FAILURE, Event, Timeline

# At the same second, the more detailed record wins the blame (its diff names the property).
_DETAIL_RANK = {"entra-audit": 3, "resource-changes": 2, "activity-log": 1, "key-vault-logs": 0}


def fold(events: list[Event]) -> list[Event]:
    """Alike failures in a row (same source, actor, operation, object) become one with a count."""
    out: list[Event] = []
    open_runs: dict[tuple[str, str, str, str], int] = {}
    for event in sorted(events, key=lambda e: e.time):
        if event.kind != FAILURE:
            out.append(event)
            continue
        key = (event.source, event.actor, event.operation, event.object)
        index = open_runs.get(key)
        if index is None:
            open_runs[key] = len(out)
            out.append(event)
            continue
        first = out[index]
        out[index] = replace(first, count=first.count + event.count, last=event.last or event.time)
    return out


def merge(timeline: Timeline, events: list[Event]) -> Timeline:
    ordered = sorted(
        fold(events), key=lambda e: (e.time, e.kind != CHANGE, _DETAIL_RANK.get(e.source, 0))
    )
    timeline.events = ordered
    failures = [e for e in ordered if e.kind == FAILURE]
    timeline.first_failure = failures[0] if failures else None
    if timeline.first_failure is not None:
        before = [e for e in ordered if e.kind == CHANGE and e.time <= timeline.first_failure.time]
        timeline.blamed = _blame(before)
    return timeline


SAME_CHANGE = timedelta(minutes=5)  # records of one change by several services lie this close


def _blame(changes: list[Event]) -> Event | None:
    """The last change; of the records of that same change (same actor, minutes apart: the
    Activity Log, Resource Graph and Key Vault each record one), the most detailed."""
    if not changes:
        return None
    last = max(changes, key=lambda e: e.time)
    same = [e for e in changes if e.actor == last.actor and last.time - e.time <= SAME_CHANGE]
    return max(same, key=lambda e: (_DETAIL_RANK.get(e.source, 0), e.time))
