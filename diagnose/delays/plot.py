"""The delays over time as a picture: PNG (to paste in a chat or a ticket), SVG, or HTML.

The chart is planned once (`chart`): a list of shapes in pixel coordinates, plus, per
panel, the ticks and series it drew. `svg` writes the shapes as SVG elements; the PNG
painter (`diagnose.delays.png`, Pillow, imported on that path only) paints the same
shapes. Top panel: time before departure; bottom panel: departure to delivered. One
line per campaign (its p90 per time bucket, log scale of seconds), the campaigns judged
abnormal drawn thicker, each panel's threshold dashed. Value ticks are round durations
from one at or below the smallest value to one at or above the largest (threshold
included); time ticks are round UTC times with full dates (`diagnose.delays.ticks`).
Series carry `data-panel`, `data-campaign`, `data-measure` and `data-stat` attributes
in SVG, and the PNG carries the plan (`Chart.describe`) in a text chunk, so tests
(and people) can find them.
"""

from __future__ import annotations

import html
import importlib.util
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from diagnose.delays import ticks
from diagnose.delays.result import DOWNSTREAM_MEASURE, UPSTREAM_MEASURES, TimePoint
from diagnose.delays.verdict import Thresholds, human
from diagnose.errors import InputError
from diagnose.render.safe import escaped

