"""`diagnose payload check|send` output: text for people, markdown for tickets, JSON for pipelines.

A renderer prints; it never calls the network. Everything it prints comes from
`PayloadReport.to_json()` and `redacted_diagnosis()`, which are already redacted.
"""

from __future__ import annotations

import json
from typing import Any

from diagnose.model import DiagnosisEntry
from diagnose.payload.document import PayloadReport
from diagnose.render import cause
from diagnose.render.markdown import cell
from diagnose.render.style import Styler

COLOURS = {"fail": "red", "warn": "yellow", "info": "bright_black"}


def render_json(report: PayloadReport, style: Styler | None = None) -> str:
    return json.dumps(report.to_json(), indent=2, default=str) + "\n"


def render_text(report: PayloadReport, style: Styler | None = None) -> str:
    return _text(report.to_json(), report.redacted_diagnosis(), style or Styler(False))


def render_markdown(report: PayloadReport, style: Styler | None = None) -> str:
    return _markdown(report.to_json(), report.redacted_diagnosis())


def _request_lines(doc: dict[str, Any]) -> list[tuple[str, str]]:
    r = doc["request"]
    rows: list[tuple[str, str]] = []
    if r["format"] == "curl":
        rows.append(("request", f"{r['method']} {r['url']}  ({r['dialect']} cURL)"))
        rows.append(("host", f"{r['host']} ({r['host_class']})"))
    else:
        rows.append(("request", "a bare JSON payload"))
    rows.append(("kind", r["kind"] or "unknown (pass --kind or set execution_kind)"))
    if r["headers"]:
        rows.append(("headers", ", ".join(f"{h['name']} {h['state']}" for h in r["headers"])))
    if r["body_from"]:
        rows.append(("body", r["body_from"]))
    recipients = "no recipients" if r["recipients"] is None else f"{r['recipients']} recipient(s)"
    rows.append(
        (
            "payload",
            f"campaignId {r['campaignId'] or '-'}, requestId {r['requestId'] or '-'}, {recipients}",
        )
    )
    rows.append(("variables", ", ".join(r["variables"]) or "none"))
    c = doc["campaign"]
    if c:
        dates = f"{c['startDate'] or 'no start'} to {c['endDate'] or 'no end'}"
        rows.append(
            ("campaign", f"{c['name'] or c['id']} ({c['status']}, {c['kind'] or '?'}, {dates})")
        )
    elif doc["campaign_note"]:
        rows.append(("campaign", doc["campaign_note"]))
    e = doc["execution"]
    if e:
        if e.get("timed_out"):
            result = f"no answer within {e['deadline_s']:g} s (not resent)"
        elif e.get("lost"):
            result = f"no answer: {e['lost']} (it may have been delivered; not resent)"
        else:
            result = f"HTTP {e['http_status']}"
            if e.get("executionId"):
                result += f", executionId {e['executionId']}"
        rows.append(("call", f"{result}; requestId {e['requestId']}"))
    return rows


def _text(doc: dict[str, Any], diagnosis: list[DiagnosisEntry], style: Styler) -> str:
    out = [style(f"diagnose payload {doc['command']}: {doc['source']}", bold=True)]
    out += [f"  {label:<10}{value}" for label, value in _request_lines(doc)]
    out += [style(f"  note: {n}", fg="bright_black") for n in doc["request"]["notes"]]
    if doc["findings"]:
        out.append("")
        out.append(style("Findings:", bold=True))
        for f in doc["findings"]:
            mark = style(f"{f['severity'].upper():<4}", fg=COLOURS.get(f["severity"]), bold=True)
            out.append(f"  {mark} {f['code']}: {f['message']}")
    if diagnosis:
        out.append("")
        out += cause.text_section(diagnosis, style)
    if doc["limitation"]:
        out.append("")
        out.append(style(f"Could not decide: {doc['limitation']}", fg="magenta"))
    out.append("")
    out.append(style(_verdict(doc), bold=True))
    return "\n".join(out) + "\n"


def _verdict(doc: dict[str, Any]) -> str:
    e = doc["execution"]
    if e and e.get("executionId"):
        return f"Sent: executionId {e['executionId']}."
    if e and (e.get("timed_out") or e.get("lost")):
        return (
            f"Sent, but no answer: it may have been delivered (requestId {e['requestId']}); "
            "not resent."
        )
    fails = sum(1 for f in doc["findings"] if f["severity"] == "fail")
    warns = sum(1 for f in doc["findings"] if f["severity"] == "warn")
    if doc["command"] == "send" and not e:
        return f"Not sent: {fails} problem(s) to fix first." if fails else "Not sent."
    if fails:
        return f"{fails} problem(s), {warns} warning(s)."
    return f"No problems; {warns} warning(s)." if warns else "No problems found."


def _markdown(doc: dict[str, Any], diagnosis: list[DiagnosisEntry]) -> str:
    out = [
        f"## diagnose payload {doc['command']}: {doc['status'].upper()}",
        "",
        f"Input `{cell(doc['source'])}`, diagnose {doc['version']}, catalogue {doc['catalogue']}.",
        "",
        "| | |",
        "|---|---|",
    ]
    out += [f"| {label} | {cell(value)} |" for label, value in _request_lines(doc)]
    if doc["request"]["notes"]:
        out += ["", "### Notes on the input", ""]
        out += [f"- {cell(note)}" for note in doc["request"]["notes"]]
    if diagnosis:
        out += ["", *cause.markdown_section(diagnosis, 3)]
    if doc["findings"]:
        out += ["", "### Findings", "", "| severity | code | message |", "|---|---|---|"]
        out += [
            f"| {f['severity']} | `{f['code']}` | {cell(f['message'])} |" for f in doc["findings"]
        ]
    if doc["limitation"]:
        out += ["", f"Could not decide: {cell(doc['limitation'])}"]
    if doc["curl"]:
        out += [
            "",
            "### The request (secrets replaced by variables)",
            "",
            "```",
            doc["curl"].rstrip("\n"),
            "```",
        ]
    return "\n".join(out) + "\n"
