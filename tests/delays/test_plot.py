"""`--plot`: a valid picture with the expected series (parsed, not just written)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from tests.delays.conftest import run_delays

SVG = "{http://www.w3.org/2000/svg}"


def _series(root: ET.Element) -> dict[tuple[str, str], list[tuple[float, float]]]:
    out = {}
    for line in root.iter(f"{SVG}polyline"):
        points = [tuple(map(float, p.split(","))) for p in line.get("points", "").split()]
        out[(line.get("data-measure"), line.get("data-stat"))] = points
    return out


def test_svg_plot_has_the_expected_series(datasets, tmp_path):
    ds = datasets["upstream"]
    target = tmp_path / "delays.svg"
    res = run_delays(
        ds.file("parquet"),
        "--campaign",
        ds.info["injected_campaign"],
        "--plot",
        target,
        "--output",
        "json",
    )
    assert res.exit_code == 1
    root = ET.parse(target).getroot()  # well-formed XML, or this raises
    assert root.tag == f"{SVG}svg"
    width, height = float(root.get("width")), float(root.get("height"))
    series = _series(root)
    timeline = res.json["timeline"]
    for measure in ("departure_spread", "departure_to_delivered"):
        buckets = [p for p in timeline if p["measure"] == measure]
        for stat in ("p50", "p90"):
            points = series[(measure, stat)]
            assert len(points) == len(buckets) > 10
            assert all(0 <= x <= width and 0 <= y <= height for x, y in points)
            assert [x for x, _ in points] == sorted(x for x, _ in points)
    # the injected upstream delay: departure spread sits above delivery time (smaller y = higher)
    spread = [y for _, y in series[("departure_spread", "p90")]]
    delivered = [y for _, y in series[("departure_to_delivered", "p90")]]
    assert sum(spread) / len(spread) < sum(delivered) / len(delivered)
    thresholds = {
        t.get("data-threshold") for t in root.iter(f"{SVG}line") if t.get("data-threshold")
    }
    assert thresholds == {"upstream", "downstream"}


def test_html_plot_is_self_contained(datasets, tmp_path):
    target = tmp_path / "delays.html"
    res = run_delays(datasets["downstream"].file("parquet"), "--plot", target)
    assert res.exit_code == 1
    text = target.read_text()
    assert text.startswith("<!DOCTYPE html>")
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", text)  # nothing fetched
    svg = text[text.index("<svg") : text.index("</svg>") + len("</svg>")]
    root = ET.fromstring(svg)
    measures = {m for m, _ in _series(root)}
    assert {"departure_spread", "departure_to_delivered", "departure_to_delay"} <= measures
    assert "plot written to" in res.stderr
