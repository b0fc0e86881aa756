"""A large file read in parts, one process each, gives the one-pass document exactly.

The parts are cut at arbitrary line starts (a small PART_MIN makes cuts fall inside
stack traces, HTTP messages, JSON documents and incident runs); ids shared across a cut
link as in one pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from diagnose.catalogue import load
from diagnose.render.explanation import to_document
from diagnose.triage import parts
from diagnose.usecases import explain as explain_module
from diagnose.usecases.explain import Progress, explain

from .test_fastpath import _log

CATALOGUE = load()

pytestmark = pytest.mark.skipif(not parts.can_fork(), reason="parts are forked processes (Linux)")


def _parts_runs(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """A fresh list that each call of `parts.run` appends its number of parts to."""
    runs: list[int] = []
    real_run = parts.run

    def counted(work: Any, n: int, told: Any) -> Any:
        runs.append(n)
        return real_run(work, n, told)

    monkeypatch.setattr(parts, "run", counted)
    return runs


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**32), count=st.integers(2, 4), size=st.integers(20, 200))
def test_parts_give_the_one_pass_document(
    seed: int, count: int, size: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parts, "PART_MIN", 64)
    # every file counts as an incident log here (only those are read in parts)
    monkeypatch.setattr(explain_module, "_dense", lambda path, scanner: True)
    runs = _parts_runs(monkeypatch)
    path = tmp_path / f"app-{seed}.log"
    data = b"".join(_log(seed + k, size) for k in range(3))
    path.write_bytes(data if seed % 2 else data.rstrip(b"\n"))  # with and without a last newline
    one = to_document(explain([str(path)], CATALOGUE, parts=1))
    seen: list[Progress] = []
    split = to_document(explain([str(path)], CATALOGUE, parts=count, on_progress=seen.append))
    assert split == one
    assert runs and runs[-1] >= 2, "the file was not read in parts"
    assert seen and seen[-1].done and seen[-1].read == path.stat().st_size


def test_only_an_incident_log_is_read_in_parts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sparse log is read in one pass (at grep's pace already); a dense one in parts."""
    monkeypatch.setattr(parts, "PART_MIN", 64)
    runs = _parts_runs(monkeypatch)
    sparse = tmp_path / "sparse.log"
    sparse.write_bytes(b"2026-11-26T03:04:05Z INFO request completed status=200\n" * 5000)
    explain([str(sparse)], CATALOGUE, parts=2)
    assert runs == []
    dense = tmp_path / "dense.log"
    dense.write_bytes(b"".join(_log(seed, 100) for seed in range(6)))
    one = to_document(explain([str(dense)], CATALOGUE, parts=1))
    assert to_document(explain([str(dense)], CATALOGUE, parts=2)) == one and runs == [2]


def test_the_cuts_fall_at_line_starts_and_the_context_reaches_back(tmp_path: Path) -> None:
    path = tmp_path / "lines.log"
    path.write_bytes(b"".join(b"line %d\n" % i for i in range(5000)))
    data = path.read_bytes()
    ranges = parts.cut(str(path), len(data), 3)
    assert ranges[0][0] == 0 and ranges[-1][1] == len(data)
    for (_, hi), (lo, _) in zip(ranges, ranges[1:], strict=False):
        assert hi == lo and data[lo - 1 : lo] == b"\n"
    lo = ranges[1][0]
    start = parts.context_start(str(path), lo)
    assert data[start - 1 : start] == b"\n" and data.count(b"\n", start, lo) == parts.LOOKBACK
    assert parts.newlines(str(path), 0, lo) == data.count(b"\n", 0, lo)
