"""Benchmark `diagnose run --all`: wall time, peak memory and requests per account as the fleet grows.

    .venv/bin/python benchmarks/fleet.py                          # fleet:10, 100, 1000 at 0 and 100 ms
    .venv/bin/python benchmarks/fleet.py --sizes 100 --latency 100 --concurrency 16 64

The lab (`fleet:N`, ARM's per-subscription read bucket and Resource Graph's quota on, as
published) runs in this process; the real CLI runs in a fresh process per case, and its wall
time and peak resident memory come from wait4. Requests are what the lab received, per account;
"shared read twice" counts ARM GETs of a vault or key path, or Graph GETs of a principal, made
more than once (the aim: 0, each shared resource read once). Latency is added to every answer.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from diagnose.lab import Lab


def run_case(exe: Path, size: int, latency_ms: float, concurrency: int) -> dict[str, object]:
    with Lab(f"fleet:{size}", latency_ms=latency_ms, propagation_s=0.05) as lab:
        env = {**os.environ, **lab.env}
        started = time.perf_counter()
        args = [
            str(exe),
            "run",
            "--all",
            "--concurrency",
            str(concurrency),
            "--timeout",
            "600",
            "-o",
            "json",
        ]
        with open(os.devnull, "w") as devnull:
            proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=devnull, env=env)
            out = proc.stdout.read() if proc.stdout else b""
            _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - started
        code = os.waitstatus_to_exitcode(status)
        doc = json.loads(out)
        records = lab.requests
        shared = Counter(
            r.path.lower()
            for r in records
            if r.method == "GET"
            and (
                (
                    r.service == "arm"
                    and ("/vaults/" in r.path.lower())
                    and "/providers/microsoft.authorization/" not in r.path.lower()
                )
                or (r.service == "graph" and "servicePrincipals(" in r.path)
            )
        )
        return {
            "accounts": size,
            "latency_ms": latency_ms,
            "concurrency": concurrency,
            "exit": code,
            "wall_s": round(wall, 2),
            "peak_mb": round(usage.ru_maxrss / 1024, 1),
            "requests": len(records),
            "per_account": round(len(records) / size, 2),
            "shared_read_twice": sum(1 for n in shared.values() if n > 1),
            "failing": doc["summary"]["failing"],
            "undecided": doc["summary"]["undecided"],
            "quota_wait_ms": doc["inventory"]["quota_wait_ms"],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--latency", type=float, nargs="+", default=[0, 100])
    parser.add_argument("--concurrency", type=int, nargs="+", default=[16])
    args = parser.parse_args()
    exe = Path(sys.executable).parent / "diagnose"
    columns = [
        "accounts",
        "latency_ms",
        "concurrency",
        "exit",
        "wall_s",
        "peak_mb",
        "requests",
        "per_account",
        "shared_read_twice",
        "failing",
        "undecided",
        "quota_wait_ms",
    ]
    print(" | ".join(columns))
    for latency in args.latency:
        for size in args.sizes:
            for concurrency in args.concurrency:
                row = run_case(exe, size, latency, concurrency)
                print(" | ".join(str(row[c]) for c in columns), flush=True)


if __name__ == "__main__":
    main()
