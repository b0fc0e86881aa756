"""Percentiles against an independent computation (Python's statistics), on random latencies."""

from __future__ import annotations

import csv
import statistics
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.delays import handmade
from tests.delays.conftest import run_delays

START = datetime(2026, 11, 20, 10, tzinfo=UTC)


def _iso(t: datetime) -> str:
    return t.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(min_value=0, max_value=7_200_000), min_size=2, max_size=40))
def test_delivery_percentiles_match_linear_interpolation(latencies_ms):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fb.csv"
        with path.open("w", newline="") as fh:
            w = csv.writer(fh)
            w.writerow(handmade.COLUMNS)
            for i, ms in enumerate(latencies_ms):
                sent = START + timedelta(seconds=i)
                for at, status in (
                    (sent, "sent"),
                    (sent + timedelta(milliseconds=ms), "delivered"),
                ):
                    w.writerow([_iso(at), status, "", f"UMA-{i}", "camp", f"m{i}", handmade.EMAIL])
        res = run_delays(path, "--output", "json")
        assert res.exit_code in (0, 1), res.stderr
        got = res.json()["groups"][0]["percentiles"]["departure_to_delivered"]
    seconds = [ms / 1000 for ms in latencies_ms]
    cuts = statistics.quantiles(seconds, n=100, method="inclusive")  # linear interpolation
    assert got["count"] == len(seconds)
    # epoch seconds are doubles near 1.8e9: differences are exact to well under 10 µs
    assert abs(got["max"] - max(seconds)) < 1e-5
    for key, cut in (("p50", cuts[49]), ("p90", cuts[89]), ("p99", cuts[98])):
        assert abs(got[key] - cut) < 1e-5, (key, got[key], cut)
    # verdict follows the threshold on p90
    assert res.json()["groups"][0]["judged"]["downstream"]["abnormal"] == (cuts[89] > 900)
