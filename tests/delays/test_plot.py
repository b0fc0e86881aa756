"""`--plot`: a valid picture (SVG, HTML or PNG) with the expected series and ticks, decoded, not just written."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image, ImageColor

from diagnose.delays import plot
from diagnose.delays.result import TimePoint
from diagnose.delays.verdict import Thresholds
from tests.delays.conftest import run_delays
from tests.harness import CliResult

SVG = "{http://www.w3.org/2000/svg}"


def _series(
    root: ET.Element,
) -> dict[tuple[str, str], tuple[str, list[tuple[float, float]], float]]:
    """(panel, campaign) -> (measure, points, stroke width)."""
    out = {}
    for line in root.iter(f"{SVG}polyline"):
        points = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
        key = (line.get("data-panel"), line.get("data-campaign"))
        out[key] = (line.get("data-measure"), points, float(line.get("stroke-width")))
    return out


def _mean_y(points: list[tuple[float, float]]) -> float:
    return sum(y for _, y in points) / len(points)


def test_svg_plot_has_one_series_per_campaign_and_panel(datasets, tmp_path):
    ds = datasets["upstream"]
    target = tmp_path / "delays.svg"
    res = run_delays(ds.file("parquet"), "--plot", target, "--output", "json")
    assert res.exit_code == 1
    root = ET.parse(target).getroot()  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    series = _series(root)
    campaigns = ds.info["campaigns"]
    assert set(series) == {(panel, c) for panel in ("upstream", "downstream") for c in campaigns}
    timeline = res.json()["timeline"]
    for (panel, campaign), (measure, points, _) in series.items():
        assert measure == ("departure_spread" if panel == "upstream" else "departure_to_delivered")
        buckets = [p for p in timeline if p["campaign"] == campaign and p["measure"] == measure]
        assert len(points) == len(buckets) > 10
        assert all(0 <= x <= width and 0 <= y <= height for x, y in points)
        assert [x for x, _ in points] == sorted(x for x, _ in points)
    # the injected campaign's line sits above the others (smaller y) in the upstream panel, drawn thicker
    injected = ds.info["injected_campaign"]
    up = {c: _mean_y(series[("upstream", c)][1]) for c in campaigns}
    assert min(up, key=up.get) == injected
    assert series[("upstream", injected)][2] > max(
        series[("upstream", c)][2] for c in campaigns if c != injected
    )
    thresholds = {
        t.get("data-threshold") for t in root.iter(f"{SVG}line") if t.get("data-threshold")
    }
    assert thresholds == {"upstream", "downstream"}
    legend = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert ": upstream" in legend


def test_html_plot_is_self_contained_and_shows_the_downstream_campaign(datasets, tmp_path):
    ds = datasets["downstream"]
    target = tmp_path / "delays.html"
    res = run_delays(ds.file("parquet"), "--plot", target)
    assert res.exit_code == 1
    text = target.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched
    svg = text[text.index("<svg") : text.index("</svg>") + len("</svg>")]
    series = _series(ET.fromstring(svg))
    down = {c: _mean_y(pts) for (panel, c), (_, pts, _) in series.items() if panel == "downstream"}
    assert min(down, key=down.get) == ds.info["injected_campaign"]
    assert "plot written to" in res.stderr


# --- ticks people read, and the PNG --------------------------------------------------------

UNITS = {"s": 1, "min": 60, "h": 3600, "d": 86400}
ROUND_DURATIONS = (
    {0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 30}
    | {n * 60 for n in (1, 2, 5, 10, 20, 30)}
    | {n * 3600 for n in (1, 2, 4, 6, 12)}
    | {n * 86400 for n in (1, 2, 4)}
    | {n * 7 * 86400 for n in range(1, 53)}  # weeks, past the last rung
)
ROUND_STEPS_S = {60 * n for n in (1, 2, 5, 10, 15, 30)} | {3600 * n for n in (1, 2, 3, 6, 12)}


def _duration(label: str) -> float:
    """'30 min' -> 1800.0; anything else fails the test."""
    number, unit = re.fullmatch(r"(\d+(?:\.\d+)?) (s|min|h|d)", label).groups()
    return float(number) * UNITS[unit]


def _when(label: str) -> datetime:
    """A full date and time, '2026-11-20 14:00' (UTC); anything else fails the test."""
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", label), label
    return datetime.strptime(label, "%Y-%m-%d %H:%M").replace(tzinfo=UTC)


def _check_value_ticks(labels: list[str], values: list[float]) -> None:
    """Round durations, bottom to top, from at or below the smallest value to at or above the largest."""
    ticks = [_duration(label) for label in labels]
    assert ticks == sorted(ticks) and len(set(ticks)) == len(ticks) >= 2, labels
    assert set(ticks) <= ROUND_DURATIONS, labels
    assert ticks[0] <= max(min(values), 0.1) and ticks[-1] >= max(values), (labels, max(values))


def _check_time_ticks(labels: list[str], start: float, end: float) -> None:
    """Full dates at whole multiples of one round step, inside the data's time range."""
    times = [_when(label).timestamp() for label in labels]
    assert len(times) >= 3, labels
    steps = {b - a for a, b in zip(times, times[1:], strict=False)}
    assert len(steps) == 1, labels
    (step,) = steps
    assert step in ROUND_STEPS_S and all(t % step == 0 for t in times), labels
    assert start <= times[0] and times[-1] <= end


