"""`diagnose timeline --evidence FILE`: explain's first sighting of each cause, as failures.

Read from explain's JSON document (`diagnose/explain@1`, the command's contract): a diagnosis
entry's `timeline.first_seen` where explain gives one; else the first ISO 8601 time stamp in
the earliest matched line of that cause (what log lines carry).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from diagnose.timeline.model import FAILURE, Event, SourceReport
from diagnose.timeline.window import parse_time

NAME = "evidence"
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|[+-]\d{2}:?\d{2})?")


def _stamped(excerpt: str) -> datetime | None:
    stamp = _STAMP.search(excerpt)
    return parse_time(stamp.group(0)) if stamp else None


def _first_seen(entry: dict[str, Any]) -> datetime | None:
    seen = (entry.get("timeline") or {}).get("first_seen")
    return parse_time(seen) if isinstance(seen, str) else None


def sightings(document: dict[str, Any], titles: dict[str, str]) -> tuple[list[Event], SourceReport]:
    """The first sighting of each cause of an explain document, and what the source says of it."""
    matches: dict[str, list[dict[str, Any]]] = {}
    for m in document.get("matches") or []:
        matches.setdefault(str(m["code"]), []).append(m)
    entries = {str(e["code"]): e for e in document.get("diagnosis") or []}
    events: list[Event] = []
    undated, from_explain = [], 0
    for code in [*entries, *(c for c in matches if c not in entries)]:
        title = str(entries.get(code, {}).get("title") or titles.get(code, code))
        seen = _first_seen(entries.get(code, {}))
        dated = [(w, m) for m in matches.get(code, []) if (w := _stamped(str(m["excerpt"])))]
        earliest = min(dated, key=lambda d: d[0]) if dated else None
        first: dict[str, Any] | None = earliest[1] if earliest else None
        if seen is not None:
            from_explain += 1
            when = seen
            first = first or next(iter(matches.get(code, [])), None)
        elif earliest is not None:
            when = earliest[0]
        else:
            undated.append(code)
            continue
        where = f"{first['source']}:{first['line']}" if first else "(explain)"
        excerpt = str(first["excerpt"])[:200] if first else ""
        events.append(Event(when, NAME, "(log)", f"{code}: {title}", where, FAILURE, excerpt))
    report = SourceReport(NAME, "Evidence (diagnose explain)", reach="the files given", lag="none")
    report.events = len(events)
    report.notes += [str(p) for p in document.get("problems") or []]
    if from_explain:
        report.notes.append("times: explain's first sighting of each cause (timeline.first_seen)")
    if len(events) > from_explain:
        report.notes.append(
            "times: the first time stamp on the earliest matched line of each cause"
        )
    if undated:
        report.notes.append("no timestamp on the lines of: " + ", ".join(sorted(undated)))
    return events, report


def collect(paths: Sequence[str]) -> tuple[list[Event], SourceReport]:
    from diagnose import catalogue
    from diagnose.render.explanation import to_document
    from diagnose.usecases.explain import explain

    cat = catalogue.default()
    result = explain(paths, cat)
    titles = {m.code: cat.cause(m.code).title for m in result.matches}
    return sightings(to_document(result), titles)
