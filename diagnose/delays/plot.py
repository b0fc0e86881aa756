"""The delay distribution over time as a picture: self-contained HTML (inline SVG) or SVG.

No plotting library: the chart is a few dozen SVG elements we write ourselves
(matplotlib would add tens of megabytes for one line chart). Each measure gets
its p90 (solid) and p50 (dashed) per time bucket on a log scale of seconds,
with the thresholds as dotted lines. Series carry `data-measure`/`data-stat`
attributes so tests (and people) can find them.
"""

from __future__ import annotations

import html
import math
from datetime import UTC, datetime
from pathlib import Path

from diagnose.delays.result import TimePoint
from diagnose.delays.verdict import Thresholds, human
from diagnose.errors import InputError

SUFFIXES = (".html", ".htm", ".svg")
COLOURS = {
    "trigger_to_departure": "#7b3294",
    "departure_spread": "#d95f02",
    "departure_to_delivered": "#1b9e77",
    "departure_to_delay": "#e7298a",
    "departure_to_bounce": "#666666",
}
W, H, LEFT, RIGHT, TOP, BOTTOM = 960, 440, 70, 210, 30, 50
TICKS = {
    0.1: "0.1 s",
    1: "1 s",
    10: "10 s",
    60: "1 min",
    600: "10 min",
    3600: "1 h",
    4 * 3600: "4 h",
    24 * 3600: "1 d",
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


def _y(seconds: float, top: float) -> float:
    lo, hi = math.log10(0.1), math.log10(top)
    v = math.log10(max(seconds, 0.1))
    return TOP + (H - TOP - BOTTOM) * (1 - (v - lo) / (hi - lo))


def svg(points: list[TimePoint], thresholds: Thresholds, title: str) -> str:
    """The chart as an SVG document."""
    if not points:
        t0 = t1 = 0.0
    else:
        t0 = min(p.start for p in points)
        t1 = max(p.start + p.width for p in points)
    span = max(t1 - t0, 1.0)
    top = max([p.p90 for p in points] + [thresholds.upstream, thresholds.downstream, 10.0]) * 1.5

    def x(t: float) -> float:
        return LEFT + (W - LEFT - RIGHT) * (t - t0) / span

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
        'font-family="sans-serif" font-size="12">',
        f"<title>{html.escape(title)}</title>",
        f'<rect x="0" y="0" width="{W}" height="{H}" fill="white"/>',
        f'<line x1="{LEFT}" y1="{H - BOTTOM}" x2="{W - RIGHT}" y2="{H - BOTTOM}" stroke="black"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{H - BOTTOM}" stroke="black"/>',
    ]
    for tick, tick_label in TICKS.items():
        if tick <= top:
            y = _y(tick, top)
            parts.append(
                f'<line x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" y2="{y:.1f}" stroke="#eee"/>'
            )
            parts.append(
                f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick_label}</text>'
            )
    for i in range(5):
        t = t0 + span * i / 4
        label = datetime.fromtimestamp(t, UTC).strftime("%m-%d %H:%M")
        parts.append(
            f'<text x="{x(t):.1f}" y="{H - BOTTOM + 18}" text-anchor="middle">{label}</text>'
        )
    parts.append(
        f'<text x="{(LEFT + W - RIGHT) / 2}" y="{H - 8}" text-anchor="middle">departure time (UTC)</text>'
    )
    for name, limit in (("upstream", thresholds.upstream), ("downstream", thresholds.downstream)):
        y = _y(limit, top)
        parts.append(
            f'<line class="threshold" data-threshold="{name}" x1="{LEFT}" y1="{y:.1f}" x2="{W - RIGHT}" '
            f'y2="{y:.1f}" stroke="#999" stroke-dasharray="2,3"/>'
        )
        parts.append(
            f'<text x="{LEFT + 6}" y="{y - 4:.1f}" fill="#777">'
            f"{name} threshold {html.escape(human(limit))}</text>"
        )
    legend_y = TOP
    measures = [m for m in COLOURS if any(p.measure == m for p in points)]
    measures += sorted({p.measure for p in points} - set(measures))
    for measure in measures:
        series = sorted((p for p in points if p.measure == measure), key=lambda p: p.start)
        colour = COLOURS.get(measure, "#000000")
        for stat, dash in (("p90", ""), ("p50", ' stroke-dasharray="5,4"')):
            coords = " ".join(
                f"{x(p.start + p.width / 2):.1f},{_y(getattr(p, stat), top):.1f}" for p in series
            )
            parts.append(
                f'<polyline class="series" data-measure="{measure}" data-stat="{stat}" '
                f'fill="none" stroke="{colour}" stroke-width="{2 if stat == "p90" else 1}"{dash} '
                f'points="{coords}"><title>{measure} {stat}</title></polyline>'
            )
        parts.append(
            f'<rect x="{W - RIGHT + 12}" y="{legend_y - 9}" width="12" height="12" fill="{colour}"/>'
        )
        parts.append(
            f'<text x="{W - RIGHT + 30}" y="{legend_y + 1}">{measure.replace("_", " ")}</text>'
        )
        legend_y += 20
    parts.append(f'<text x="{W - RIGHT + 12}" y="{legend_y + 6}">solid p90, dashed p50</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def write(
    path: Path, points: list[TimePoint], thresholds: Thresholds, title: str, summary: str
) -> None:
    """Write the chart: `.svg` alone, or a self-contained `.html` page around it."""
    chart = svg(points, thresholds, title)
    if path.suffix.lower() == ".svg":
        text = '<?xml version="1.0" encoding="UTF-8"?>\n' + chart + "\n"
    else:
        text = (
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:1.5em}pre{font-size:12px}</style></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n<p>{html.escape(summary)}</p>\n{chart}\n</body></html>\n"
        )
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"--plot {path}: cannot write: {exc.strerror}") from None
