"""Start-up time of `diagnose --help` / `diagnose checks`, and the wall time of a full run against the lab.

Usage: python benchmarks/run_walltime.py [--runs N]

The lab adds --latency-ms to every response; the difference between the wall
time at 300 ms and at 0 ms, divided by 0.3 s, is the number of round trips the
run makes one after another (its critical path). A naive walk needs over 15.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from diagnose.lab import Lab


def timed(args: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True, timeout=300)
    elapsed = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"{' '.join(args)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", default="healthy")
    opts = parser.parse_args()
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DIAGNOSE_", "AZURE_"))}
    exe = [sys.executable, "-m", "diagnose"]

    for args in (["--help"], ["checks"]):
        times = [timed([*exe, *args], base) for _ in range(opts.runs)]
        print(
            f"diagnose {' '.join(args):<8} start-up: median {statistics.median(times) * 1000:.0f} ms, "
            f"min {min(times) * 1000:.0f} ms over {opts.runs} runs"
        )

    walls: dict[int, float] = {}
    fastest: dict[int, float] = {}
    for latency in (0, 300):
        with Lab(opts.scenario, latency_ms=latency) as lab:
            env = {**base, **lab.env}
            times = [timed([*exe, "run", "--output", "json"], env) for _ in range(opts.runs)]
        walls[latency] = statistics.median(times)
        fastest[latency] = min(times)
        print(
            f"diagnose run (lab {opts.scenario}, --latency-ms {latency:>3}): median {walls[latency]:.2f} s, "
            f"min {min(times):.2f} s over {opts.runs} runs"
        )
    serial = (walls[300] - walls[0]) / 0.3
    serial_min = (fastest[300] - fastest[0]) / 0.3
    print(
        f"serial round trips on the critical path: {serial:.1f} from medians, {serial_min:.1f} from "
        "minima (aim: 5 or fewer; a naive walk needs over 15; load on the machine skews both)"
    )


if __name__ == "__main__":
    main()
