"""What `delays --plot` costs: planning the chart, writing SVG and PNG, the PNG's size, Pillow's import.

    .venv/bin/python benchmarks/plot_render.py                 # 12,000 events, an upstream delay
    .venv/bin/python benchmarks/plot_render.py --events 1000000 --campaigns 8

Generates seeded feedback events under --dir (reused between runs), runs the analysis
once with its timeline, then times each output `--repeat` times (best of) and prints
the figures. Pillow's import time is measured in a fresh interpreter.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from diagnose.delays import generate, plot
from diagnose.delays.analysis import Filters
from diagnose.delays.verdict import Thresholds
from diagnose.usecases.delays import Request, build, campaign_verdicts


def best_of(repeat: int, work: object) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        work()  # type: ignore[operator]
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=12_000)
    parser.add_argument("--campaigns", type=int, default=4)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "plot-bench")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    spec = generate.Spec(events=args.events, campaigns=args.campaigns, inject="upstream", seed=11)
    source = args.dir / f"up-{args.events}-{args.campaigns}.parquet"
    if not source.exists():
        generate.write(source, spec, "parquet", "flat")
    report = build(Request(str(source), Filters(), Thresholds(), plot=args.dir / "x.svg"))
    points, verdicts = report.analysis.timeline, campaign_verdicts(report.analysis)
    print(f"{report.analysis.events:,} events, {len(points)} timeline points")

    def chart() -> None:
        plot.chart(points, Thresholds(), "bench", verdicts)

    print(f"plan:        {best_of(args.repeat, chart) * 1000:8.1f} ms")
    for suffix in (".svg", ".html", ".png"):
        target = args.dir / f"bench{suffix}"

        def write(target: Path = target) -> None:
            plot.write(target, points, Thresholds(), "bench", "", verdicts)

        seconds = best_of(args.repeat, write)
        print(
            f"write {suffix:5}: {seconds * 1000:8.1f} ms, {target.stat().st_size / 1024:7.1f} KiB"
        )
    probe = "import time; t = time.perf_counter(); import diagnose.delays.png; print(time.perf_counter() - t)"
    imports = [
        float(
            subprocess.run(
                [sys.executable, "-c", probe], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(args.repeat)
    ]
    print(
        f"import of the PNG painter (Pillow): {min(imports) * 1000:.1f} ms (best of {args.repeat})"
    )


if __name__ == "__main__":
    main()