def _span(doc: dict) -> tuple[float, float]:
    """(first bucket's start, last bucket's end) of the report's timeline, POSIX seconds."""
    starts = [
        (datetime.fromisoformat(p["start"]).timestamp(), p["width_seconds"])
        for p in doc["timeline"]
    ]
    return min(s for s, _ in starts), max(s + w for s, w in starts)


def _timeline(doc: dict) -> dict[str, list[dict]]:
    by_measure: dict[str, list[dict]] = {}
    for point in doc["timeline"]:
        by_measure.setdefault(point["measure"], []).append(point)
    return by_measure


def _plotted(ds, target: Path) -> CliResult:
    """`delays DATASET --plot TARGET --output json`, which finds the injected delay."""
    res = run_delays(ds.file("parquet"), "--plot", target, "--output", "json")
    assert res.exit_code == 1, res.stderr
    return res


def test_svg_ticks_are_round_times_and_values_covering_every_series(datasets, tmp_path):
    target = tmp_path / "delays.svg"
    res = _plotted(datasets["upstream"], target)
    root = ET.parse(target).getroot()
    timeline = _timeline(res.json())
    start, end = _span(res.json())
    labels = {
        (t.get("class"), t.get("data-panel")): [] for t in root.iter(f"{SVG}text") if t.get("class")
    }
    for t in root.iter(f"{SVG}text"):
        if t.get("class"):
            labels[(t.get("class"), t.get("data-panel"))].append(t.text)
    assert set(labels) == {
        (axis, p) for axis in ("x-tick", "y-tick") for p in ("upstream", "downstream")
    }
    panels = {
        "upstream": ("departure_spread", 300.0),
        "downstream": ("departure_to_delivered", 900.0),
    }
    for panel, (measure, threshold) in panels.items():
        _check_value_ticks(
            labels[("y-tick", panel)], [p["p90"] for p in timeline[measure]] + [threshold]
        )
        _check_time_ticks(labels[("x-tick", panel)], start, end)
    # the injected campaign's upstream delay is past 10 min: a tick at or above it
    assert max(_duration(label) for label in labels[("y-tick", "upstream")]) > 600


def _ink(image: Image.Image, box: tuple[float, float, float, float]) -> int:
    """Dark pixels inside `box` (left, top, right, bottom)."""
    region = image.crop(tuple(round(v) for v in box)).convert("L")
    return sum(region.histogram()[:128])


def _near(image: Image.Image, x: float, y: float, colour: str, radius: int = 2) -> bool:
    """Whether a pixel within `radius` of (x, y) has `colour` (give or take the smoothing)."""
    want = ImageColor.getrgb(colour)
    for dx in range(-radius, radius + 1):
        for dy in range(-radius, radius + 1):
            px = image.getpixel((round(x) + dx, round(y) + dy))
            if sum(abs(a - b) for a, b in zip(px, want, strict=True)) <= 60:
                return True
    return False


def test_png_plot_draws_every_series_and_round_ticks(datasets, tmp_path):
    ds = datasets["upstream"]
    target = tmp_path / "delays.png"
    res = _plotted(ds, target)
    assert target.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with Image.open(target) as check:
        check.verify()  # the decoder walks every chunk and its CRC
    image = Image.open(target)
    image.load()
    assert image.format == "PNG" and image.mode == "RGB"
    assert image.info["Software"].startswith("diagnose ")
    plan = json.loads(image.info["diagnose:chart"])
    assert image.size == (plan["width"], plan["height"])
    doc = res.json()
    timeline = _timeline(doc)
    start, end = _span(doc)
    campaigns = set(ds.info["campaigns"])
    assert [p["panel"] for p in plan["panels"]] == ["upstream", "downstream"]
    for panel in plan["panels"]:
        points = timeline[panel["measure"]]
        assert {s["campaign"] for s in panel["series"]} == campaigns
        for series in panel["series"]:
            buckets = [p for p in points if p["campaign"] == series["campaign"]]
            assert len(series["points"]) == len(buckets) > 10
            drawn = sum(_near(image, x, y, series["colour"]) for x, y in series["points"])
            # lines cross: a later series may cover a few points of an earlier one
            assert drawn >= 0.9 * len(series["points"]), (panel["panel"], series["campaign"])
        _check_value_ticks(
            [t["label"] for t in panel["y_ticks"]],
            [p["p90"] for p in points] + [panel["threshold"]],
        )
        _check_time_ticks([t["label"] for t in panel["x_ticks"]], start, end)
        size = plan["font_size"]
        for tick in panel["y_ticks"]:  # right-aligned on the axis
            assert _ink(image, (tick["x"] - 5 * size, tick["y"] - size, tick["x"], tick["y"] + 2))
        for tick in panel["x_ticks"]:  # centred under their time
            box = (tick["x"] - 4 * size, tick["y"] - size, tick["x"] + 4 * size, tick["y"] + 2)
            assert _ink(image, box) > 50
    # the injected campaign sits above the others before departure, drawn thicker and on top
    upstream = {s["campaign"]: s for s in plan["panels"][0]["series"]}
    injected = upstream[ds.info["injected_campaign"]]
    assert all(_near(image, x, y, injected["colour"]) for x, y in injected["points"])
    mean_y = {c: sum(y for _, y in s["points"]) / len(s["points"]) for c, s in upstream.items()}
    assert min(mean_y, key=mean_y.get) == ds.info["injected_campaign"]
    assert injected["width"] > max(
        s["width"] for c, s in upstream.items() if c != injected["campaign"]
    )
    # and nothing is drawn where nothing was planned: below the legend, right of the panels
    w, h = image.size
    assert _ink(image, (w - 200, h - 200, w - 10, h - 10)) == 0
    assert "plot written to" in res.stderr


