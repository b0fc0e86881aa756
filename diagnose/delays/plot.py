"""The delays over time as a picture: self-contained HTML (inline SVG) or SVG.

No plotting library: the chart is a few dozen SVG elements we write ourselves
(matplotlib would add tens of megabytes for two line panels). Top panel: time
before departure; bottom panel: departure to delivered. One line per campaign
(its p90 per time bucket, log scale of seconds), the campaigns judged abnormal
drawn thicker, each panel's threshold dotted. Series carry `data-panel`,
`data-campaign`, `data-measure` and `data-stat` attributes, so tests (and
people) can find them.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from pathlib import Path

from diagnose.delays.result import DOWNSTREAM_MEASURE, UPSTREAM_MEASURES, TimePoint
from diagnose.delays.verdict import Thresholds, human
from diagnose.errors import InputError

SUFFIXES = (".html", ".htm", ".svg")
PALETTE = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
W, LEFT, RIGHT, TOP, PANEL, GAP, BOTTOM = 1030, 70, 300, 40, 250, 70, 50
H = TOP + 2 * PANEL + GAP + BOTTOM
TICKS = {
    0.1: "0.1 s",
    1: "1 s",
    10: "10 s",
    60: "1 min",
    600: "10 min",
    3600: "1 h",
    14400: "4 h",
    86400: "1 d",
}


def check_target(path: Path) -> None:
    """Refuse a target we cannot write before any work is done."""
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"--plot {path}: write .html (self-contained page) or .svg; "
            "PNG would need a plotting library diagnose does not install"
        )
    if not path.parent.exists():
        raise InputError(f"--plot {path}: folder {path.parent} does not exist")


def _panels(points: list[TimePoint], thresholds: Thresholds) -> list[tuple[str, str, str, float]]:
    """(panel, measure, title, threshold) for the before- and after-departure panels."""
    present = {p.measure for p in points}
    up = next((m for m in UPSTREAM_MEASURES if m in present), UPSTREAM_MEASURES[-1])
    return [
        ("upstream", up, f"Before departure: {up.replace('_', ' ')} (p90)", thresholds.upstream),
        (
            "downstream",
            DOWNSTREAM_MEASURE,
            "After departure: departure to delivered (p90)",
            thresholds.downstream,
        ),
    ]


def svg(
    points: list[TimePoint], thresholds: Thresholds, title: str, verdicts: dict[str, str]
) -> str:
    """The chart as an SVG document."""
    t0 = min((p.start for p in points), default=0.0)
    t1 = max((p.start + p.width for p in points), default=1.0)
    span = max(t1 - t0, 1.0)
    campaigns = sorted({p.campaign for p in points} | set(verdicts))
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(campaigns)}

    def x(t: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * (t - t0) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="12">',
        f"<title>{html.escape(title)}</title>",
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
    ]
    for index, (panel, measure, heading, limit) in enumerate(_panels(points, thresholds)):
        top_y = TOP + index * (PANEL + GAP)
        bottom_y = top_y + PANEL
        series = [p for p in points if p.measure == measure]
        top = max([p.p90 for p in series] + [limit, 10.0]) * 1.5

        def y(seconds: float, top_y: float = top_y, top: float = top) -> float:
            lo, hi = math.log10(0.1), math.log10(top)
            return top_y + PANEL * (1 - (math.log10(max(seconds, 0.1)) - lo) / (hi - lo))

        parts.append(
            f'<text x="{LEFT}" y="{top_y - 10}" font-weight="bold">{html.escape(heading)}</text>'
        )
        parts.append(
            f'<line x1="{LEFT}" y1="{bottom_y}" x2="{W - RIGHT}" y2="{bottom_y}" stroke="black"/>'
        )
        parts.append(f'<line x1="{LEFT}" y1="{top_y}" x2="{LEFT}" y2="{bottom_y}" stroke="black"/>')
        for tick, label in TICKS.items():
            if tick <= top:
                ty = y(tick)
                parts.append(
                    f'<line x1="{LEFT}" y1="{ty:.1f}" x2="{W - RIGHT}" y2="{ty:.1f}" stroke="#eee"/>'
                )
                parts.append(
                    f'<text x="{LEFT - 6}" y="{ty + 4:.1f}" text-anchor="end">{label}</text>'
                )
        for i in range(5):
            t = t0 + span * i / 4
            label = datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M")
            parts.append(
                f'<text x="{x(t):.1f}" y="{bottom_y + 16}" text-anchor="middle">{label}</text>'
            )
        ly = y(limit)
        parts.append(
            f'<line class="threshold" data-threshold="{panel}" x1="{LEFT}" y1="{ly:.1f}" '
            f'x2="{W - RIGHT}" y2="{ly:.1f}" stroke="#999" stroke-dasharray="2,3"/>'
        )
        parts.append(
            f'<text x="{LEFT + 6}" y="{ly - 4:.1f}" fill="#777">threshold {html.escape(human(limit))}</text>'
        )
        for campaign in campaigns:
            line = sorted((p for p in series if p.campaign == campaign), key=lambda p: p.start)
            if not line:
                continue
            coords = " ".join(f"{x(p.start + p.width / 2):.1f},{y(p.p90):.1f}" for p in line)
            width = 2.5 if verdicts.get(campaign) == panel else 1.2
            parts.append(
                f'<polyline class="series" data-panel="{panel}" data-campaign="{html.escape(campaign)}" '
                f'data-measure="{measure}" data-stat="p90" fill="none" stroke="{colour[campaign]}" '
                f'stroke-width="{width}" points="{coords}"><title>{html.escape(campaign)} {measure} p90</title></polyline>'
            )
    parts.append(
        f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 12}" text-anchor="middle">departure time (UTC)</text>'
    )
    legend_y = TOP + 10
    parts.append(
        f'<text x="{W - RIGHT + 12}" y="{legend_y - 10}" font-weight="bold">campaign: verdict</text>'
    )
    for campaign in campaigns:
        parts.append(
            f'<rect x="{W - RIGHT + 12}" y="{legend_y - 9}" width="12" height="12" fill="{colour[campaign]}"/>'
        )
        label = f"{campaign[:18]}{'…' if len(campaign) > 18 else ''}: {verdicts.get(campaign, '-')}"
        parts.append(f'<text x="{W - RIGHT + 30}" y="{legend_y + 1}">{html.escape(label)}</text>')
        legend_y += 20
    parts.append("</svg>")
    return "\n".join(parts)


def write(
    path: Path,
    points: list[TimePoint],
    thresholds: Thresholds,
    title: str,
    summary: str,
    verdicts: dict[str, str],
) -> None:
    """Write the chart: `.svg` alone, or a self-contained `.html` page around it."""
    chart = svg(points, thresholds, title, verdicts)
    if path.suffix.lower() == ".svg":
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + chart + "\n"
    else:
        text = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:1.5em}</style></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n<p>{html.escape(summary)}</p>\n{chart}\n</body></html>\n"
        )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--plot {path}: cannot write: {exc.strerror}") from None
