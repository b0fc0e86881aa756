"""Renderers of a delays report: JSON (`diagnose/delays@1`), text with terminal histograms, Markdown.

A renderer prints; it never judges and never queries.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from diagnose.delays.analysis import BIN_LABELS
from diagnose.delays.result import DOWNSTREAM_MEASURE, Execution, Group, short_channel
from diagnose.delays.verdict import NOT_MEASURED, human
from diagnose.diagnosis import to_json as diagnosis_json
from diagnose.render import cause
from diagnose.render.sparkline import sparkline
from diagnose.render.style import Styler
from diagnose.usecases.delays import DelaysReport

SCHEMA = "diagnose/delays@1"


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _group_json(g: Group) -> dict[str, Any]:
    return {
        "campaign": g.campaign,
        "channel": g.channel,
        "channel_id": g.channel_id,
        "counts": dict(sorted(g.counts.items())),
        "percentiles": {m: g.percentiles[m] for m in sorted(g.percentiles)},
        "verdict": g.verdict,
        "upstream_measured": g.upstream_measured,
        "judged": g.judged,
        "histogram": {m: g.histogram[m] for m in sorted(g.histogram)},
        "failure_reasons": g.reasons,
    }


def _execution_json(e: Execution) -> dict[str, Any]:
    return {
        "execution": e.execution,
        "campaign": e.campaign,
        "channel": short_channel(e.channel_id),
        "first_departure": _iso(e.first_departure),
        "sent": e.sent,
        "departure_spread": e.departure_spread,
        "trigger_to_departure": e.trigger_to_departure,
        "departure_to_delivered_max": e.departure_to_delivered,
    }


def render_json(report: DelaysReport, style: Styler | None = None) -> str:
    from diagnose import __version__

    a = report.analysis
    doc = {
        "schema": SCHEMA,
        "version": __version__,
        "catalogue": report.catalogue,
        "status": report.status,
        "source": report.source,
        "events": a.events,
        "window": {"first": _iso(a.first_ts), "last": _iso(a.last_ts)},
        "trigger_log": a.with_triggers,
        "thresholds": report.thresholds.to_json(),
        "histogram_bins": list(BIN_LABELS),
        "groups": [_group_json(g) for g in a.groups],
        "slowest_executions": [_execution_json(e) for e in a.slowest],
        "timeline": [
            {
                "campaign": p.campaign,
                "measure": p.measure,
                "start": _iso(p.start),
                "width_seconds": p.width,
                "count": p.n,
                "p50": p.p50,
                "p90": p.p90,
                "max": p.max,
            }
            for p in a.timeline
        ],
        "diagnosis": diagnosis_json(report.diagnosis),
    }
    return json.dumps(doc, indent=2)


def _spread_unmeasurable(g: Group) -> bool:
    """The group departed, but its executions are too small for a spread (no trigger log)."""
    return g.judged.get("upstream", {}).get("measured") is False


def _measures(g: Group) -> list[str]:
    order = [
        "trigger_to_departure",
        "departure_spread",
        DOWNSTREAM_MEASURE,
        "departure_to_delay",
        "departure_to_bounce",
    ]
    return [m for m in order if m in g.percentiles]


def _label(measure: str) -> str:
    return measure.replace("_", " ")


def _counts(g: Group) -> str:
    order = ["sent", "delivered", "delay", "bounce", "error", "exclude"]
    keys = [k for k in order if k in g.counts] + sorted(k for k in g.counts if k not in order)
    return "  ".join(f"{k} {g.counts[k]:,}" for k in keys)


def render_text(report: DelaysReport, style: Styler | None = None) -> str:
    a, t = report.analysis, report.thresholds
    out = [
        f"diagnose delays: {report.source['description']} [{a.dialect}]",
        f"{a.events:,} events, {_iso(a.first_ts)} to {_iso(a.last_ts)}"
        + (
            "; trigger log given"
            if a.with_triggers
            else "; no trigger log (upstream = spread of departures per execution, "
            f"beyond (messages - 1) / {t.send_rate:g} per s)"
        ),
        f"thresholds ({t.percentile}): before departure > {human(t.upstream)}, "
        f"after departure > {human(t.downstream)}, delay events > {t.delay_rate:.1%} of sent",
        "",
    ]
    for g in a.groups:
        out.append(f"campaign {g.campaign}  channel {g.channel}  verdict {g.verdict.upper()}")
        if _spread_unmeasurable(g):
            out.append(f"  before departure {NOT_MEASURED}")
        out.append(f"  events    {_counts(g)}")
        measures = _measures(g)
        if measures:
            out.append(f"  {'measure':<24}{'count':>9}{'p50':>11}{'p90':>11}{'p99':>11}{'max':>11}")
            for m in measures:
                p = g.percentiles[m]
                out.append(
                    f"  {_label(m):<24}{p['count']:>9,}"
                    + "".join(f"{human(p[k]):>11}" for k in ("p50", "p90", "p99", "max"))
                )
            out.append(f"  {'histogram':<24}{' '.join(BIN_LABELS)}")
            for m in measures:
                if m in g.histogram:
                    spark = "".join(
                        c.center(len(lbl) + 1)
                        for c, lbl in zip(sparkline(g.histogram[m]), BIN_LABELS, strict=True)
                    )
                    out.append(f"  {_label(m):<24}{spark.rstrip()}")
        if g.reasons:
            listed = ", ".join(
                f"{r['status']}: {r['reason']} ({r['events']:,})" for r in g.reasons[:5]
            )
            out.append(f"  reasons   {listed}")
        out.append("")
    if a.slowest:
        out.append("slowest executions (worst message before + after departure)")
        for e in a.slowest:
            out.append(
                f"  {e.execution:<16} campaign {e.campaign} {short_channel(e.channel_id):<6}"
                f" sent {e.sent:>6,}  before departure {_opt(_before_departure(e)):>9}  after {_opt(e.departure_to_delivered):>9}"
            )
        out.append("")
    if report.diagnosis:
        out += cause.text_section(report.diagnosis, style, seen_by=True)
    else:
        out.append("no abnormal delay")
    return "\n".join(out)


def _before_departure(e: Execution) -> float | None:
    """Trigger to departure when the trigger log gave it, else the spread of departures."""
    return e.trigger_to_departure if e.trigger_to_departure is not None else e.departure_spread


def _opt(seconds: float | None) -> str:
    return "-" if seconds is None else human(seconds)


def render_markdown(report: DelaysReport, style: Styler | None = None) -> str:
    a = report.analysis
    out = [
        "# Delivery delays",
        "",
        f"Source: `{report.source['description']}` ({a.dialect}), {a.events:,} events, "
        f"{_iso(a.first_ts)} to {_iso(a.last_ts)}. Status: **{report.status}**.",
        "",
        "| campaign | channel | verdict | sent | delivered | delay | bounce | before departure p90 | after departure p90 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for g in a.groups:
        up = g.upstream_measure
        upv = human(g.percentiles[up]["p90"]) if up else "-"
        if _spread_unmeasurable(g):
            upv = "not measured (pass --trigger-log)"
        down = g.percentiles.get(DOWNSTREAM_MEASURE)
        out.append(
            f"| `{g.campaign}` | {g.channel} | **{g.verdict}** | {g.counts.get('sent', 0):,} | "
            f"{g.counts.get('delivered', 0):,} | {g.counts.get('delay', 0):,} | {g.counts.get('bounce', 0):,} | "
            f"{upv} | {human(down['p90']) if down else '-'} |"
        )
    if a.slowest:
        out += [
            "",
            "## Slowest executions",
            "",
            "| execution | campaign | sent | before departure | after departure (max) |",
            "|---|---|---:|---:|---:|",
        ]
        for e in a.slowest:
            out.append(
                f"| `{e.execution}` | `{e.campaign}` | {e.sent:,} | {_opt(_before_departure(e))} | {_opt(e.departure_to_delivered)} |"
            )
    out.append("")
    if report.diagnosis:
        out += cause.markdown_section(report.diagnosis, 2)
    else:
        out += [f"## {cause.MARKDOWN_HEADING}", "", "No abnormal delay."]
    return "\n".join(out) + "\n"
