"""`diagnose payload check|send` output: text for people, markdown for tickets, JSON for pipelines.

A renderer prints; it never calls the network. Everything it prints comes from
`PayloadReport.to_json()`, which is already redacted.
"""

from __future__ import annotations

import json
from typing import Any

from diagnose import catalogue
from diagnose.payload.document import PayloadReport
from diagnose.render.style import Styler

COLOURS = {"fail": "red", "warn": "yellow", "info": "bright_black"}


def render(report: PayloadReport, output: str, style: Styler | None = None) -> str:
    document = report.to_json()
    if output == "json":
        return json.dumps(document, indent=2, default=str) + "\n"
    if output == "markdown":
        return _markdown(document)
    return _text(document, style or Styler(False))


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


def _where(code: str) -> str:
    cat = catalogue.default()
    cause = cat.cause(code)
    runbook = cat.runbook(cause.runbook)
    step = runbook.step(cause.step) if cause.step else None
    return f"runbook {runbook.id}" + (f", step {step.number}: {step.title}" if step else "")


def _text(doc: dict[str, Any], style: Styler) -> str:
    out = [style(f"diagnose payload {doc['command']}: {doc['source']}", bold=True)]
    out += [f"  {label:<10}{value}" for label, value in _request_lines(doc)]
    out += [style(f"  note: {n}", fg="bright_black") for n in doc["request"]["notes"]]
    if doc["findings"]:
        out.append("")
        out.append(style("Findings:", bold=True))
        for f in doc["findings"]:
            mark = style(f"{f['severity'].upper():<4}", fg=COLOURS.get(f["severity"]), bold=True)
            out.append(f"  {mark} {f['code']}: {f['message']}")
    if doc["diagnosis"]:
        out.append("")
        out.append(style("What to do, root cause first:", bold=True))
        for n, entry in enumerate(doc["diagnosis"], 1):
            colour = COLOURS.get(entry["severity"])
            out.append(f" {n}. {style(entry['title'], fg=colour, bold=True)}  [{entry['code']}]")
            out.append(
                f"    {_where(entry['code'])}  (diagnose runbook show {entry['runbook']['id']})"
            )
            out += [f"    -> {line}" for line in entry["remediation"]]
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


def _cell(text: Any) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _markdown(doc: dict[str, Any]) -> str:
    out = [
        f"## diagnose payload {doc['command']}: {doc['status'].upper()}",
        "",
        f"Input `{_cell(doc['source'])}`, diagnose {doc['version']}, catalogue {doc['catalogue']}.",
        "",
        "| | |",
        "|---|---|",
    ]
    out += [f"| {label} | {_cell(value)} |" for label, value in _request_lines(doc)]
    if doc["request"]["notes"]:
        out += ["", "### Notes on the input", ""]
        out += [f"- {_cell(note)}" for note in doc["request"]["notes"]]
    if doc["diagnosis"]:
        out += ["", "### Diagnosis (root cause first)", ""]
        for n, entry in enumerate(doc["diagnosis"], 1):
            out.append(
                f"{n}. **{_cell(entry['title'])}** (`{entry['code']}`): {_where(entry['code'])}"
            )
            if entry["message"]:
                out.append(f"   - {_cell(entry['message'])}")
            out += [f"   - To do: {_cell(r)}" for r in entry["remediation"]]
    if doc["findings"]:
        out += ["", "### Findings", "", "| severity | code | message |", "|---|---|---|"]
        out += [
            f"| {f['severity']} | `{f['code']}` | {_cell(f['message'])} |" for f in doc["findings"]
        ]
    if doc["limitation"]:
        out += ["", f"Could not decide: {_cell(doc['limitation'])}"]
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
