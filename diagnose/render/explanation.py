"""Render `diagnose explain`: text for people, `diagnose/explain@1` JSON, Markdown.

Besides each cause and its evidence: when it was seen (its timeline: a strip of
per-bucket counts in text, a table in Markdown, `timeline` on each diagnosis entry in
JSON) and how the campaign's 500s relate to the Cosmos DB evidence (`correlation`).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from diagnose import __version__
from diagnose.diagnosis import to_json
from diagnose.model import Severity
from diagnose.render import cause
from diagnose.render.markdown import cell
from diagnose.render.sparkline import sparkline
from diagnose.render.style import Styler
from diagnose.triage.correlate import Correlation
from diagnose.triage.scanner import Match
from diagnose.triage.timeline import JSON_BUCKETS, Timeline, iso, width_for
from diagnose.usecases.explain import Explanation

SCHEMA = "diagnose/explain@1"
SHOWN = 5  # evidence lines shown per cause in text and Markdown
STRIP = 48  # buckets in a text strip and a Markdown table: per minute up to 48 minutes


def status(explanation: Explanation) -> str:
    worst = explanation.worst()
    if worst in (Severity.FAIL, Severity.WARN):
        return str(worst)
    return "error" if explanation.problems else "pass"


def match_json(match: Match) -> dict[str, Any]:
    return {
        "code": match.code,
        "runbook": {"id": match.runbook, "step": match.step},
        "source": match.source,
        "line": match.line,
        "excerpt": match.excerpt,
        "signatures": list(match.signatures),
    }


def timeline_json(timeline: Timeline) -> dict[str, Any]:
    width = width_for([timeline], JSON_BUCKETS)
    return {
        "count": timeline.count,
        "undated": timeline.undated,
        "first_seen": None if timeline.first is None else iso(timeline.first),
        "last_seen": None if timeline.last is None else iso(timeline.last),
        "bucket_s": width,
        "buckets": [{"start": iso(t), "count": n} for t, n in timeline.series(width)],
    }


def correlation_json(c: Correlation | None) -> dict[str, int]:
    c = c or Correlation(0, 0, 0, 0, 0)
    return {
        "server_errors": c.server_errors,
        "linked": c.linked,
        "co_occurring": c.co_occurring,
        "unexplained_500s": c.unexplained,
        "undated": c.undated,
        "window_s": c.window_s,
        "ids_kept": c.ids_kept,
    }


def to_document(explanation: Explanation) -> dict[str, Any]:
    diagnosis = to_json(explanation.diagnosis)
    for entry in diagnosis:
        timeline = explanation.timelines.get(entry["code"]) or Timeline()
        entry["timeline"] = timeline_json(timeline)
    return {
        "schema": SCHEMA,
        "version": __version__,
        "catalogue": explanation.catalogue,
        "status": status(explanation),
        "inputs": explanation.inputs,
        "problems": explanation.problems,
        "counts": explanation.counts,
        "matches": [match_json(m) for m in explanation.matches],
        "diagnosis": diagnosis,
        "correlation": correlation_json(explanation.correlation),
        "notes": explanation.notes,
    }


def render_json(explanation: Explanation, style: Styler | None = None) -> str:
    return json.dumps(to_document(explanation), indent=2, ensure_ascii=False)


def _evidence(explanation: Explanation, code: str) -> tuple[list[Match], int]:
    found = [m for m in explanation.matches if m.code == code]
    return found[:SHOWN], explanation.counts.get(code, len(found))


def _more(shown: list[Match], total: int) -> list[str]:
    return [f"… and {total - len(shown)} more"] if total > len(shown) else []


def _code_span(text: str) -> str:
    return text.replace("`", "'")


def _nothing(explanation: Explanation) -> str:
    where = ", ".join(explanation.inputs)
    if explanation.problems:
        return (
            f"Nothing recognised in what could be read of {where}; "
            "some input could not be read (see the messages above)."
        )
    return (
        f"Nothing recognised in {where}: no signature of the catalogue matched. "
        "The evidence may be elsewhere (system logs around the time of the failure), "
        "or the failure is not one this catalogue knows."
    )


def _clock(when: float, day: bool = True) -> str:
    moment = datetime.fromtimestamp(when, UTC)
    return moment.strftime("%Y-%m-%d %H:%M:%SZ" if day else "%H:%M:%SZ")


def _per(width: int) -> str:
    names = {60: "minute", 3600: "hour", 86400: "day", 7 * 86400: "week"}
    return f"per {names[width]}" if width in names else f"per {width // 60} minutes"


def timeline_text(timeline: Timeline) -> str | None:
    """`seen N times, FIRST -> LAST  ▁▃█▇ per minute`; None when nothing was seen."""
    if not timeline.count:
        return None
    undated = f", {timeline.undated} without a time" if timeline.undated else ""
    if timeline.first is None or timeline.last is None:
        return f"seen {timeline.count} times, none with a time of its own"
    same_day = _clock(timeline.first)[:10] == _clock(timeline.last)[:10]
    span = f"{_clock(timeline.first)} → {_clock(timeline.last, not same_day)}"
    width = width_for([timeline], STRIP)
    strip = sparkline([n for _, n in timeline.series(width)])
    return f"seen {timeline.count} times{undated}, {span}  {strip} {_per(width)}"


def correlation_text(c: Correlation | None) -> list[str]:
    """How the 500s relate to the evidence, said as what was shown; nothing without 500s."""
    if c is None or not c.server_errors:
        return []
    parts = [
        f"{c.linked} linked to the Cosmos DB/key evidence (the same record, or a record "
        "sharing its request id)",
        f"{c.co_occurring} co-occurring with that evidence within {c.window_s} s "
        "(seen together, not shown to be the same failures)",
        f"{c.unexplained} with no such evidence within {c.window_s} s",
    ]
    if c.undated:
        parts.append(f"{c.undated} without a time to compare")
    return [f"Of the {c.server_errors} campaign 500s: " + "; ".join(parts) + "."]


def render_text(explanation: Explanation, style: Styler | None = None) -> str:
    """Each cause with the lines that show it (the first few) and when, root cause first."""
    style = style or Styler(False)
    if not explanation.diagnosis:
        return _nothing(explanation)
    evidence: dict[str, list[str]] = {}
    for entry in explanation.diagnosis:
        shown, total = _evidence(explanation, entry.code)
        evidence[entry.code] = [
            f"{style(f'{m.source}:{m.line}', fg='bright_black')}  {m.excerpt}" for m in shown
        ] + _more(shown, total)
        strip = timeline_text(explanation.timelines.get(entry.code) or Timeline())
        if strip:
            evidence[entry.code].append(strip)
    out = cause.text_section(explanation.diagnosis, style, evidence=evidence)
    tail = correlation_text(explanation.correlation) + [f"Note: {n}" for n in explanation.notes]
    return "\n".join(out + ([""] + tail if tail else []))


def timeline_markdown(explanation: Explanation) -> list[str]:
    """One table: a row per time bucket, a column per cause (root cause first)."""
    codes = [e.code for e in explanation.diagnosis]
    timelines = [explanation.timelines.get(c) or Timeline() for c in codes]
    if not any(t.first is not None for t in timelines):
        return []
    width = width_for(timelines, STRIP)
    series = [dict(t.series(width)) for t in timelines]
    starts = sorted({start for s in series for start in s})
    every = range(starts[0], starts[-1] + width, width)
    out = ["## Timeline", "", f"Records {_per(width)} (UTC), from each record's own time.", ""]
    out.append("| from | " + " | ".join(f"`{c}`" for c in codes) + " |")
    out.append("|---|" + "---:|" * len(codes))
    for start in every:
        out.append(
            f"| {_clock(start)} | " + " | ".join(str(s.get(start, 0)) for s in series) + " |"
        )
    undated = [(c, t.undated) for c, t in zip(codes, timelines, strict=True) if t.undated]
    if undated:
        out += ["", "Records without a time: " + ", ".join(f"`{c}` {n}" for c, n in undated)]
    return out


def correlation_markdown(c: Correlation | None) -> list[str]:
    if c is None or not c.server_errors:
        return []
    return [
        "## The 500s and the evidence",
        "",
        f"Of {c.server_errors} campaign 500s:",
        "",
        "| linked | co-occurring | unexplained | without a time |",
        "|---:|---:|---:|---:|",
        f"| {c.linked} | {c.co_occurring} | {c.unexplained} | {c.undated} |",
        "",
        "Linked: the same record, or a record sharing its request id (`x-request-id`, "
        f"`requestId`, `ActivityId`, `client-request-id`). Co-occurring: evidence within "
        f"{c.window_s} s, seen together but not shown to be the same failures.",
    ]


def render_markdown(explanation: Explanation, style: Styler | None = None) -> str:
    out = ["# diagnose explain", ""]
    out.append(f"Inputs: {', '.join(f'`{i}`' for i in explanation.inputs)}")
    out.append("")
    if not explanation.diagnosis:
        out.append(_nothing(explanation))
    evidence: dict[str, list[str]] = {}
    for entry in explanation.diagnosis:
        shown, total = _evidence(explanation, entry.code)
        evidence[entry.code] = [
            f"`{m.source}:{m.line}`: `{_code_span(m.excerpt)}`" for m in shown
        ] + _more(shown, total)
    out += cause.markdown_section(explanation.diagnosis, 2, evidence=evidence)
    for section in (timeline_markdown(explanation), correlation_markdown(explanation.correlation)):
        if section:
            out += [""] + section
    if explanation.notes:
        out += ["", "## Notes", ""] + [f"- {cell(n)}" for n in explanation.notes]
    if explanation.problems:
        out += ["", "## Inputs not read in full", ""]
        out += [f"- {p}" for p in explanation.problems]
    return "\n".join(out).rstrip() + "\n"
