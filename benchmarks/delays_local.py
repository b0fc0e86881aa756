"""Benchmark the local path of `diagnose delays`: wall time and peak memory as the data grow.

    .venv/bin/python benchmarks/delays_local.py                       # 1M, 3M and 10M events, Parquet
    .venv/bin/python benchmarks/delays_local.py --events 10000000 --format jsonl

Generates seeded feedback events (a downstream delay injected in one campaign)
under --dir (default /tmp/delays-bench, reused between runs), then runs the real
CLI once per size in a fresh process and reports its wall time and peak resident
memory (from wait4), and whether the verdict named the injected campaign.
DuckDB's memory limit is DIAGNOSE_DUCKDB_MEMORY_LIMIT (default 1GB).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from diagnose.delays import generate


def run_once(exe: Path, source: Path) -> tuple[float, int, dict]:
    """(wall seconds, peak RSS bytes, JSON report) of one `diagnose delays` process."""
    started = time.perf_counter()
    with open(os.devnull, "w") as devnull:
        proc = subprocess.Popen(
            [str(exe), "delays", str(source), "--output", "json"],
            stdout=subprocess.PIPE,
            stderr=devnull,
        )
        out = proc.stdout.read() if proc.stdout else b""
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        raise SystemExit(f"diagnose delays exited {code} on {source}")
    return wall, usage.ru_maxrss * 1024, json.loads(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, nargs="+", default=[1_000_000, 3_000_000, 10_000_000])
    parser.add_argument("--format", choices=generate.FORMATS, default="parquet")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/delays-bench"))
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    exe = Path(sys.executable).parent / "diagnose"
    layout = "nested" if args.format == "jsonl" else "flat"
    print(
        f"cores {os.cpu_count()}, DuckDB memory limit {os.environ.get('DIAGNOSE_DUCKDB_MEMORY_LIMIT', '1GB')}"
    )
    print(
        f"{'events':>12} {'file MB':>9} {'generate s':>11} {'wall s':>8} {'peak RSS MB':>12} {'events/s':>12}  verdict"
    )
    for n in args.events:
        spec = generate.Spec(events=n, inject="downstream")
        suffix = {"parquet": "parquet", "jsonl": "jsonl", "csv": "csv"}[args.format]
        path = args.dir / (
            f"fb-{n}.{suffix}" if args.format == "parquet" else f"fb-{n}-{layout}.{suffix}"
        )
        gen = 0.0
        if not path.exists():
            t = time.perf_counter()
            generate.write(path, spec, args.format, layout)
            gen = time.perf_counter() - t
        wall, rss, report = run_once(exe, path)
        injected = generate.summary(spec)["injected_campaign"]
        verdicts = {g["campaign"]: g["verdict"] for g in report["groups"]}
        right = verdicts.get(injected) == "downstream" and all(
            v == "none" for c, v in verdicts.items() if c != injected
        )
        print(
            f"{report['events']:>12,} {path.stat().st_size / 1e6:>9.0f} {gen:>11.1f} {wall:>8.1f} "
            f"{rss / 1e6:>12.0f} {report['events'] / wall:>12,.0f}  "
            f"{'downstream, right campaign' if right else 'WRONG: ' + str(verdicts)}",
            flush=True,
        )


if __name__ == "__main__":
    main()
