"""Benchmark `diagnose run --all` against a throttled fleet: accounts decided inside --timeout.

    .venv/bin/python benchmarks/fleet_throttled.py                       # fleet-throttled:150 and :300, 30 s
    .venv/bin/python benchmarks/fleet_throttled.py --sizes 50 --timeout 20

`fleet-throttled:N` answers ARM reads from a bucket of 20 per subscription and principal refilled 5
a second, and Resource Graph 1 query per 5 s (docs/lab.md "Fleet"). The real CLI runs in a fresh
process (`--lab`, so the lab runs inside it); the figures are its report's: accounts decided
(healthy or failing) and undecided (with the commonest reasons), the time ARM reads waited for
their subscription (client-side pacing, diagnose/fleet/pacing.py) and the 429s that paused one.
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


def run_case(exe: Path, size: int, timeout: float, concurrency: int) -> dict[str, object]:
    env = {**os.environ, "DIAGNOSE_LAB_PROPAGATION_S": "0.05"}
    args = [
        str(exe),
        "run",
        "--all",
        "--lab",
        f"fleet-throttled:{size}",
        "--timeout",
        f"{timeout:g}",
    ]
    args += ["--concurrency", str(concurrency), "-o", "json"]
    started = time.perf_counter()
    proc = subprocess.run(args, capture_output=True, env=env, timeout=timeout + 120, check=False)
    wall = time.perf_counter() - started
    doc = json.loads(proc.stdout)
    status = Counter(a["status"] for a in doc["accounts"])
    reasons = Counter(
        (a.get("reason") or "")[:60] for a in doc["accounts"] if a["status"] == "undecided"
    )
    pacing = doc.get("pacing", {})
    return {
        "accounts": size,
        "timeout_s": timeout,
        "exit": proc.returncode,
        "wall_s": round(wall, 1),
        "decided": status["healthy"] + status["failing"],
        "undecided": status["undecided"],
        "arm_wait_s": round(pacing.get("arm_wait_ms", 0) / 1000, 1) if pacing else "-",
        "arm_pauses": pacing.get("arm_pauses", "-") if pacing else "-",
        "top_reason": reasons.most_common(1)[0][0] if reasons else "",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[150, 300])
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=16)
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("diagnose")
    rows = [run_case(exe, n, args.timeout, args.concurrency) for n in args.sizes]
    keys = list(rows[0])
    print(" | ".join(keys))
    for row in rows:
        print(" | ".join(str(row[k]) for k in keys))


if __name__ == "__main__":
    main()
