"""`diagnose timeline` (and `run --what-changed`): text, JSON (`diagnose/timeline@1`), Markdown, KQL."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from diagnose import __version__
from diagnose.model import Limitation
from diagnose.render.markdown import cell
from diagnose.render.style import Styler
from diagnose.timeline.model import Event, Query, SourceReport, Timeline
from diagnose.timeline.window import iso
from diagnose.usecases.timeline import exit_status

SCHEMA = "diagnose/timeline@1"


def _at(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")


def _iso(when: datetime | None) -> str | None:
    return iso(when) if when else None


def _last(event: Event) -> str | None:
    """When a folded run of alike failures ended (None: a single event)."""
    return _at(event.last) if event.count > 1 and event.last else None


def _repeats(event: Event) -> str:
    """` ×3 until <time>` of a folded run, as the table and the text list show it."""
    last = _last(event)
    return f" ×{event.count} until {last}" if last else ""


def _needs(limitation: Limitation) -> str:
    return f" (needs {limitation.permission})" if limitation.permission else ""


def _happened(event: Event) -> str:
    last = _last(event)
    more = f" (and {event.count - 1} more until {last})" if last else ""
    return f"{event.operation} on {event.object} by {event.actor} at {_at(event.time)} UTC{more}"


def verdict(timeline: Timeline) -> str:
    first, blamed = timeline.first_failure, timeline.blamed
    if first is None:
        return "No failure was recorded in the window: no change is blamed."
    if blamed is None:
        return (
            f"First failure: {_happened(first)}. No recorded change precedes it within the "
            "sources' reach (see each source's reach and limitation)."
        )
    detail = f" ({blamed.detail})" if blamed.detail else ""
    return f"Change before the first failure: {_happened(blamed)}{detail}. First failure after it: {_happened(first)}."


def status(timeline: Timeline) -> str:
    return "fail" if timeline.failures else "error" if timeline.limitations else "pass"


# -- JSON --------------------------------------------------------------------------------------------
def event_json(event: Event) -> dict[str, Any]:
    return {
        "time": _iso(event.time),
        "source": event.source,
        "actor": event.actor,
        "operation": event.operation,
        "object": event.object,
        "kind": event.kind,
        "detail": event.detail,
        "count": event.count,
        "last": _iso(event.last),
    }


def _limitation(limitation: Limitation | None) -> dict[str, Any] | None:
    return (
        None
        if limitation is None
        else {"reason": limitation.reason, "permission": limitation.permission}
    )


def query_json(query: Query) -> dict[str, str]:
    return {
        "service": query.service,
        "scope": query.scope,
        "purpose": query.purpose,
        "query": query.text,
    }


def source_json(source: SourceReport) -> dict[str, Any]:
    return {
        "name": source.name,
        "title": source.title,
        "reach": source.reach,
        "lag": source.lag,
        "events": source.events,
        "limitation": _limitation(source.limitation),
        "notes": list(source.notes),
        "queries": [query_json(q) for q in source.queries],
    }


def section_json(timeline: Timeline) -> dict[str, Any]:
    """The timeline's own keys (also `run --what-changed`'s `what_changed` section)."""
    return {
        "since": _iso(timeline.since),
        "until": _iso(timeline.until),
        "verdict": verdict(timeline),
        "blamed": event_json(timeline.blamed) if timeline.blamed else None,
        "first_failure": event_json(timeline.first_failure) if timeline.first_failure else None,
        "events": [event_json(e) for e in timeline.events],
        "sources": [source_json(s) for s in timeline.sources],
    }


def render_json(timeline: Timeline, style: Styler | None = None) -> str:
    document = {
        "schema": SCHEMA,
        "version": __version__,
        "status": status(timeline),
        "exit_status": int(exit_status(timeline)),
        **section_json(timeline),
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# -- text ----------------------------------------------------------------------------------------------
def _source_line(source: SourceReport) -> str:
    line = f"  {source.title}: {source.events} event(s); reaches {source.reach}; lag {source.lag}"
    if source.limitation:
        line += f"\n    could not answer: {source.limitation.reason}{_needs(source.limitation)}"
    for note in source.notes:
        line += f"\n    note: {note}"
    return line


def render_text(timeline: Timeline, style: Styler | None = None) -> str:
    style = style or Styler(False)
    lines = [style(f"What changed, {_at(timeline.since)} to {_at(timeline.until)} UTC", bold=True)]
    if not timeline.events:
        lines.append("  (no change and no failure recorded by the sources that answered)")
    for e in timeline.events:
        mark = style("change ", fg="yellow") if e.kind == "change" else style("failure", fg="red")
        lines.append(f"  {_at(e.time)}  {mark}  [{e.source}] {e.operation}{_repeats(e)}")
        lines.append(f"      by {e.actor} on {e.object}" + (f": {e.detail}" if e.detail else ""))
    lines += ["", "Sources:", *(_source_line(s) for s in timeline.sources), ""]
    lines.append(style(verdict(timeline), bold=True))
    return "\n".join(lines) + "\n"


def render_markdown(timeline: Timeline, style: Styler | None = None) -> str:
    lines = [
        f"## What changed, {_at(timeline.since)} to {_at(timeline.until)} UTC",
        "",
        f"**{cell(verdict(timeline))}**",
        "",
        "| time (UTC) | kind | source | actor | operation | object | detail |",
        "|---|---|---|---|---|---|---|",
    ]
    for e in timeline.events:
        lines.append(
            f"| {_at(e.time)} | {e.kind} | {e.source} | {cell(e.actor)} | {cell(e.operation + _repeats(e))} "
            f"| {cell(e.object)} | {cell(e.detail)} |"
        )
    lines += ["", "| source | events | reaches | lag | limitation |", "|---|---|---|---|---|"]
    for s in timeline.sources:
        limit = s.limitation.reason + _needs(s.limitation) if s.limitation else ""
        lines.append(
            f"| {cell(s.title)} | {s.events} | {cell(s.reach)} | {cell(s.lag)} | {cell(limit)} |"
        )
    return "\n".join(lines) + "\n"


def render_kql(queries: list[Query], notes: Sequence[str] = ()) -> str:
    """Every query as a `// service, scope: purpose` header and its text, blank line between;
    `notes` first, as comments (what the printed set leaves out, and why)."""
    head = "".join(f"// {note}\n" for note in notes)
    if not queries:
        return head + (
            "// the profile names no vault, key or Cosmos DB account: there is no query to print\n"
        )
    blocks = [f"// {q.service}, {q.scope}: {q.purpose}\n{q.text}" for q in queries]
    return head + "\n\n".join(blocks) + "\n"
