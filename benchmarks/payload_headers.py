"""Benchmark `diagnose payload check` on cURL commands with many headers: it must stay linear.

    .venv/bin/python benchmarks/payload_headers.py                  # 10k, 50k and 100k headers
    .venv/bin/python benchmarks/payload_headers.py --headers 200000

Writes a multi-line cURL command (one `-H` per line, as "Copy as cURL" does) under a
temporary folder and runs the real CLI once per size (`--offline`), printing its wall
time. Before line positions were looked up by binary search, each word's line and
column were counted from the start of the text, so the time grew with the square of
the number of headers.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BODY = '{"campaignId":"x","recipients":[{"type":"aep","userId":"a@b.example"}]}'


def curl_text(headers: int) -> str:
    lines = ["curl -X POST 'https://platform.adobe.io/ajo/im/executions/unitary' \\"]
    lines += [f"  -H 'X-Custom-{i}: v{i}' \\" for i in range(headers)]
    lines.append(f"  -d '{BODY}'")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--headers", type=int, action="append")
    sizes = parser.parse_args().headers or [10_000, 50_000, 100_000]
    exe = Path(sys.executable).parent / "diagnose"
    with tempfile.TemporaryDirectory() as folder:
        for size in sizes:
            path = Path(folder) / f"h{size}.sh"
            path.write_text(curl_text(size))
            started = time.perf_counter()
            proc = subprocess.run(
                [str(exe), "payload", "check", "--offline", str(path)],
                capture_output=True,
                check=False,
            )
            wall = time.perf_counter() - started
            print(f"{size:>8} headers  {wall:6.2f} s  exit {proc.returncode}")


if __name__ == "__main__":
    main()