SUFFIXES = (".png", ".svg", ".html", ".htm")
PALETTE = ("#d95f02", "#1b9e77", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
W, LEFT, RIGHT, TOP, PANEL, GAP, BOTTOM = 1200, 80, 300, 40, 250, 70, 50
H = TOP + 2 * PANEL + GAP + BOTTOM
FONT_SIZE = 12
X_LABEL_ROOM = 115  # pixels a full date and time label needs
GRID, AXIS, MUTED = "#e6e6e6", "#000000", "#777777"


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str = AXIS
    width: float = 1.0
    dashed: bool = False
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Polyline:
    points: tuple[tuple[float, float], ...]
    stroke: str
    width: float
    tooltip: str
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Text:
    """A label; `y` is its baseline, `anchor` where `x` falls: start, middle or end."""

    x: float
    y: float
    text: str
    anchor: str = "start"
    bold: bool = False
    fill: str = AXIS
    attrs: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str


Shape = Line | Polyline | Text | Rect


@dataclass(frozen=True)
class Tick:
    value: float  # seconds (value axis) or POSIX seconds UTC (time axis)
    label: Text


@dataclass
class Panel:
    name: str  # upstream | downstream
    measure: str
    threshold: float
    x_ticks: list[Tick] = field(default_factory=list)
    y_ticks: list[Tick] = field(default_factory=list)
    series: dict[str, Polyline] = field(default_factory=dict)  # by campaign


@dataclass
class Chart:
    width: int
    height: int
    title: str
    shapes: list[Shape]
    panels: list[Panel]

    def describe(self, scale: float = 1.0) -> dict[str, Any]:
        """What was drawn where, in pixels of a picture `scale` times the chart's size."""

        def tick(t: Tick) -> dict[str, Any]:
            return {
                "value": t.value,
                "label": t.label.text,
                "x": scale * t.label.x,
                "y": scale * t.label.y,
                "anchor": t.label.anchor,
            }

        return {
            "width": round(scale * self.width),
            "height": round(scale * self.height),
            "font_size": scale * FONT_SIZE,
            "panels": [
                {
                    "panel": p.name,
                    "measure": p.measure,
                    "threshold": p.threshold,
                    "x_ticks": [tick(t) for t in p.x_ticks],
                    "y_ticks": [tick(t) for t in p.y_ticks],
                    "series": [
                        {
                            "campaign": c,
                            "colour": line.stroke,
                            "width": scale * line.width,
                            "points": [[scale * x, scale * y] for x, y in line.points],
                        }
                        for c, line in p.series.items()
                    ],
                }
                for p in self.panels
            ],
        }


def check_target(path: Path) -> None:
    """Refuse a target we cannot write before any work is done."""
    if path.suffix.lower() not in SUFFIXES:
        raise InputError(
            f"--plot {path}: name a .png (a picture), .svg or .html (self-contained page) file"
        )
    if not path.parent.exists():
        raise InputError(f"--plot {path}: folder {path.parent} does not exist")
    if path.suffix.lower() == ".png" and importlib.util.find_spec("PIL") is None:
        raise InputError(
            f"--plot {path}: a PNG needs Pillow, which this installation lacks "
            "(pip install pillow); .svg and .html need nothing more"
        )


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


def chart(
    points: list[TimePoint], thresholds: Thresholds, title: str, verdicts: dict[str, str]
) -> Chart:
    """Plan the chart: every shape in drawing order, and per panel what its axes and lines show."""
    t0 = min((p.start for p in points), default=0.0)
    t1 = max((p.start + p.width for p in points), default=t0 + 3600.0)
    span = max(t1 - t0, 1.0)
    campaigns = sorted({p.campaign for p in points} | set(verdicts))
    colour = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(campaigns)}
    right = W - RIGHT

    def x(t: float) -> float:
        return LEFT + (right - LEFT) * (t - t0) / span

    time_ticks, step = ticks.time_ticks(t0, t1, most=max(2, (right - LEFT) // X_LABEL_ROOM))
    shapes: list[Shape] = [Rect(0, 0, W, H, "#ffffff")]
    panels: list[Panel] = []
    for index, (name, measure, heading, limit) in enumerate(_panels(points, thresholds)):
        top_y = TOP + index * (PANEL + GAP)
        bottom_y = top_y + PANEL
        series = [p for p in points if p.measure == measure]
        values = [p.p90 for p in series] + [limit]
        rungs = ticks.duration_ticks(min(values), max(values))
        lo, hi = math.log10(rungs[0]), math.log10(rungs[-1])

        def y(seconds: float, top_y: float = top_y, lo: float = lo, hi: float = hi) -> float:
            return top_y + PANEL * (1 - (math.log10(max(seconds, 10**lo)) - lo) / (hi - lo))

        panel = Panel(name, measure, limit)
        shapes.append(Text(LEFT, top_y - 10, heading, bold=True))
        for value in rungs:
            ty = y(value)
            label = Text(
                LEFT - 8,
                ty + 4,
                ticks.duration_label(value),
                "end",
                attrs=(("class", "y-tick"), ("data-panel", name)),
            )
            panel.y_ticks.append(Tick(value, label))
            shapes += [Line(LEFT, ty, right, ty, GRID), Line(LEFT - 4, ty, LEFT, ty), label]
        for t in time_ticks:
            tx = x(t)
            label = Text(
                tx,
                bottom_y + 18,
                ticks.time_label(t, step),
                "middle",
                attrs=(("class", "x-tick"), ("data-panel", name)),
            )
            panel.x_ticks.append(Tick(t, label))
            shapes += [Line(tx, top_y, tx, bottom_y, GRID), Line(tx, bottom_y, tx, bottom_y + 4)]
            shapes.append(label)
        shapes += [Line(LEFT, bottom_y, right, bottom_y), Line(LEFT, top_y, LEFT, bottom_y)]
        ly = y(limit)
        shapes.append(
            Line(LEFT, ly, right, ly, "#999999", dashed=True, attrs=(("data-threshold", name),))
        )
        below = ly - top_y < 2 * FONT_SIZE  # no room above, under the panel's heading
        shapes.append(
            Text(
                LEFT + 6,
                ly + (FONT_SIZE + 2 if below else -4),
                f"threshold {human(limit)}",
                fill=MUTED,
            )
        )
        for campaign in campaigns:
            line = sorted((p for p in series if p.campaign == campaign), key=lambda p: p.start)
            if not line:
                continue
            drawn = Polyline(
                tuple((x(p.start + p.width / 2), y(p.p90)) for p in line),
                colour[campaign],
                2.5 if verdicts.get(campaign) == name else 1.5,
                f"{campaign} {measure} p90",
                (
                    ("data-panel", name),
                    ("data-campaign", campaign),
                    ("data-measure", measure),
                    ("data-stat", "p90"),
                ),
            )
            panel.series[campaign] = drawn
            shapes.append(drawn)
        panels.append(panel)
    shapes.append(Text((LEFT + right) / 2, H - 12, "departure time (UTC)", anchor="middle"))
    shapes.append(Text(right + 12, TOP, "campaign: verdict", bold=True))
    legend_y = TOP + 22
    for campaign in campaigns:
        shapes.append(Rect(right + 12, legend_y - 9, 12, 12, colour[campaign]))
        short = f"{campaign[:18]}{'…' if len(campaign) > 18 else ''}"
        shapes.append(Text(right + 30, legend_y + 1, f"{short}: {verdicts.get(campaign, '-')}"))
        legend_y += 20
    return Chart(W, H, title, shapes, panels)


def _attrs(pairs: tuple[tuple[str, str], ...]) -> str:
    return "".join(f' {k}="{html.escape(v)}"' for k, v in pairs)


def _svg_shape(shape: Shape) -> str:
    if isinstance(shape, Rect):
        return (
            f'<rect x="{shape.x:g}" y="{shape.y:g}" width="{shape.width:g}" '
            f'height="{shape.height:g}" fill="{shape.fill}"/>'
        )
    if isinstance(shape, Line):
        dash = ' stroke-dasharray="4,4"' if shape.dashed else ""
        cls = ' class="threshold"' if shape.dashed else ""
        return (
            f'<line{cls}{_attrs(shape.attrs)} x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" '
            f'x2="{shape.x2:.1f}" y2="{shape.y2:.1f}" stroke="{shape.stroke}" '
            f'stroke-width="{shape.width:g}"{dash}/>'
        )
    if isinstance(shape, Polyline):
        coords = " ".join(f"{px:.1f},{py:.1f}" for px, py in shape.points)
        return (
            f'<polyline class="series"{_attrs(shape.attrs)} fill="none" stroke="{shape.stroke}" '
            f'stroke-width="{shape.width:g}" stroke-linejoin="round" points="{coords}">'
            f"<title>{html.escape(shape.tooltip)}</title></polyline>"
        )
    weight = ' font-weight="bold"' if shape.bold else ""
    anchor = f' text-anchor="{shape.anchor}"' if shape.anchor != "start" else ""
    fill = f' fill="{shape.fill}"' if shape.fill != AXIS else ""
    return (
        f'<text{_attrs(shape.attrs)} x="{shape.x:.1f}" y="{shape.y:.1f}"{anchor}{weight}{fill}>'
        f"{html.escape(shape.text)}</text>"
    )


def svg(plan: Chart) -> str:
    """The chart as an SVG document."""
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{plan.width}" height="{plan.height}" '
        f'viewBox="0 0 {plan.width} {plan.height}" font-family="sans-serif" font-size="{FONT_SIZE}">'
    )
    body = [_svg_shape(s) for s in plan.shapes]
    return "\n".join([head, f"<title>{html.escape(plan.title)}</title>", *body, "</svg>"])


def write(
    path: Path,
    points: list[TimePoint],
    thresholds: Thresholds,
    title: str,
    summary: str,
    verdicts: dict[str, str],
) -> Chart:
    """Write the chart by the file's extension: `.png`, `.svg`, or a self-contained `.html` page.

    Returns the plan that was drawn.
    """
    plan = chart(points, thresholds, title, verdicts)
    suffix = path.suffix.lower()
    data: bytes
    if suffix == ".png":
        from diagnose.delays import png  # Pillow: imported on this path only

        data = png.render(plan)
    elif suffix == ".svg":
        data = escaped('<?xml version="1.0" encoding="UTF-8"?>\n' + svg(plan) + "\n").encode()
    else:
        data = escaped(
            '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
            f"<title>{html.escape(title)}</title>"
            "<style>body{font-family:sans-serif;margin:1.5em}</style></head>\n"
            f"<body><h1>{html.escape(title)}</h1>\n<p>{html.escape(summary)}</p>\n{svg(plan)}\n</body></html>\n"
        ).encode()
    try:
        path.write_bytes(data)  # text formats went through `escaped`: no control or bidi character
    except OSError as exc:
        raise InputError(f"--plot {path}: cannot write: {exc.strerror}") from None
    return plan