@pytest.mark.parametrize(
    "p90s",
    [[], [0.0, 0.0, 0.0], [12.0], [3 * 86400.0, 9 * 86400.0], [0.05, 40.0, 7200.0]],
    ids=["no-points", "all-zero", "one-point", "days", "wide"],
)
def test_edge_cases_still_give_round_ticks_and_a_picture(tmp_path, p90s):
    """No data, zeros, one bucket, delays of days: ticks stay round and cover the data."""
    start = datetime(2026, 11, 20, 8, 3, tzinfo=UTC).timestamp()
    points = [
        TimePoint("c-1", "departure_spread", start + 600 * i, 600, 5, v, v, v)
        for i, v in enumerate(p90s)
    ]
    target = tmp_path / "edge.png"
    plan = plot.write(target, points, Thresholds(), "edge", "", {"c-1": "none"})
    image = Image.open(target)
    assert image.size == (2 * plan.width, 2 * plan.height)
    for panel in plan.panels:
        values = [p.p90 for p in points if p.measure == panel.measure] + [panel.threshold]
        _check_value_ticks([t.label.text for t in panel.y_ticks], values)
        labels = [t.label.text for t in panel.x_ticks]
        assert labels and all(_when(label) for label in labels)
        if points:
            assert _ink(image, (0, 0, image.width, image.height)) > 1000


def test_campaign_names_with_markup_controls_and_any_script_stay_text(tmp_path):
    """Names come from the data: markup is escaped, controls and bidi overrides written as \\uXXXX."""
    name = 'c<&>"\u00e9\u4e2d\u202e\x1b[2J'
    shown = 'c<&>"\u00e9\u4e2d\\u202e\\u001b[2J'
    points = [
        TimePoint(name, "departure_spread", 1.8e9 + 600 * i, 600, 5, 30.0, 30.0, 30.0)
        for i in range(4)
    ]
    svg_file, png_file = tmp_path / "names.svg", tmp_path / "names.png"
    for target in (svg_file, png_file):
        plot.write(target, points, Thresholds(), f"title {name}", "", {name: "upstream"})
    root = ET.parse(svg_file).getroot()  # well-formed: no control character
    assert _series(root)[("upstream", shown)][0] == "departure_spread"
    assert "\u202e" not in svg_file.read_text() and "\x1b" not in svg_file.read_text()
    image = Image.open(png_file)
    assert image.info["Title"] == f"title {shown}"
    (panel, _) = json.loads(image.info["diagnose:chart"])["panels"]
    assert [s["campaign"] for s in panel["series"]] == [name]  # the plan keeps the data's value


def test_a_plot_name_without_a_picture_format_is_refused_before_any_work(tmp_path):
    res = run_delays(tmp_path / "absent.parquet", "--plot", tmp_path / "chart.jpeg")
    assert res.exit_code == 2
    assert "chart.jpeg" in res.stderr and all(s in res.stderr for s in (".png", ".svg", ".html"))


def test_pillow_is_imported_for_png_only(tmp_path):
    """Start-up rule: the SVG/HTML path and the import of the plot module load no Pillow."""
    code = (
        "import sys, diagnose.delays.plot, diagnose.usecases.delays, diagnose.cli.delays\n"
        "from pathlib import Path\n"
        "from diagnose.delays.result import TimePoint\n"
        "from diagnose.delays.verdict import Thresholds\n"
        "points = [TimePoint('c-1', 'departure_spread', 1.8e9, 600, 5, 30.0, 30.0, 30.0)]\n"
        "for name in sys.argv[1:]:\n"
        "    diagnose.delays.plot.write(Path(name), points, Thresholds(), 't', '', {})\n"
        "assert not [m for m in sys.modules if m == 'PIL' or m.startswith('PIL.')], 'PIL loaded'\n"
    )
    targets = [str(tmp_path / "chart.svg"), str(tmp_path / "chart.html")]
    proc = subprocess.run(
        [sys.executable, "-c", code, *targets], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    assert all(Path(t).stat().st_size for t in targets)  # the pictures were drawn
