"""Throughput and memory of `diagnose explain` on large logs, beside GNU grep.

Two logs, generated under a temporary directory (never in the repository):

- **sparse** (SIZE MB, default 512): ordinary lines with a few signatures buried in
  them, at SIZE/4 and at SIZE, to show that memory stays flat as the file grows;
- **dense** (DENSE MB, default 256): an incident, every record a hit: JSON lines
  alternating a Cosmos DB 403/4000 error and the campaign's 500, each with its own
  request id, ActivityId, timestamp and latency;
- **dense-hex** (DENSE MB): the same incident as Application Insights / OpenTelemetry
  write it: bare hex trace and span ids (`operation_Id`, `traceparent`), no UUID.

On each, in the same run and on a warm page cache (the file is read once before
timing): `grep -c -F -f anchors` and `grep -c -F -i -f anchors`, given the literal
anchors of the catalogue's signatures (the prefilter's; diagnose matches them
case-insensitively, so -i is the like-for-like one), then `diagnose explain --output
json` with its peak memory (the summed PSS of its process tree, sampled). With `--baseline DIR` (a checkout of an older
version), that version's `python -m diagnose explain` runs on the same files too.

Throughput is given per CPU second (user + system of the one process: the figure that
does not depend on what else the machine runs) and per wall second; the load average
is printed before and after, since a shared machine makes every figure noisy.

Usage: .venv/bin/python benchmarks/explain_throughput.py [--size-mb 512] [--dense-mb 256]
       [--repeat 3] [--dir /tmp] [--keep] [--baseline DIR] [--only sparse|dense|dense-hex]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from diagnose.catalogue import load
from diagnose.triage.signatures import compile_catalogue

ROOT = Path(__file__).resolve().parents[1]
DIAGNOSE = ROOT / ".venv" / "bin" / "diagnose"

SERVICES = ["checkout", "orders", "profile-sync", "segment-eval", "mailer", "gateway", "cdn-edge"]
PATHS = ["/api/v2/orders/{n}", "/api/v2/carts/{n}", "/health", "/api/v1/profiles/{n}/merge"]
TEMPLATES = [
    "{ts} INFO  [{svc}] GET {path} status=200 latency_ms={ms} bytes={b} region=westeurope",
    "{ts} DEBUG [{svc}] cache lookup key=profile:{n} hit=true age_s={ms}",
    '{{"ts":"{ts}","level":"INFO","svc":"{svc}","msg":"job finished","job":"j-{n}","dur_ms":{ms}}}',
    "{ts} WARN  [{svc}] slow query on table events_{b} took {ms} ms (threshold 250 ms)",
    "{ts} INFO  [{svc}] POST {path} status=201 latency_ms={ms} user=u{n}",
    "    at com.example.{svc}.Handler.process(Handler.java:{b})",
]
BURIED = [
    "{ts} ERROR [ajo-runtime] POST https://platform.adobe.io/ajo/im/executions/unitary returned 500 "
    '{{"type":"https://ns.adobe.com/aep/errors/MSG-000500-500","title":"Internal Server Error","status":500}}',
    "{ts} ERROR [ajo-runtime] Microsoft.Azure.Cosmos.CosmosException : Response status code does not "
    "indicate success: Forbidden (403); Substatus: 4000; ActivityId: 5f1d2c3b; Reason: (Access to your "
    "account is currently revoked because the Azure Cosmos DB service is unable to obtain the AAD "
    "authentication token for the account's default identity);",
    '{ts} ERROR [msal] {{"error":"unauthorized_client","error_description":"AADSTS7000112: Application '
    '\'9f1c2d3e\'(id-cosmos-cmk) is disabled.","error_codes":[7000112]}}',
]


def anchors() -> list[str]:
    return sorted({a for s in compile_catalogue(load()) for a in s.anchors})


NEAR_MISS = (
    "{ts} INFO  [ajo-runtime] POST https://platform.adobe.io/ajo/im/executions/unitary "
    "status=202 latency_ms={ms} executionId=UMA-{n}"
)


DENSE_COSMOS = (
    '{{"timestamp":"{ts}","level":"ERROR","logger":"com.azure.cosmos","requestId":"{rid}",'
    '"msg":"Microsoft.Azure.Cosmos.CosmosException : Response status code does not indicate '
    "success: Forbidden (403); Substatus: 4000; ActivityId: {aid}; Reason: (Access to your "
    "account is currently revoked because the Azure Cosmos DB service is unable to obtain the "
    "AAD authentication token for the account's default identity);\"}}"
)
DENSE_CALL = (
    '{{"timestamp":"{ts}","level":"ERROR","logger":"ajo-runtime","x-request-id":"{rid}",'
    '"msg":"POST https://platform.adobe.io/ajo/im/executions/unitary returned 500","body":'
    '{{"type":"https://ns.adobe.com/aep/errors/MSG-000500-500","title":"Internal Server Error",'
    '"status":500}},"latency_ms":{ms}}}'
)

# The same incident as Application Insights / OpenTelemetry write it: a bare 32-hex trace
# id (`operation_Id`, the W3C trace-id), a 16-hex span id (`operation_ParentId`), the
# `traceparent` header (`00-<32 hex>-<16 hex>-01`) and an ActivityId without hyphens on
# every line, no UUID. https://www.w3.org/TR/trace-context/#traceparent-header ;
# https://learn.microsoft.com/azure/azure-monitor/app/distributed-trace-data ;
# https://github.com/microsoft/ApplicationInsights-dotnet/issues/1338 (operation id = trace id)
DENSE_HEX_COSMOS = (
    '{{"timestamp":"{ts}","level":"ERROR","logger":"com.azure.cosmos","operation_Id":"{trace}",'
    '"operation_ParentId":"{span}","msg":"Microsoft.Azure.Cosmos.CosmosException : Response status '
    "code does not indicate success: Forbidden (403); Substatus: 4000; ActivityId: {aid}; Reason: "
    "(Access to your account is currently revoked because the Azure Cosmos DB service is unable "
    "to obtain the AAD authentication token for the account's default identity);\"}}"
)
DENSE_HEX_CALL = (
    '{{"timestamp":"{ts}","level":"ERROR","logger":"ajo-runtime","operation_Id":"{trace}",'
    '"traceparent":"00-{trace}-{span}-01","msg":"POST https://platform.adobe.io/ajo/im/executions/'
    'unitary returned 500","body":{{"type":"https://ns.adobe.com/aep/errors/MSG-000500-500",'
    '"title":"Internal Server Error","status":500}},"latency_ms":{ms}}}'
)


BASELINE_DENSE_MB = 32


def generate_dense(path: Path, size: int, seed: int = 11, hex_ids: bool = False) -> int:
    """Write about `size` bytes of an incident log, every line a hit; the number of lines.
    `hex_ids`: trace and span ids written as bare hex (`DENSE_HEX_*`), not UUIDs."""
    rng = random.Random(seed)
    start = 1_795_662_000_000  # 2026-11-26T03:00:00Z, in milliseconds
    written = lines = 0
    with path.open("w", encoding="ascii") as out:
        while written < size:
            batch = []
            for _ in range(4096):
                millis = start + lines * 37
                ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis // 1000))
                ts += f".{millis % 1000:03d}Z"
                if hex_ids:
                    trace, span = f"{rng.getrandbits(128):032x}", f"{rng.getrandbits(64):016x}"
                    if lines % 2 == 0:
                        aid = f"{rng.getrandbits(128):032x}"
                        batch.append(
                            DENSE_HEX_COSMOS.format(ts=ts, trace=trace, span=span, aid=aid)
                        )
                    else:
                        ms = rng.randrange(2000)
                        batch.append(DENSE_HEX_CALL.format(ts=ts, trace=trace, span=span, ms=ms))
                    lines += 1
                    continue
                rid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                if lines % 2 == 0:
                    aid = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                    batch.append(DENSE_COSMOS.format(ts=ts, rid=rid, aid=aid))
                else:
                    batch.append(DENSE_CALL.format(ts=ts, rid=rid, ms=rng.randrange(2000)))
                lines += 1
            chunk = "\n".join(batch) + "\n"
            out.write(chunk)
            written += len(chunk)
    return lines


def generate(path: Path, size: int, seed: int = 7, near_miss: float = 0.0) -> int:
    """Write about `size` bytes of log with the BURIED lines at a few places; their count.

    `near_miss` is the share of lines that hold an anchor but match no signature (202
    execution calls), the prefilter's worst realistic case.
    """
    rng = random.Random(seed)
    literals = anchors()
    pool: list[str] = []
    while len(pool) < 20_000:
        t = rng.choice(TEMPLATES)
        n = rng.randrange(10**6)
        line = t.format(
            ts=f"2026-11-26T{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}.{rng.randrange(1000):03d}Z",
            svc=rng.choice(SERVICES),
            path=rng.choice(PATHS).format(n=n),
            ms=rng.randrange(2000),
            b=rng.randrange(10**5),
            n=n,
        )
        if not any(a in line.lower() for a in literals):  # filler never holds an anchor
            pool.append(line + "\n")
        if near_miss and rng.random() < near_miss:
            pool.append(NEAR_MISS.format(ts="2026-11-26T02:00:00.000Z", ms=n % 900, n=n) + "\n")
    chunk = "".join(pool).encode()
    places = sorted(rng.randrange(size) for _ in range(5))
    written, buried = 0, 0
    with path.open("wb") as out:
        while written < size:
            out.write(chunk)
            written += len(chunk)
            while places and places[0] < written:
                places.pop(0)
                for line in BURIED:
                    out.write((line.format(ts="2026-11-26T03:00:00.000Z") + "\n").encode())
                    buried += 1
    return buried


def _tree(pid: int) -> list[int]:
    """`pid` and its descendants (Linux /proc)."""
    found, todo = [], [pid]
    while todo:
        each = todo.pop()
        found.append(each)
        try:
            with open(f"/proc/{each}/task/{each}/children") as handle:
                todo += [int(c) for c in handle.read().split()]
        except OSError:
            pass
    return found


def _pss_kib(pid: int) -> int:
    """The process's proportional set size: its private pages, and its share of pages it shares
    (a forked part shares the parent's compiled catalogue): summed over a tree, counted once."""
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def timed(cmd: list[str], cwd: str | None = None) -> tuple[float, float, int, str]:
    """Wall seconds, CPU seconds (user + system), peak memory in MiB, stdout.

    CPU includes the child's own children (`env` runs python; explain's parts), via wait4. Memory
    is the peak, sampled every 20 ms, of the summed PSS of the whole process tree (explain reads
    a large incident file in forked parts: wait4's max RSS is one process's, and summed RSS counts
    the pages they share once per process); where /proc has no PSS, wait4's max RSS.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, cwd=cwd)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stdout.read()), daemon=True)
    reader.start()
    peak_kib = 0
    while reader.is_alive():
        peak_kib = max(peak_kib, sum(_pss_kib(p) for p in _tree(proc.pid)))
        reader.join(0.02)
    _, _, usage = os.wait4(proc.pid, 0)
    proc.returncode = 0
    elapsed = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    memory = -(-peak_kib // 1024) if peak_kib else usage.ru_maxrss // 1024  # MiB, rounded up
    return elapsed, cpu, memory, b"".join(chunks).decode(errors="replace")


def best_of(cmd: list[str], repeat: int, cwd: str | None = None) -> tuple[float, float, int, str]:
    """The run with the least CPU time (the machine may be shared), its wall time and peak memory."""
    runs = [timed(cmd, cwd) for _ in range(repeat)]
    return min(runs, key=lambda r: r[1])


def explain_note(out: str, expected: str) -> str:
    doc = json.loads(out)
    codes = ", ".join(f"{c} {n}" for c, n in doc["counts"].items())
    corr = doc.get("correlation")
    linked = f"; 500s: {corr['co_occurring']} co-occurring, {corr['linked']} linked" if corr else ""
    return f"{sum(doc['counts'].values())} matches ({expected}): {codes}{linked}"


def measure(
    log: Path, anchor_file: Path, repeat: int, baseline: str | None, expected: str
) -> list[tuple[str, float, float, float, int, str]]:
    """(command, MB/s per CPU second, MB/s wall, CPU s, peak MiB, result) on one file."""
    size = log.stat().st_size
    subprocess.run(["cat", str(log)], stdout=subprocess.DEVNULL, check=True)  # warm cache
    commands = [
        ("grep -c -F", ["grep", "-c", "-F", "-f", str(anchor_file), str(log)]),
        ("grep -c -F -i", ["grep", "-c", "-F", "-i", "-f", str(anchor_file), str(log)]),
        ("diagnose explain", [str(DIAGNOSE), "explain", "--output", "json", str(log)]),
    ]
    if baseline:
        commands.append(
            (
                "baseline explain",
                [
                    "env",
                    f"PYTHONPATH={baseline}",
                    sys.executable,
                    "-m",
                    "diagnose",
                    "explain",
                    "--output",
                    "json",
                    str(log),
                ],
            )
        )
    rows = []
    for label, cmd in commands:
        seconds, cpu, rss, out = best_of(
            cmd, repeat, cwd=baseline if label.startswith("base") else None
        )
        note = out.strip() if label.startswith("grep") else explain_note(out, expected)
        rows.append((label, size / cpu / 1e6, size / seconds / 1e6, cpu, rss, note))
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mb", type=int, default=512, help="the sparse log (default 512)")
    parser.add_argument("--dense-mb", type=int, default=256, help="the dense log (default 256)")
    parser.add_argument(
        "--only",
        choices=["sparse", "dense", "dense-hex"],
        help="one of the logs (dense-hex: the dense one with bare hex trace and span ids)",
    )
    parser.add_argument("--dir", default=None, help="where to write the logs (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="keep the generated files")
    parser.add_argument("--repeat", type=int, default=3, help="runs per command (best CPU kept)")
    parser.add_argument("--baseline", help="a checkout of an older version, timed alongside")
    parser.add_argument(
        "--near-miss",
        type=float,
        default=0.0,
        help="share of sparse lines holding an anchor but no signature, e.g. 0.01 (default 0)",
    )
    args = parser.parse_args()
    if not shutil.which("grep"):
        print("GNU grep is needed for the comparison", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="diagnose-bench-", dir=args.dir))
    try:
        anchor_file = work / "anchors.txt"
        anchor_file.write_text("\n".join(anchors()) + "\n")
        print(f"catalogue anchors: {len(anchors())} literals; {work}")
        print(f"load average before: {_load()} on {os.cpu_count()} CPUs")
        rows = []
        if args.only in (None, "sparse"):
            for size_mb in (max(1, args.size_mb // 4), args.size_mb):
                log = work / f"sparse-{size_mb}mb.log"
                buried = generate(log, size_mb << 20, near_miss=args.near_miss)
                for row in measure(
                    log, anchor_file, args.repeat, args.baseline, f"{buried} buried"
                ):
                    rows.append((f"sparse {size_mb}MB", *row))
                if not args.keep:
                    log.unlink()
        dense_cases = [c for c in ("dense", "dense-hex") if args.only in (None, c)]
        for case in dense_cases:
            log = work / f"{case}-{args.dense_mb}mb.log"
            lines = generate_dense(log, args.dense_mb << 20, hex_ids=case == "dense-hex")
            baseline = args.baseline if args.dense_mb <= BASELINE_DENSE_MB else None
            if args.baseline and not baseline:
                print(
                    f"(the baseline is not run on the dense log above {BASELINE_DENSE_MB} MB: "
                    f"at about 1 MB/s it would take minutes; run --only dense --dense-mb 16)"
                )
            for row in measure(log, anchor_file, args.repeat, baseline, f"{lines} lines"):
                rows.append((f"{case} {args.dense_mb}MB", *row))
            if not args.keep:
                log.unlink()
        print(f"load average after: {_load()}")
        print(
            f"{'file':>16}  {'command':<18} {'MB/s CPU':>9} {'MB/s wall':>10} {'CPU s':>7} "
            f"{'peak MiB':>12}  result"
        )
        for name, label, rate, wall_rate, cpu, rss, note in rows:
            print(
                f"{name:>16}  {label:<18} {rate:>9.0f} {wall_rate:>10.0f} {cpu:>7.2f} "
                f"{rss:>12}  {note}"
            )
        for name in dict.fromkeys(r[0] for r in rows):
            by = {r[1]: r for r in rows if r[0] == name}
            ex, grep, grep_i = by["diagnose explain"], by["grep -c -F"], by["grep -c -F -i"]
            print(
                f"{name}: explain / grep -F: {ex[2] / grep[2]:.2f} per CPU second, "
                f"{ex[3] / grep[3]:.2f} wall; explain / grep -F -i: {ex[2] / grep_i[2]:.2f} CPU"
                + (
                    f"; explain / baseline: {ex[2] / by['baseline explain'][2]:.2f} CPU"
                    if "baseline explain" in by
                    else ""
                )
            )
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


def _load() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


if __name__ == "__main__":
    sys.exit(main())
