"""The use case's progress callback (what `diagnose explain` shows while it reads)."""

from __future__ import annotations

import gzip
from pathlib import Path

from diagnose.catalogue import load
from diagnose.triage.inputs import BLOCK_SIZE
from diagnose.usecases.explain import Progress, explain

LINE = b"2026-11-26T03:04:05Z INFO request completed status=200 latency_ms=41\n"


def test_progress_is_told_after_each_block_and_at_the_end(tmp_path: Path) -> None:
    path = tmp_path / "app.log"
    path.write_bytes(LINE * (3 * BLOCK_SIZE // len(LINE)))
    seen: list[Progress] = []
    explain([str(path)], load(), on_progress=seen.append)
    size = path.stat().st_size
    assert {p.source for p in seen} == {str(path)} and {p.size for p in seen} == {size}
    reads = [p.read for p in seen]
    assert reads == sorted(reads) and reads[-1] == size and len(reads) >= 3
    assert [p.done for p in seen] == [False] * (len(seen) - 1) + [True]


def test_a_gzip_file_is_measured_in_its_compressed_bytes(tmp_path: Path) -> None:
    path = tmp_path / "app.log.gz"
    path.write_bytes(gzip.compress(LINE * 50_000))
    seen: list[Progress] = []
    explain([str(path)], load(), on_progress=seen.append)
    assert seen[-1].done and seen[-1].read == seen[-1].size == path.stat().st_size
