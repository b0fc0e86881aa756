"""Paint a planned chart (`diagnose.delays.plot.Chart`) as a PNG, with Pillow.

Pillow installs from wheels that carry their own libraries (zlib, libpng, FreeType)
and a built-in scalable font, so nothing is needed from the system. Shapes are painted
at four times the chart's size and reduced to twice (smooth lines), then the labels
are written at that final size; the PNG carries the chart's title, the tool's version
and the plan (`Chart.describe`, in PNG pixels) as text chunks.
"""

from __future__ import annotations

import io
import json
import math

from PIL import Image, ImageDraw, ImageFont
from PIL.PngImagePlugin import PngInfo

from diagnose import __version__
from diagnose.delays.plot import FONT_SIZE, Chart, Line, Polyline, Rect, Text
from diagnose.render.safe import escaped

SCALE = 2  # PNG pixels per chart unit
SUPERSAMPLE = 2  # shapes are painted this much larger again, then reduced
DASH = 4.0  # chart units on, then off, along a dashed line
ANCHORS = {"start": "ls", "middle": "ms", "end": "rs"}  # Pillow's: horizontal + baseline
PLAN_KEY = "diagnose:chart"


def _dashes(line: Line, k: float) -> list[tuple[float, float, float, float]]:
    """The visible pieces of a dashed line, in pixels at scale `k`."""
    length = math.hypot(line.x2 - line.x1, line.y2 - line.y1)
    pieces = []
    start = 0.0
    while start < length:
        end = min(start + DASH, length)
        a, b = start / length, end / length
        pieces.append(
            (
                k * (line.x1 + a * (line.x2 - line.x1)),
                k * (line.y1 + a * (line.y2 - line.y1)),
                k * (line.x1 + b * (line.x2 - line.x1)),
                k * (line.y1 + b * (line.y2 - line.y1)),
            )
        )
        start += 2 * DASH
    return pieces


def _paint_shapes(plan: Chart, k: int) -> Image.Image:
    image = Image.new("RGB", (plan.width * k, plan.height * k), "white")
    draw = ImageDraw.Draw(image)
    for shape in plan.shapes:
        if isinstance(shape, Rect):
            box = (
                k * shape.x,
                k * shape.y,
                k * (shape.x + shape.width),
                k * (shape.y + shape.height),
            )
            draw.rectangle(box, fill=shape.fill)
        elif isinstance(shape, Line):
            width = max(1, round(k * shape.width))
            pieces = (
                _dashes(shape, k)
                if shape.dashed
                else [(k * shape.x1, k * shape.y1, k * shape.x2, k * shape.y2)]
            )
            for piece in pieces:
                draw.line(piece, fill=shape.stroke, width=width)
        elif isinstance(shape, Polyline) and shape.points:
            points = [(k * x, k * y) for x, y in shape.points]
            draw.line(points, fill=shape.stroke, width=round(k * shape.width), joint="curve")
    return image


def _write_labels(image: Image.Image, plan: Chart, k: int) -> None:
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(FONT_SIZE * k)
    for shape in plan.shapes:
        if isinstance(shape, Text):
            draw.text(
                (k * shape.x, k * shape.y),
                escaped(shape.text),
                fill=shape.fill,
                font=font,
                anchor=ANCHORS[shape.anchor],
                stroke_width=1 if shape.bold else 0,
                stroke_fill=shape.fill,
            )


def render(plan: Chart) -> bytes:
    """The chart as PNG bytes, `SCALE` pixels per chart unit."""
    image = _paint_shapes(plan, SCALE * SUPERSAMPLE).reduce(SUPERSAMPLE)
    _write_labels(image, plan, SCALE)
    info = PngInfo()
    info.add_text("Title", escaped(plan.title))
    info.add_text("Software", f"diagnose {__version__}")
    info.add_text(PLAN_KEY, json.dumps(plan.describe(SCALE)), zip=True)
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()
