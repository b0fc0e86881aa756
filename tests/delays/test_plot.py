"""`--plot`: a valid picture with the expected series (parsed, not just written)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.delays.conftest import run_delays

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
